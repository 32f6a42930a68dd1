"""Quantities as suppliers write them: "5 pcs", "x5", "a dozen", "zwölf Stück", "2 pallets of 40", in five languages.

Number words are read with ``text2num`` (English, German, French, Spanish, Dutch); units map to Odoo's names
(``copilot.text.units``). Every pattern is bounded, so any text is read in linear time.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from dataclasses import dataclass

from babel.numbers import get_decimal_symbol
from text_to_num import alpha2digit

from copilot.text.units import UOM_WORDS, normalise_uom

__all__ = ["FoundQuantity", "find_quantities", "numbers_as_digits", "parse_quantity"]

_LANGUAGES = ("en", "de", "fr", "es", "nl")
_ONE = r"(?:a|an|one|ein|eine|einen|un|une|una|uno|een|één)"
_DOZEN = r"(?:dozen|dutzend|douzaine|docena|dozijn)"
_NUMBER = r"\d{1,3}(?:[.,]\d{3})++(?![\d])|\d{1,7}+(?:[.,]\d{1,3})?+"
_PALLET = r"(?:pallets?|paletten?|palettes?|pal[ée]s?|cartons?|boxes|box|cajas?|kartons?|dozen|colis)"
_OF = r"(?:of|à|a|von|zu|je|de|van|met|à\s+raison\s+de|con)"
_WORD = r"[^\W\d_]{2,20}+"

_KINDED = [
    # "2 pallets of 40", "3 Kartons à 12 Stück", "2 palettes de 40 pièces"
    (
        "packs",
        re.compile(
            rf"(?<![\w.,])(?P<n>{_NUMBER})[ \t]*+{_PALLET}[ \t]++{_OF}[ \t]++(?P<q>{_NUMBER})"
            rf"(?:[ \t]*+(?P<u>{UOM_WORDS})\b)?",
            re.IGNORECASE,
        ),
    ),
    # "a dozen", "ein Dutzend", "une douzaine", "una docena", "een dozijn"
    ("dozen", re.compile(rf"\b{_ONE}[ \t]++(?P<u>{_DOZEN})\b", re.IGNORECASE)),
    # "5 pcs", "12 Stück", "5 dozen", "5x", "5 x"
    (
        "number",
        re.compile(
            rf"(?<![\w.,])(?P<q>{_NUMBER})(?:[ \t]*+(?P<u>{UOM_WORDS})\b|[ \t]*+(?P<x>[x×])(?![\w]))", re.IGNORECASE
        ),
    ),
    # "x5", "×5"
    ("times", re.compile(rf"(?<![\w])[x×][ \t]?(?P<q>{_NUMBER})(?![\w.,])", re.IGNORECASE)),
    # "twelve units", "zwölf Stück", "vingt pièces", "doce unidades", "twaalf stuks"
    ("words", re.compile(rf"(?P<w>(?:{_WORD}[ \t-]){{0,3}}{_WORD})[ \t]++(?P<u>{UOM_WORDS})\b", re.IGNORECASE)),
]


_KINDS = [kind for kind, _ in _KINDED]
_PATTERNS = [pattern for _, pattern in _KINDED]


_ONE_DOZEN = re.compile(rf"\b{_ONE}[ \t]++(?={_DOZEN}\b)", re.IGNORECASE)


def numbers_as_digits(text: str, language: str = "en") -> str:
    """``text`` with numbers written in words as digits ("twelve of the twenty desks" -> "12 of the 20 desks",
    "a dozen" -> "1 dozen"), for rules that read quantities; the original stays the evidence."""
    lang = language if language in _LANGUAGES else "en"
    return alpha2digit(_ONE_DOZEN.sub("1 ", text), lang, threshold=2)


@dataclass(frozen=True)
class FoundQuantity:
    """A quantity found in text, in Odoo's unit when one was written."""

    value: float
    uom: str | None
    start: int
    end: int
    text: str


def parse_quantity(text: str, language: str = "en") -> float | None:
    """``1,000`` (en) / ``1.000`` (de) -> 1000; ``2,5`` (de) -> 2.5; None when not a number."""
    decimal = get_decimal_symbol(language if language in _LANGUAGES else "en")
    group = "," if decimal == "." else "."
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text) and group in text:
        return float(text.replace(group, ""))
    try:
        return float(text.replace(group, "").replace(decimal, "."))
    except ValueError:
        return None


def _words_number(words: str, language: str) -> tuple[float, int] | None:
    """The number the last words of ``words`` spell, and where it starts ("ship twenty-four" -> (24, 5))."""
    for first in re.finditer(r"[^\s-]+", words):  # the longest tail of words that is one number
        converted = alpha2digit(words[first.start() :], language, threshold=0).strip()
        if converted.isdigit():
            return float(converted), first.start()
    return None


def find_quantities(text: str, language: str | None = None) -> list[FoundQuantity]:
    """Quantities in ``text`` with their units (Odoo's names), in order; overlapping readings keep the first kind."""
    lang = language if language in _LANGUAGES else "en"
    found: list[FoundQuantity] = []
    taken: list[tuple[int, int]] = []  # sorted, disjoint: an overlap check is a bisection

    def free(start: int, end: int) -> bool:
        i = bisect_left(taken, (start, end))
        return not ((i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end))

    for kind, pattern in zip(_KINDS, _PATTERNS, strict=True):
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            uom = normalise_uom(m.groupdict().get("u"))
            if kind == "packs":
                n, q = parse_quantity(m.group("n"), lang), parse_quantity(m.group("q"), lang)
                value = n * q if n is not None and q is not None else None
            elif kind == "dozen":
                value = 1.0
            elif kind == "words":
                spelled = _words_number(m.group("w"), lang)
                if spelled is None:
                    continue
                value, offset = spelled
                start = m.start() + offset
            else:
                value = parse_quantity(m.group("q"), lang)
                uom = uom or ("Units" if kind == "times" or m.groupdict().get("x") else None)
            if value is None or not free(start, end):
                continue
            found.append(FoundQuantity(value, uom, start, end, text[start:end]))
            insort(taken, (start, end))
    return sorted(found, key=lambda f: f.start)
