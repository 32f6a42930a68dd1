"""Every change kind as one structured change per PO line, checked against the Odoo sandbox: the issue's
examples exactly, substitutions matched to Odoo products, the vendor's own order number, tracking with its
carrier, and the proposals each richer change leads to."""

from __future__ import annotations

from datetime import date
from typing import Any

from copilot.approvals import proposals_from_supplier_email
from copilot.approvals.schemas import ActionType
from copilot.email import parse_email
from copilot.skills.supplier_email import ChangeKind, EmailReference, SupplierEmailSummary, summarize_supplier_email
from tests.unit._supplier_fixtures import sandbox_client

K = ChangeKind
EDWIN = "Edwin Hansen <edwin.hansen58@example.com>"  # Gemini Furniture: P00002, P00009
RON = "Ron Gibson <ron.gibson76@example.com>"  # Wood Corner: P00001, P00006, P00008
KIM = "Kim Snyder <kim.snyder96@example.com>"  # Ready Mat: P00004, P00007, P00012
BRANDON = "Brandon Freeman <brandon.freeman55@example.com>"  # Azure Interior: P00010


def summarize(sender: str, text: str, subject: str = "Your order") -> tuple[SupplierEmailSummary, list[Any]]:
    mail = parse_email(f"From: {sender}\nSubject: {subject}\nDate: Wed, 25 Nov 2026 10:00:00 +0000\n\n{text}".encode())
    client = sandbox_client()
    summary = summarize_supplier_email(mail, client=client)
    return summary, proposals_from_supplier_email(summary, client)


def shape(summary: SupplierEmailSummary) -> list[tuple[Any, ...]]:
    return [(c.kind, c.po_name, c.line_id) for c in summary.changes]


# -- the issue's examples ---------------------------------------------------------------------------
def test_issue_partial_shipment_backorder_date_and_ups_tracking() -> None:
    s, proposals = summarize(
        EDWIN,
        "Hi Mitchell, for P00009 we shipped 12 of the 20 Large Desks today. The remaining 8 follow next week, "
        "expected 2026-12-15 (tracking 1Z999AA10123456784, UPS).",
    )
    [c] = s.changes
    assert (c.kind, c.po_name, c.line_id, c.product_code) == (K.PARTIAL_SHIPMENT, "P00009", 19, "E-COM09")
    assert (c.email_quantity.value, c.backorder_quantity.value, c.odoo_quantity.value) == (12, 8, 20)
    assert (c.email_date, c.consistent_with_odoo) == (date(2026, 12, 15), True)
    assert s.references == [EmailReference(kind="tracking", value="1Z999AA10123456784", carrier="ups")]
    # partial -> the backorder is rescheduled to its date
    assert [(p.action_type, p.target.display_name, p.payload.new_date.date()) for p in proposals] == [
        (ActionType.RESCHEDULE_PO_LINE, "P00009 / [E-COM09] Large Desk", date(2026, 12, 15))
    ]


def test_issue_price_change_from_old_to_new_per_unit() -> None:
    s, proposals = summarize(BRANDON, "Mitchell, for P00010 our price goes from 250.50 to 275.00 per unit.")
    [c] = s.changes
    assert (c.kind, c.po_name, c.line_id) == (K.PRICE_CHANGE, "P00010", 21)
    # Odoo buys this line by the dozen at 250.50: the supplier's "unit" is the line's unit, not a piece
    assert (c.odoo_price.amount, c.email_price.amount, c.email_price.per) == (250.5, 275.0, "Dozens")
    assert (c.delta.price, c.consistent_with_odoo) == (24.5, True)
    assert [(p.action_type, p.payload.new_price) for p in proposals] == [(ActionType.ACCEPT_PRICE_CHANGE, 275.0)]


def test_issue_short_quantity_with_the_rest_cancelled() -> None:
    s, _ = summarize(KIM, "Hi, for P00007 we can only supply 10 Office Lamps (15 ordered), rest cancelled.")
    [c] = s.changes
    assert (c.kind, c.po_name, c.line_id) == (K.SHORT_QUANTITY, "P00007", 16)
    assert (c.email_quantity.value, c.odoo_quantity.value, c.consistent_with_odoo) == (10, 15, True)
    assert (c.cancelled_quantity.value if c.cancelled_quantity else None, c.backorder_quantity) == (5, None)
    assert "5 Units cancelled" in c.note


