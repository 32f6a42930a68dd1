"""Attachments as facts: an order confirmation or delivery schedule (PDF, XLSX, CSV) gives the same per-line
changes as the body would, with the file and row as evidence. Checked on the Odoo sandbox's POs."""

from __future__ import annotations

from datetime import date
from typing import Any

from copilot.email import parse_email
from copilot.email.message import Table, TableRow
from copilot.skills.supplier_email import ChangeKind, SupplierEmailSummary, summarize_supplier_email
from copilot.skills.supplier_email.tables import find_header
from evals.suites.supplier_email import to_rfc822
from tests.unit._supplier_fixtures import sandbox_client

K = ChangeKind
BILLY = "Billy Fox <billy.fox45@example.com>"  # Ready Mat (P00004, P00007)
WILLIE = "Willie Burke <willie.burke80@example.com>"  # Wood Corner (P00001, P00006, P00008)
GEMINI = "Soham Palmer <soham.palmer15@example.com>"  # Gemini Furniture (P00002, P00009)


def summarize(subject: str, sender: str, body: str, *attachments: dict[str, Any]) -> SupplierEmailSummary:
    case = {"subject": subject, "from": sender, "date": "2026-11-20T10:00:00-08:00", "body": body}
    mail = parse_email(to_rfc822({**case, "attachments": list(attachments)}))
    return summarize_supplier_email(mail, client=sandbox_client())


def facts(s: SupplierEmailSummary) -> list[tuple[Any, ...]]:
    return [(c.kind, c.po_name, c.product_code, c.email_date) for c in s.changes]


def test_pdf_confirmation_with_a_revised_date_on_one_line_gives_exactly_that_change() -> None:
    pdf = {
        "filename": "OA-30418.pdf",
        "lines": ["ORDER ACKNOWLEDGEMENT RM-OA-30418", "Your purchase order: P00004"],
        "table": [
            ["Item", "Description", "Qty", "Unit price", "Delivery date"],
            ["FURN_8888", "Office Lamp", "6", "85.50", "12/01/2026"],
            ["FURN_9001", "Flipover", "5", "1,690.00", "12/04/2026"],
            ["E-COM07", "Large Cabinet", "7", "800.00", "12/01/2026"],
        ],
    }
    body = "Hi Mitchell, please find our acknowledgement attached."
    s = summarize("Order acknowledgement RM-OA-30418", BILLY, body, pdf)
    assert facts(s) == [(K.NEW_DATE, "P00004", "FURN_9001", date(2026, 12, 4))]
    (change,) = s.changes
    assert change.evidence.startswith("OA-30418.pdf, page 1, row 3: FURN_9001 | Flipover")
    assert (change.odoo_date, change.delta.days, change.line_id) == (date(2026, 12, 1), 3, 8)


def test_xlsx_confirmation_as_ordered_is_one_confirmation_with_its_date() -> None:
    xlsx = {
        "filename": "AB-20931.xlsx",
        "lines": ["Auftragsbestätigung AB-20931", "Ihre Bestellung P00004"],
        "table": [
            ["Artikel", "Bezeichnung", "Menge", "Einzelpreis", "Liefertermin"],
            ["FURN_8888", "Office Lamp", 6, 85.5, "2026-12-01"],
            ["FURN_9001", "Flipover", 5, 1690, "2026-12-01"],
            ["E-COM07", "Large Cabinet", 7, 800, "2026-12-01"],
        ],
    }
    s = summarize("Auftragsbestätigung", BILLY, "Guten Tag, anbei unsere Auftragsbestätigung.", xlsx)
    assert facts(s) == [(K.CONFIRMATION, "P00004", None, date(2026, 12, 1))]
    # two title lines and a blank row above the header: the data are rows 5 to 7 of the sheet
    assert s.changes[0].evidence.startswith("AB-20931.xlsx, sheet Lines, rows 5-7")


