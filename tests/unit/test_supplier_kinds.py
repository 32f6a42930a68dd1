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
    s, proposals = summarize(KIM, "Hi, for P00007 we can only supply 10 Office Lamps (15 ordered), rest cancelled.")
    [c] = s.changes
    assert (c.kind, c.po_name, c.line_id) == (K.SHORT_QUANTITY, "P00007", 16)
    assert (c.email_quantity.value, c.odoo_quantity.value, c.consistent_with_odoo) == (10, 15, True)
    assert (c.cancelled_quantity.value if c.cancelled_quantity else None, c.backorder_quantity) == (5, None)
    assert "5 Units cancelled" in c.note
    assert "can supply only 10 Units of 15 Units [FURN_8888] Office Lamp, the other 5 Units cancelled" in s.summary
    # short -> the rest is cancelled on the PO line: its ordered quantity goes down to what comes
    [p] = proposals
    assert (p.action_type, p.target.display_name) == (ActionType.REDUCE_PO_LINE_QTY, "P00007 / [FURN_8888] Office Lamp")
    assert (p.payload.old_quantity, p.payload.new_quantity, p.payload.uom) == (15, 10, "Units")
    assert p.target.expect == {"state": "purchase", "product_qty": 15.0}


def test_a_short_supply_that_asks_what_to_do_proposes_nothing() -> None:
    s, proposals = summarize(
        KIM, "For P00007 we can only supply 10 of the 15 Office Lamps. Do you want the 10 now, or wait for all 15?"
    )
    assert {c.kind for c in s.changes} == {K.SHORT_QUANTITY, K.QUESTION}
    assert proposals == []


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
    assert "[FURN_7777] Office Chair is no longer available; proposes [FURN_0269] Office Chair Black" in s.summary
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


def test_several_lines_shipped_in_one_sentence_each_get_their_quantity() -> None:
    s, _ = summarize(
        "Soham Palmer <soham.palmer15@example.com>",
        "P00009 update: 16 dozen [E-COM09] Large Desk and all 5 dozen [E-COM06] Corner Desk Right Sit are on the "
        "truck today. The remaining 4 dozen Large Desks will ship on December 8.",
    )
    # the Corner Desks ship in full: no change; the Large Desks are partial, their rest ships on Dec 8
    [c] = s.changes
    assert (c.kind, c.line_id, c.email_quantity.value, c.backorder_quantity.value) == (K.PARTIAL_SHIPMENT, 19, 16, 4)
    assert c.email_date == date(2026, 12, 8)


def test_shipped_items_and_backordered_rest() -> None:
    s, _ = summarize(
        "Soham Palmer <soham.palmer15@example.com>",
        "P00002 left Fairfield today: 5 x Office Chair and 16 x Office Lamp. The other 4 lamps are backordered and "
        "will ship on 14 Dec.",
    )
    [c] = s.changes
    assert (c.kind, c.line_id, c.email_quantity.value, c.backorder_quantity.value, c.email_date) == (
        K.PARTIAL_SHIPMENT,
        4,
        16,
        4,
        date(2026, 12, 14),
    )


def test_supply_only_n_of_m_and_the_rest_not_produced_is_short_not_cancelled() -> None:
    s, _ = summarize(
        EDWIN,
        "For P00009 we can supply only 3 of the 5 dozen [E-COM06] Corner Desk Right Sit; the right-hand frames are "
        "sold out for this year. The missing 2 dozen will not be produced, so please reduce the line on your side.",
    )
    [c] = s.changes
    assert (c.kind, c.line_id, c.email_quantity.value, c.cancelled_quantity.value) == (K.SHORT_QUANTITY, 20, 3, 2)


def test_an_offer_after_an_out_of_stock_line_is_a_substitution_with_its_price() -> None:
    s, proposals = summarize(
        EDWIN,
        "We are out of right-hand frames for the [E-COM06] Corner Desk Right Sit on P00009. We could ship the mirrored "
        "model, [FURN_1118] Corner Desk Left Sit, at the same $500.00 per dozen, ready now. Would that work for you?",
    )
    sub = next(c for c in s.changes if c.kind is K.SUBSTITUTION)
    assert (sub.line_id, sub.substitute_code, sub.email_price.amount) == (20, "FURN_1118", 500.0)
    assert {c.kind for c in s.changes} == {K.SUBSTITUTION, K.QUESTION}
    assert [p.action_type for p in proposals] == [ActionType.SUBSTITUTE_PRODUCT]