def test_issue_short_quantity_literal_example() -> None:
    s, _ = summarize(EDWIN, "Hi, for P00009 we can only supply 6 Large Desks (10 ordered), rest cancelled.")
    [c] = s.changes
    assert (c.kind, c.po_name, c.line_id, c.email_quantity.value) == (K.SHORT_QUANTITY, "P00009", 19, 6)
    assert c.consistent_with_odoo is False  # Odoo has 20 on order, the email says 10
    assert c.cancelled_quantity is not None and c.cancelled_quantity.value == 14


def test_issue_substitution_is_not_a_cancellation() -> None:
    s, proposals = summarize(
        RON,
        "We have to cancel the Office Chair on P00006 and replace it with the Office Chair Black at the same price.",
    )
    assert shape(s) == [(K.SUBSTITUTION, "P00006", 13)]
    [c] = s.changes
    assert (c.product_code, c.substitute_code) == ("FURN_7777", "FURN_0269")
    assert c.substitute is not None and c.substitute.name == "[FURN_0269] Office Chair Black"
    [p] = proposals
    assert (p.action_type, p.target.display_name) == (
        ActionType.SUBSTITUTE_PRODUCT,
        "P00006 / [FURN_7777] Office Chair",
    )
    assert (p.payload.old_product_id, p.payload.new_product_id) == (c.product.id, c.substitute.id)


# -- other kinds ------------------------------------------------------------------------------------
def test_substitution_by_code_without_a_price() -> None:
    s, proposals = summarize(
        RON,
        "The [FURN_7777] Office Chair on P00006 is discontinued. We can deliver the [FURN_0269] Office Chair Black "
        "instead.",
    )
    [c] = s.changes
    assert (c.kind, c.line_id, c.substitute_code, c.email_price) == (K.SUBSTITUTION, 13, "FURN_0269", None)
    assert c.substitute is not None and c.substitute.name.startswith("[FURN_0269]")
    assert [p.action_type for p in proposals] == [ActionType.SUBSTITUTE_PRODUCT]


def test_a_substitute_unknown_to_odoo_is_kept_without_a_proposal() -> None:
    s, proposals = summarize(
        RON,
        "The [FURN_7777] Office Chair on P00006 is discontinued; as a replacement we offer the [ZX-900] Ergo Chair.",
    )
    [c] = s.changes
    assert (c.kind, c.substitute_code, c.substitute) == (K.SUBSTITUTION, "ZX-900", None)
    assert proposals == []


def test_confirmation_with_the_vendors_order_number_once_per_po() -> None:
    s, _ = summarize(KIM, "We confirm your order P00004. Our order confirmation no. AB-20931 is attached.")
    assert shape(s) == [(K.CONFIRMATION, "P00004", None)]
    assert EmailReference(kind="vendor_order", value="AB-20931") in s.references


def test_confirmation_in_german_with_the_vendors_order_number() -> None:
    s, _ = summarize(KIM, "Wir bestätigen Ihre Bestellung P00004, unsere Auftragsbestätigung Nr. AB-20931.")
    assert shape(s) == [(K.CONFIRMATION, "P00004", None)]
    assert [r.value for r in s.references if r.kind == "vendor_order"] == ["AB-20931"]


def test_several_pos_and_lines_each_get_their_own_change() -> None:
    s, proposals = summarize(
        KIM,
        "P00004: the Office Lamps ship on December 10, 2026 and the Flipover on December 12, 2026.\n"
        "P00012: the Acoustic Bloc Screens ship on December 11, 2026.",
    )
    assert [(c.kind, c.po_name, c.line_id, c.email_date) for c in s.changes] == [
        (K.NEW_DATE, "P00004", 7, date(2026, 12, 10)),
        (K.NEW_DATE, "P00004", 8, date(2026, 12, 12)),
        (K.NEW_DATE, "P00012", 25, date(2026, 12, 11)),
    ]
    assert len(proposals) == 3


