"""Money with price-parser and babel (locale decimal signs, currencies), quantities with units and in words
(text2num), units mapped to Odoo's names, and the language of a text with lingua, in five languages."""

from __future__ import annotations

import sre_parse
import time

import pytest

from copilot.text import money
from copilot.text.language import LanguageDetector
from copilot.text.money import find_money
from copilot.text.quantities import find_quantities
from copilot.text.units import normalise_uom


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("de", "Neuer Preis: 1.234,50 € pro Stück", [(1234.5, "EUR", "Units")]),
        ("de", "statt 275,00 EUR je Dutzend", [(275.0, "EUR", "Dozens")]),
        ("fr", "nouveau prix 1 234,50 € par pièce", [(1234.5, "EUR", "Units")]),
        ("fr", "le prix passe de 250,50 € à 275,00 €", [(250.5, "EUR", None), (275.0, "EUR", None)]),
        ("es", "el precio sube a 1.234,50 EUR por unidad", [(1234.5, "EUR", "Units")]),
        ("nl", "nieuwe prijs € 85,50 per stuk", [(85.5, "EUR", "Units")]),
        ("en", "our price goes from 250.50 to 275.00 USD per unit", [(275.0, "USD", "Units")]),
        ("en", "new price €1.234,50 per dozen", [(1234.5, "EUR", "Dozens")]),  # both signs: unambiguous
        ("en", "CHF 85.50 each, £7 and CA$12", [(85.5, "CHF", "Units"), (7.0, "GBP", None), (12.0, "CAD", None)]),
        ("de", "1.234 € gesamt", [(1234.0, "EUR", None)]),
    ],
)
def test_money_in_each_language(language: str, text: str, expected: list[tuple[float, str, str | None]]) -> None:
    assert [(m.money.amount, m.money.currency, m.money.per) for m in find_money(text, language)] == expected


def test_money_patterns_cannot_backtrack_badly() -> None:
    from tests.unit.test_text_layer import _nested_backtracking

    for pattern in [*money._BEFORE, *money._AFTER]:
        assert _nested_backtracking(sre_parse.parse(pattern.pattern, pattern.flags)) == []
    started = time.perf_counter()
    for language in ("en", "de", "fr"):
        find_money("1" * 50_000, language)
        find_money("1 234" * 10_000 + ",5 €", language)
        find_money("€" + "1.111" * 10_000, language)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "we can ship a dozen chairs", [(1.0, "Dozens")]),
        ("en", "Office Lamp x5", [(5.0, "Units")]),
        ("en", "5 pcs Drawer Black", [(5.0, "Units")]),
        ("en", "2 pallets of 40 units", [(80.0, "Units")]),
        ("en", "we ship five units today", [(5.0, "Units")]),
        ("en", "twenty-four pieces", [(24.0, "Units")]),
        ("de", "zwölf Stück Bürostuhl", [(12.0, "Units")]),
        ("de", "ein Dutzend Stühle", [(1.0, "Dozens")]),
        ("de", "2 Paletten à 40 Stück", [(80.0, "Units")]),
        ("de", "1.000 Stück", [(1000.0, "Units")]),
        ("fr", "vingt pièces", [(20.0, "Units")]),
        ("fr", "une douzaine de lampes", [(1.0, "Dozens")]),
        ("es", "doce unidades", [(12.0, "Units")]),
        ("es", "una docena de sillas", [(1.0, "Dozens")]),
        ("nl", "twaalf stuks", [(12.0, "Units")]),
        ("nl", "een dozijn stoelen", [(1.0, "Dozens")]),
    ],
)
def test_quantities_with_units_and_in_words(language: str, text: str, expected: list[tuple[float, str]]) -> None:
    assert [(q.value, q.uom) for q in find_quantities(text, language)] == expected


@pytest.mark.parametrize("unit", ["1 x ", "x1 ", "ab units ", "2 pallets of ", "abc abc abc abc units "])
def test_quantities_cost_a_bounded_time(unit: str) -> None:
    started = time.perf_counter()
    find_quantities(unit * (50_000 // len(unit)))
    assert time.perf_counter() - started < 2.0


def test_units_in_five_languages_map_to_odoo_names() -> None:
    words = ["Dutzend", "douzaines", "docenas", "dozijn", "Stück", "pièces", "unidades", "stuks", "Stunden"]
    assert [normalise_uom(w) for w in words] == ["Dozens"] * 4 + ["Units"] * 4 + ["Hours"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Die restlichen 8 Stück liefern wir voraussichtlich am 15.12. aus.", "de"),
        ("Nous vous confirmons la livraison de votre commande pour vendredi.", "fr"),
        ("Le confirmamos que el pedido se entregará el próximo viernes.", "es"),
        ("De levering van uw bestelling wordt verschoven naar vrijdag.", "nl"),
        ("We shipped 12 of the 20 Large Desks today, the rest follows.", "en"),
        ("P00004 ok", "en"),  # too short to tell: the default
    ],
)
def test_language_of_an_email(text: str, language: str) -> None:
    assert LanguageDetector().detect(text) == language
