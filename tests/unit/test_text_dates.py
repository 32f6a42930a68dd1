"""Dates in five languages with dateparser: relative dates anchored to the email's date, weeks, parts of a month,
ranges as an earliest/latest pair, and a bounded cost on hostile text."""

from __future__ import annotations

import time
from datetime import date

import pytest

from copilot.text.dates import find_dates

WED_NOV25 = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "will ship next Tuesday", date(2026, 12, 1)),
        ("en", "expect it in two weeks", date(2026, 12, 9)),
        ("en", "will ship on Monday the 30th.", date(2026, 11, 30)),
        ("en", "Ships 11/29 from Turlock.", date(2026, 11, 29)),
        ("en", "slips two days to Thursday 12/3 because", date(2026, 12, 3)),
        ("de", "Die restlichen 8 Stück liefern wir am 15.12. aus.", date(2026, 12, 15)),
        ("de", "Der Liefertermin verschiebt sich auf Freitag, den 4. Dezember.", date(2026, 12, 4)),
        ("de", "Lieferung nächsten Dienstag", date(2026, 12, 1)),
        ("de", "Lieferung in zwei Wochen", date(2026, 12, 9)),
        ("de", "Versand morgen", date(2026, 11, 26)),
        ("fr", "livraison le vendredi 4 décembre", date(2026, 12, 4)),
        ("fr", "expédition mardi prochain", date(2026, 12, 1)),
        ("fr", "livraison dans deux semaines", date(2026, 12, 9)),
        ("fr", "livraison le 1er décembre", date(2026, 12, 1)),
        ("es", "se entregará el viernes 4 de diciembre", date(2026, 12, 4)),
        ("es", "enviamos el próximo martes", date(2026, 12, 1)),
        ("es", "llegará dentro de dos semanas", date(2026, 12, 9)),
        ("nl", "levering vrijdag 4 december", date(2026, 12, 4)),
        ("nl", "verzending volgende dinsdag", date(2026, 12, 1)),
        ("nl", "levering over twee weken", date(2026, 12, 9)),
    ],
)
def test_one_day_in_each_language(language: str, text: str, expected: date) -> None:
    found = find_dates(text, WED_NOV25, language, relative=True)
    assert [(f.value, f.latest) for f in found] == [(expected, None)]


@pytest.mark.parametrize(
    ("language", "text", "earliest", "latest"),
    [
        ("de", "Lieferung in KW 51", date(2026, 12, 14), date(2026, 12, 18)),
        ("en", "delivery in week 51", date(2026, 12, 14), date(2026, 12, 18)),
        ("fr", "livraison semaine 51", date(2026, 12, 14), date(2026, 12, 18)),
        ("es", "entrega semana 51", date(2026, 12, 14), date(2026, 12, 18)),
        ("en", "will follow around mid-December", date(2026, 12, 11), date(2026, 12, 20)),
        ("de", "Lieferung Mitte Dezember", date(2026, 12, 11), date(2026, 12, 20)),
        ("fr", "livraison mi-décembre", date(2026, 12, 11), date(2026, 12, 20)),
        ("es", "entrega a mediados de diciembre", date(2026, 12, 11), date(2026, 12, 20)),
        ("nl", "levering half december", date(2026, 12, 11), date(2026, 12, 20)),
        ("en", "ready by end of month", date(2026, 11, 30), date(2026, 11, 30)),
        ("de", "bis Ende des Monats", date(2026, 11, 30), date(2026, 11, 30)),
        ("fr", "avant la fin du mois", date(2026, 11, 30), date(2026, 11, 30)),
        ("es", "a finales de mes", date(2026, 11, 30), date(2026, 11, 30)),
        ("nl", "tegen eind van de maand", date(2026, 11, 30), date(2026, 11, 30)),
        ("en", "delivery 7-9 December", date(2026, 12, 7), date(2026, 12, 9)),
        ("en", "delivery between Dec 7 and Dec 9", date(2026, 12, 7), date(2026, 12, 9)),
        ("de", "Lieferung vom 7. bis 9. Dezember", date(2026, 12, 7), date(2026, 12, 9)),
        ("fr", "livraison du 7 au 9 décembre", date(2026, 12, 7), date(2026, 12, 9)),
        ("es", "entrega del 7 al 9 de diciembre", date(2026, 12, 7), date(2026, 12, 9)),
        ("nl", "levering van 7 tot 9 december", date(2026, 12, 7), date(2026, 12, 9)),
    ],
)
def test_windows_are_an_earliest_latest_pair(language: str, text: str, earliest: date, latest: date) -> None:
    found = find_dates(text, WED_NOV25, language, relative=True)
    assert [(f.value, f.latest) for f in found] == [(earliest, latest)]


def test_relative_dates_only_when_asked() -> None:
    """A check of what a reply claims (grounding) reads no date into "today" or "next Tuesday"."""
    text = "Here is where your order stands today; we ship next Tuesday and the rest on December 4"
    assert [f.value for f in find_dates(text, WED_NOV25)] == [date(2026, 12, 4)]
    dates = [date(2026, 11, 25), date(2026, 12, 1), date(2026, 12, 4)]
    assert [f.value for f in find_dates(text, WED_NOV25, relative=True)] == dates


def test_a_list_of_dates_is_several_dates_and_and_is_no_range() -> None:
    found = find_dates("ships Dec 1, Dec 8 and Dec 15.", WED_NOV25)
    assert [f.value for f in found] == [date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15)]
    assert not any(f.is_range for f in found)


def test_numbers_next_to_a_date_never_crash_it() -> None:
    """'pallet 0 - 2026-12-01' once made a range starting on day 0 (ValueError)."""
    found = find_dates("Tracking 1Z000999000000 - pallet 0 - 2026-12-01, pallet 31 - 2026-12-02", WED_NOV25)
    assert [f.value for f in found] == [date(2026, 12, 1), date(2026, 12, 2)]
    assert find_dates("0-32 December, 0. bis 0. Dezember, KW 0, KW 99, 31/02/2027", WED_NOV25, "de") == []


def test_words_that_look_like_dates_are_not_dates() -> None:
    assert find_dates("Die restlichen Stück", WED_NOV25, "de") == []  # "Die" is not Dienstag
    assert find_dates("We can ship 6 dozen (72 chairs) on P00010", WED_NOV25) == []
    assert find_dates("slips two days", WED_NOV25) == []  # a duration, not a date


@pytest.mark.parametrize("unit", ["Monday %d Dec, ", "next Tuesday, ", "KW 51 ", "7-9 December ", "a-", "Dec "])
def test_many_dates_cost_a_bounded_time(unit: str) -> None:
    text = "".join(unit % (i % 28 + 1) if "%" in unit else unit for i in range(4000))
    find_dates("Monday 1 Dec", WED_NOV25)  # dateparser's first use loads its data
    started = time.perf_counter()
    find_dates(text, WED_NOV25)
    assert time.perf_counter() - started < 2.0