def test_csv_with_decimal_commas_and_the_po_only_in_a_column_gives_the_price_change() -> None:
    csv_file = {
        "filename": "preise.csv",
        "delimiter": ";",
        "table": [
            ["Bestellung", "Artikelnr.", "Bezeichnung", "Menge", "Einheit", "Preis"],
            ["P00008", "FURN_8900", "Drawer Black", "15", "Dutzend", "297,65"],
            ["P00008", "FURN_9001", "Flipover", "5", "Dutzend", "450,70"],
        ],
    }
    s = summarize("Neue Preise", WILLIE, "Hallo, siehe Anhang.", csv_file)
    assert [o.name for o in s.purchase_orders] == ["P00008"]
    assert [(c.kind, c.po_name, c.product_code, c.email_price.amount) for c in s.changes] == [
        (K.PRICE_CHANGE, "P00008", "FURN_8900", 297.65)
    ]
    assert s.changes[0].evidence.startswith("preise.csv, row 2: P00008 | FURN_8900")


def test_partial_shipment_advice_gives_shipped_quantity_and_backorder_date() -> None:
    xlsx = {
        "filename": "shipping-advice.xlsx",
        "lines": ["Shipping advice SA-5521 for PO P00009"],
        "table": [
            ["Item", "Description", "Ordered", "Shipped", "Backorder", "Backorder ETA"],
            ["E-COM09", "Large Desk", 20, 16, 4, "2026-12-08"],
            ["E-COM06", "Corner Desk Right Sit", 5, 5, 0, None],
        ],
    }
    s = summarize("Shipping advice SA-5521", GEMINI, "Please see the attached shipping advice.", xlsx)
    (change,) = s.changes
    assert (change.kind, change.po_name, change.product_code) == (K.PARTIAL_SHIPMENT, "P00009", "E-COM09")
    assert (change.email_quantity.value, change.backorder_quantity.value) == (16, 4)
    assert change.email_date == date(2026, 12, 8)


def test_short_confirmed_quantity_in_a_pdf_is_a_short_quantity() -> None:
    pdf = {
        "filename": "confirmation.pdf",
        "lines": ["Confirmation de commande CC-7781", "Votre commande P00007"],
        "table": [
            ["Référence", "Désignation", "Qté commandée", "Qté confirmée", "Prix unitaire", "Date de livraison"],
            ["FURN_0269", "Office Chair Black", "5", "3", "130,50", "25/11/2026"],
            ["FURN_8888", "Office Lamp", "15", "15", "38,00", "25/11/2026"],
        ],
    }
    s = summarize("Confirmation de commande", BILLY, "Bonjour, veuillez trouver ci-joint notre confirmation.", pdf)
    (change,) = s.changes
    assert (change.kind, change.po_name, change.product_code, change.email_quantity.value) == (
        K.SHORT_QUANTITY,
        "P00007",
        "FURN_0269",
        3,
    )
    assert "confirmation.pdf, page 1, row 2" in change.evidence


def test_header_words_are_recognised_in_five_languages() -> None:
    headers = {
        "en": ["Item", "Description", "Qty ordered", "Qty confirmed", "Unit price", "Delivery date", "PO"],
        "de": [
            "Artikelnr.",
            "Bezeichnung",
            "Bestellmenge",
            "Bestätigte Menge",
            "Einzelpreis",
            "Liefertermin",
            "Bestellung",
        ],
        "fr": [
            "Référence",
            "Désignation",
            "Qté commandée",
            "Qté confirmée",
            "Prix unitaire",
            "Date de livraison",
            "N° commande",
        ],
        "es": [
            "Artículo",
            "Descripción",
            "Cantidad pedida",
            "Cantidad confirmada",
            "Precio",
            "Fecha de entrega",
            "Pedido",
        ],
        "nl": ["Artikelnummer", "Omschrijving", "Besteld", "Bevestigd aantal", "Prijs", "Leverdatum", "Bestelling"],
    }
    for language, header in headers.items():
        table = Table(rows=[TableRow(number=1, cells=["Title"]), TableRow(number=2, cells=list(header))])
        columns = find_header(table)
        assert columns is not None and columns.header_index == 1, language
        roles = ["code", "description", "ordered", "qty", "price", "date", "po"]
        assert columns.roles == {role: i for i, role in enumerate(roles)}, language
        assert columns.language == language