def test_a_line_named_with_a_typo_is_matched_fuzzily() -> None:
    s, _ = summarize(KIM, "For P00004 the price of the Flipovr changes from $1,690.00 to $1,780.00.")
    assert [(c.kind, c.line_id, c.email_price.amount) for c in s.changes] == [(K.PRICE_CHANGE, 8, 1780.0)]


def test_payment_hold_with_its_amount() -> None:
    s, proposals = summarize(KIM, "P00004: we require a prepayment of $4,000.00 before we can ship.")
    [c] = s.changes
    assert (c.kind, c.po_name, c.email_price.amount) == (K.PAYMENT_HOLD, "P00004", 4000.0)
    assert proposals == []


def test_tracking_with_a_carrier_in_french() -> None:
    s, _ = summarize(KIM, "La commande P00004 est partie aujourd'hui avec DHL, numéro de suivi 3318810025.")
    assert EmailReference(kind="tracking", value="3318810025", carrier="dhl") in s.references


def test_two_pos_in_one_sentence_are_two_changes_not_four() -> None:
    s, proposals = summarize(
        "Billy Fox <billy.fox45@example.com>",
        "Two updates: P00004 will be delivered on December 8, 2026, and P00007 on December 3, 2026.",
    )
    assert [(c.kind, c.po_name, c.email_date) for c in s.changes] == [
        (K.NEW_DATE, "P00004", date(2026, 12, 8)),
        (K.NEW_DATE, "P00007", date(2026, 12, 3)),
    ]
    assert len(proposals) == 2


def test_lines_named_in_part_and_in_full_are_the_whole_order() -> None:
    s, _ = summarize(
        "Douglas Fletcher <douglas.fletcher51@example.com>",
        "P00005 slipped: the desk stands and the individual workplaces will now be delivered on December 9, 2026.",
    )
    assert [(c.kind, c.po_name, c.line_id) for c in s.changes] == [(K.NEW_DATE, "P00005", None)]


def test_a_line_backordered_until_a_date_gets_that_date() -> None:
    s, _ = summarize(
        KIM,
        "For P00007 we can ship the Office Chair Black as planned, but the Office Lamps (FURN_8888) are "
        "backordered until December 16, 2026.",
    )
    assert [(c.kind, c.line_id, c.email_date) for c in s.changes] == [(K.NEW_DATE, 16, date(2026, 12, 16))]


def test_a_delay_to_a_date_and_a_date_the_goods_reach_us() -> None:
    delayed, _ = summarize(RON, "The Flipover (FURN_9001) on P00008 is delayed to December 10, 2026.")
    assert [(c.kind, c.line_id, c.email_date) for c in delayed.changes] == [(K.NEW_DATE, 18, date(2026, 12, 10))]
    reach, _ = summarize(RON, "P00001 will now reach you on December 3, 2026 instead of the 29th.")
    assert [(c.kind, c.po_name, c.email_date) for c in reach.changes] == [(K.NEW_DATE, "P00001", date(2026, 12, 3))]


def test_a_new_price_without_the_old_one() -> None:
    goes, _ = summarize(BRANDON, "Our price for the Office Chair Black on P00010 goes to $262.00 per dozen.")
    assert [(c.kind, c.line_id, c.email_price.amount) for c in goes.changes] == [(K.PRICE_CHANGE, 21, 262.0)]
    revised, _ = summarize(
        "Douglas Fletcher <douglas.fletcher51@example.com>",
        "We must revise the price of the Desk Stand with Screen (FURN_7888) on P00005 to $2,150.00 per unit.",
    )
    assert [(c.line_id, c.email_price.amount) for c in revised.changes] == [(10, 2150.0)]


def test_a_price_stated_against_the_old_one() -> None:
    s, _ = summarize(RON, "Small correction on P00001: the Office Chair (FURN_7777) is $84.50 each, not $79.80.")
    [c] = s.changes
    assert (c.kind, c.line_id, c.email_price.amount, c.consistent_with_odoo) == (K.PRICE_CHANGE, 1, 84.5, True)
