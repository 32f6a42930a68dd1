"""Amounts of money as suppliers write them in five languages ("$1,234.50", "1.234,50 €", "275,00 EUR pro Stück").

A bounded pattern per language finds where an amount and its currency are (thousands and decimal signs from
``babel``'s locale data); ``price-parser`` reads the amount and the currency sign of each span.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol
from price_parser import Price
from pydantic import BaseModel, ConfigDict, Field

from copilot.text.units import normalise_uom, singular_uom

__all__ = ["CURRENCIES", "FoundMoney", "Money", "find_money", "price_unit"]

#: Currencies read by ISO code; their signs come from babel ("$", "€", "£", "CA$", "CHF").
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "SEK", "DKK", "NOK", "PLN", "CZK")
_WORDS = {"dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR", "us$": "USD"}


class Money(BaseModel):
    """An amount, optionally per unit of measure."""

    model_config = ConfigDict(frozen=True)

    amount: float
    currency: str | None = Field(default=None, description="ISO code, e.g. USD")
    per: str | None = Field(default=None, description="Unit of measure the price is for, e.g. Dozens")

    def label(self) -> str:
        """``$312.50 per Dozen``."""
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(self.currency or "", "")
        text = f"{symbol}{self.amount:,.2f}" if symbol else f"{self.amount:,.2f} {self.currency or ''}".strip()
        return f"{text} per {singular_uom(self.per)}" if self.per else text


@dataclass(frozen=True)
class FoundMoney:
    """An amount of money found in text."""

    money: Money
    start: int
    end: int


@cache
def _signs() -> dict[str, str]:
    """Currency sign or code (lower case) -> ISO code."""
    signs = {code.lower(): code for code in CURRENCIES}
    for code in CURRENCIES:
        signs.setdefault(get_currency_symbol(code, locale="en_US").lower(), code)
    return signs | _WORDS


def _separators(language: str) -> tuple[str, str]:
    """(group signs, decimal sign) of ``language``: "1,234.50" in English, "1.234,50" in German."""
    decimal = get_decimal_symbol(language)
    group = get_group_symbol(language)
    groups = group + (" .\u00a0" if group.isspace() else "")
    return groups, decimal


def _build(language: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(currency before the amount, currency after it) for ``language``.

    Linear on any input (a run of 50,000 digits takes milliseconds): the amount is an atomic group (no
    backtracking into it: a shorter amount would leave a digit next to it, which the patterns refuse), and an
    amount after its currency only starts where a number starts (not after a digit, nor after "digit,").
    The other convention is read too when both signs are written ("1.234,50" in an English email).
    """
    groups, decimal = _separators(language)
    other = "," if decimal == "." else "."
    g, d, o = f"[{re.escape(groups)}]", re.escape(decimal), re.escape(other)
    # a single sign followed by one or two digits is a decimal sign in every language ("$85.50" in a French email)
    amount = (
        rf"(?P<amt>(?>\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d{{1,2}})?|\d{{1,3}}(?:{d}\d{{3}})+{o}\d{{1,2}}"
        rf"|\d+(?:[.,]\d{{1,2}})?))"
    )
    signs = sorted(_signs(), key=len, reverse=True)
    symbols = "|".join(re.escape(s) for s in signs if not s.isalpha())
    words = "|".join(re.escape(s) for s in signs if s.isalpha())
    currency = rf"(?P<cur>{symbols}|\b(?:{words})\b)"
    before = re.compile(currency + r"[ \t\u00a0]?" + amount + r"(?![\d.,]*\d)", re.IGNORECASE)
    after = re.compile(r"(?<!\d)(?<!\d[.,])" + amount + r"[ \t\u00a0]?" + currency, re.IGNORECASE)
    return before, after


_LANGUAGES = ("en", "de", "fr", "es", "nl")
_BUILT = [_build(language) for language in _LANGUAGES]
#: The patterns of each language, in ``_LANGUAGES`` order: currency before the amount, and after it.
_BEFORE = [before for before, _ in _BUILT]
_AFTER = [after for _, after in _BUILT]


# "per dozen", "/dz", "each", "pro Stück", "par pièce", "la pièce", "por unidad", "per stuk", "je Stück"
_PER = re.compile(
    r"^[ \t]*+(?:(?P<kw>per|pro|par|por|je|/|an?|la|el|le)[ \t]*+(?P<uom>[^\W\d_]{1,20}+\.?)"
    r"|(?P<each>each|ea\.|chacun[e]?|cada[ \t]un[oa]|das[ \t]St(?:ü|ue)ck|St(?:ü|ue)ckpreis)\b)",
    re.IGNORECASE,
)


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect_left(taken, (start, end))
    return (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end)


def _amount(text: str, language: str) -> float | None:
    _, decimal = _separators(language)
    if "," in text and "." in text:
        decimal = text[max(text.rfind(","), text.rfind("."))]
    elif re.search(r"[.,]\d{1,2}$", text):
        decimal = text[-3] if text[-3] in ".," else text[-2]
    price = Price.fromstring(text, decimal_separator=decimal)
    return float(price.amount) if price.amount is not None else None


def price_unit(text: str) -> tuple[str | None, int]:
    """The unit a price is for when ``text`` (what follows the amount) starts with one ("per dozen", "pro Stück",
    "each"): (Odoo's unit name, length read), or (None, 0)."""
    match = _PER.match(text[:30])
    if not match:
        return None, 0
    per = "Units" if match.group("each") else normalise_uom(match.group("uom"))
    return (per, match.end()) if per else (None, 0)


def find_money(text: str, language: str | None = None) -> list[FoundMoney]:
    """Amounts of money in ``text`` (``$1,234.50``, ``312.50 USD``, ``1.234,50 €``), with ``per <uom>`` when stated.

    ``language`` (en, de, fr, es, nl; default en) tells the decimal sign when only one kind is written.
    """
    index = _LANGUAGES.index(language) if language in _LANGUAGES else 0
    lang = _LANGUAGES[index]
    found: list[FoundMoney] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_BEFORE[index], _AFTER[index]):
        for match in pattern.finditer(text):
            if _overlaps(taken, match.start(), match.end()):
                continue
            amount = _amount(match.group("amt"), lang)
            code = _signs().get(match.group("cur").lower())
            if amount is None or code is None:
                continue
            per, length = price_unit(text[match.end() : match.end() + 30])
            end = match.end() + length
            found.append(FoundMoney(Money(amount=amount, currency=code, per=per), match.start(), end))
            taken.insert(bisect_left(taken, (match.start(), end)), (match.start(), end))
    return sorted(found, key=lambda f: f.start)
