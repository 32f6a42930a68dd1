"""A month name with one slip of the keyboard is still that month; a word two slips away is not."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.text.dates import find_dates

WED_NOV25 = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "las mesas salen el 9 de dizciembre, perdon", date(2026, 12, 9)),
        ("en", "the chairs ship on 9 Decmber, sorry", date(2026, 12, 9)),
        ("de", "die Stühle kommen am 9. Dezmber", date(2026, 12, 9)),
    ],
)
def test_one_typo_in_a_month_name(language: str, text: str, expected: date) -> None:
    assert [f.value for f in find_dates(text, WED_NOV25, language)] == [expected]


def test_a_word_two_edits_from_a_month_is_no_date() -> None:
    assert find_dates("we remember 9 members", WED_NOV25, "en") == []
