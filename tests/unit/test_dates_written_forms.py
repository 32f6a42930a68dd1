"""Dates in written forms the supplier set showed: day-month with dashes (Dutch "14-12-2026", "14-12"), and a
number before a spelled date that is not its day ("position 2 on December 14, 2026")."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.text.dates import find_dates

WED_NOV25 = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("nl", "Levering bij uw magazijn op 14-12-2026, graag een slot.", date(2026, 12, 14)),
        ("nl", "De kasten gaan 14-12 op transport.", date(2026, 12, 14)),
        ("de", "Liefertermin 14-12-2026 ab Werk.", date(2026, 12, 14)),
        ("en", "Position 2 on December 14, 2026 ships from Reno.", date(2026, 12, 14)),
    ],
)
def test_written_forms(language: str, text: str, expected: date) -> None:
    assert [f.value for f in find_dates(text, WED_NOV25, language)] == [expected]


def test_an_english_dash_between_two_numbers_stays_a_range() -> None:
    (found,) = find_dates("delivery 7-9 December", WED_NOV25, "en")
    assert (found.value, found.latest) == (date(2026, 12, 7), date(2026, 12, 9))


def test_this_morning_in_spanish_is_no_tomorrow() -> None:
    assert find_dates("El pedido llegó esta mañana al almacén.", WED_NOV25, "es", relative=True) == []
    (tomorrow,) = find_dates("El pedido sale mañana.", WED_NOV25, "es", relative=True)
    assert tomorrow.value == date(2026, 11, 26)
