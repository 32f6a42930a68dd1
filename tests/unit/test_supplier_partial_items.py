"""A shipped sentence that also lists what stays behind: only what ships now is the partial shipment."""

from __future__ import annotations

from datetime import UTC, date, datetime

from copilot.email import InboundEmail
from copilot.skills.supplier_email import ChangeKind, extract
from copilot.text.language import LanguageDetector

WED_NOV25 = datetime(2026, 11, 25, 9, tzinfo=UTC)


def partials(text: str) -> list[tuple[float | None, date | None]]:
    m = InboundEmail(subject="P00003", text=text, date=WED_NOV25, from_address="sales@supplier.example")
    found = extract(m, languages=LanguageDetector()).candidates
    return [
        (c.quantity.value if c.quantity else None, c.backorder_date)
        for c in found
        if c.kind is ChangeKind.PARTIAL_SHIPMENT
    ]


def test_spanish_items_left_pending_are_not_shipped() -> None:
    text = (
        "Hola Nora: hoy enviamos de P00003 las 8 Bookcase Oak; "
        "las 4 Corner Desk quedan pendientes y salen el 3 de diciembre."
    )
    assert partials(text) == [(8.0, date(2026, 12, 3))]


def test_english_items_still_on_backorder_are_not_shipped() -> None:
    text = "Hi Nora, we shipped the 8 Bookcase Oak on P00003 today, the 4 Corner Desk remain on backorder until Dec 3."
    assert [q for q, _ in partials(text)] == [8.0]


def test_a_shipped_list_of_n_of_m_lines_is_partial_per_line_with_the_backorder_date() -> None:
    text = (
        "Hi Nora,\n\nFrom P00003 today we dispatched by DHL:\n- 2 of 6 Bookcase Oak\n- 1 of 4 Corner Desk\n\n"
        "The remaining 4 Bookcase Oak and 3 Corner Desk ship on 12/09/2026.\n\nJan"
    )
    assert sorted(partials(text)) == [(1.0, date(2026, 12, 9)), (2.0, date(2026, 12, 9))]


def test_a_variant_instead_of_a_sold_out_one_is_a_substitution_not_a_cancellation() -> None:
    m = InboundEmail(
        subject="P00003",
        text="Hi Nora, the 8 Bookcase Oak [FURN_5555] on P00003 come in walnut instead of oak, as oak is sold out.",
        date=WED_NOV25,
        from_address="sales@supplier.example",
    )
    found = [c.kind for c in extract(m, languages=LanguageDetector()).candidates]
    assert ChangeKind.SUBSTITUTION in found
    assert ChangeKind.CANCELLATION not in found