def test_a_body_confirmation_gives_way_to_the_attachment_that_changes_a_line() -> None:
    pdf = {
        "filename": "ack.pdf",
        "lines": ["Order acknowledgement", "Your PO P00004"],
        "table": [
            ["Item", "Qty", "Unit price", "Delivery date"],
            ["FURN_8888", "6", "85.50", "12/01/2026"],
            ["FURN_9001", "5", "1,690.00", "12/01/2026"],
            ["E-COM07", "7", "825.00", "12/01/2026"],
        ],
    }
    s = summarize("PO P00004", BILLY, "We hereby confirm your order P00004, see the attached acknowledgement.", pdf)
    assert [(c.kind, c.product_code) for c in s.changes] == [(K.PRICE_CHANGE, "E-COM07")]


def test_rows_for_products_not_on_the_po_and_totals_give_no_change() -> None:
    csv_file = {
        "filename": "ack.csv",
        "table": [
            ["PO", "Item", "Description", "Qty", "Price", "Delivery date"],
            ["P00010", "FURN_0269", "Office Chair Black", "10", "250.50", "11/21/2026"],
            ["P00010", "FURN_1118", "Corner Desk Left Sit", "2", "400.00", "11/21/2026"],
            ["", "Total", "", "", "2,505.00", ""],
        ],
    }
    s = summarize("Acknowledgement", "Brandon Freeman <brandon.freeman55@example.com>", "See attached.", csv_file)
    assert facts(s) == [(K.CONFIRMATION, "P00010", None, date(2026, 11, 21))]


def test_attachment_changes_from_an_unknown_sender_are_unverified() -> None:
    pdf = {
        "filename": "ack.pdf",
        "lines": ["Order acknowledgement", "Your PO P00004"],
        "table": [["Item", "Qty", "Delivery date"], ["FURN_9001", "5", "12/09/2026"]],
    }
    s = summarize("PO P00004", "Billy Fox <billy.fox@readymat-orders.example>", "See attached.", pdf)
    (change,) = s.changes
    assert change.kind is K.NEW_DATE and change.unverified


def test_rows_in_the_order_of_the_po_under_the_suppliers_own_names_are_matched_by_position() -> None:
    """No codes, the supplier's own article names: with as many item rows as PO lines, row n is line n."""
    xlsx = {
        "filename": "Lieferplan_P00004.xlsx",
        "lines": ["Lieferplan zu Ihrer Bestellung P00004"],
        "table": [
            ["Pos.", "Bezeichnung", "Menge", "Liefertermin"],
            ["1", "Tischleuchte LED schwarz", 6, "2026-12-01"],
            ["2", "Moderationstafel mobil", 5, "2026-12-09"],
            ["3", "Aktenschrank hoch", 7, "2026-12-01"],
        ],
    }
    s = summarize("Lieferplan P00004", BILLY, "Guten Tag, anbei der aktualisierte Lieferplan.", xlsx)
    assert facts(s) == [(K.NEW_DATE, "P00004", "FURN_9001", date(2026, 12, 9))]
    assert "position in the table" in s.changes[0].note


def test_a_table_with_more_items_than_the_po_has_lines_is_not_matched_by_position() -> None:
    xlsx = {
        "filename": "Lieferplan_P00004.xlsx",
        "lines": ["Lieferplan zu Ihrer Bestellung P00004"],
        "table": [
            ["Pos.", "Bezeichnung", "Menge", "Liefertermin"],
            ["1", "Tischleuchte LED schwarz", 6, "2026-12-01"],
            ["2", "Moderationstafel mobil", 5, "2026-12-09"],
            ["3", "Aktenschrank hoch", 7, "2026-12-01"],
            ["4", "Kabelkanal", 2, "2026-12-11"],
        ],
    }
    s = summarize("Lieferplan P00004", BILLY, "Guten Tag, anbei der aktualisierte Lieferplan.", xlsx)
    assert not [c for c in s.changes if c.kind is K.NEW_DATE]