def test_an_order_cancelled_under_force_majeure_is_a_cancellation() -> None:
    s, _ = summarize(
        "Douglas Fletcher <douglas.fletcher51@example.com>",
        "Further to our force majeure notice of 22 November, we regret that we are unable to fulfil your purchase "
        "order P00005. The order is hereby cancelled in full.",
    )
    assert shape(s) == [(K.CANCELLATION, "P00005", None)]


def test_confirmations_in_a_status_list_and_a_confirmation_with_a_later_date() -> None:
    s, _ = summarize(
        "Willie Burke <willie.burke80@example.com>",
        "- P00001: confirmed, ships Sunday 11/29 as requested.\n- P00008: the Drawer Black run slipped, so this one "
        "now ships Friday 12/4 (both lines together).",
    )
    assert [(c.kind, c.po_name) for c in s.changes] == [(K.NEW_DATE, "P00008"), (K.CONFIRMATION, "P00001")]
    later, _ = summarize(
        KIM,
        "Thanks for P00004. We confirm all lines and prices, but the earliest we can deliver is Friday, December 4.",
    )
    assert [(c.kind, c.email_date) for c in later.changes] == [(K.NEW_DATE, date(2026, 12, 4))]


def test_holds_and_delays_without_a_date() -> None:
    hold, _ = summarize(
        "Douglas Fletcher <douglas.fletcher51@example.com>",
        "Your account is past its credit limit. Until the balance is settled, all open orders, including PO P00005, "
        "are on hold and will not be shipped.",
    )
    assert [c.kind for c in hold.changes] == [K.PAYMENT_HOLD]
    no_eta, _ = summarize(BRANDON, "The chairs for P00010 are held at customs. No ETA at this point.")
    assert [c.kind for c in no_eta.changes] == [K.DELAY_NO_DATE]


def test_price_list_with_arrows_and_new_price_was_old() -> None:
    s, _ = summarize(
        "Willie Burke <willie.burke80@example.com>",
        "Before we confirm P00001, two prices change:\n[FURN_7777] Office Chair: $79.80 -> $84.50 each\n"
        "[FURN_8855] Drawer: $99.00 -> $104.00 each",
    )
    assert [(c.kind, c.line_id, c.email_price.amount) for c in s.changes] == [
        (K.PRICE_CHANGE, 1, 84.5),
        (K.PRICE_CHANGE, 3, 104.0),
    ]
    was, _ = summarize(RON, "For P00008 [FURN_8900] Drawer Black: new price $297.65 per dozen (was $280.80).")
    assert [(c.line_id, c.email_price.amount, c.consistent_with_odoo) for c in was.changes] == [(17, 297.65, True)]


def test_a_circular_without_a_po_changes_nothing() -> None:
    s, _ = summarize(
        EDWIN,
        "Our plant is closed from December 24 through January 1. Orders due to ship in that window will ship on "
        "Monday, January 4, 2027.",
    )
    assert s.changes == []


def test_lines_named_by_their_position_in_the_order() -> None:
    s, _ = summarize(
        KIM, "P00004: position 2 ships on December 12, 2026, position 3 ships December 14, 2026. Pos. 1 as planned."
    )
    assert [(c.kind, c.line_id, c.email_date) for c in s.changes] == [
        (K.NEW_DATE, 8, date(2026, 12, 12)),
        (K.NEW_DATE, 9, date(2026, 12, 14)),
    ]


def test_a_date_misread_decades_ahead_is_no_promise() -> None:
    s, proposals = summarize(KIM, "P00004: position 2 ships on December 12, 2026 and position 3 on December 14, 2026.")
    assert all(c.email_date is None or c.email_date.year == 2026 for c in s.changes)
    assert all(p.payload.new_date.year == 2026 for p in proposals)


def test_a_short_supply_in_pieces_of_a_line_bought_by_the_dozen_asks_and_cancels_nothing() -> None:
    s, proposals = summarize(
        RON,
        "We can only produce 120 pcs of the Drawer Black for P00008 (that's 10 of your 15 dozen) before year-end. "
        "Do you want the 120 pcs now and cancel the rest, or wait until January for the full quantity?",
    )
    short = next(c for c in s.changes if c.kind is K.SHORT_QUANTITY)
    assert (short.line_id, short.email_quantity.value, short.odoo_quantity.value) == (17, 10, 15)
    assert short.cancelled_quantity is None  # the rest is only offered to be cancelled: the buyer decides
    assert {c.kind for c in s.changes} == {K.SHORT_QUANTITY, K.QUESTION}
    assert proposals == []
