"""Dates, money and units of measure as people write them in email, parsed into typed values.

Dates live in ``copilot.text.dates`` (dateparser); they are re-exported here for the callers that read both.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from copilot.text.dates import LOOKBACK_DAYS, FoundDate, find_dates, relative_date

__all__ = [
    "LOOKBACK_DAYS",
    "UOM_WORDS",
    "FoundDate",
    "FoundMoney",
    "Money",
    "convert",
    "find_dates",
    "find_money",
    "normalise_uom",
    "parse_number",
    "relative_date",
    "singular_uom",
]


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when [start, end) overlaps a span of ``taken`` (sorted, disjoint): a bisection, not a scan."""
    i = bisect_left(taken, (start, end))
    return (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end)


def _take(taken: list[tuple[int, int]], start: int, end: int) -> None:
    taken.insert(bisect_left(taken, (start, end)), (start, end))


# -- money ---------------------------------------------------------------------------------------
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


# Linear on any input (a run of 50,000 digits takes milliseconds): the amount is an atomic group (no
# backtracking into it: a shorter amount would leave a digit next to it, which the patterns refuse anyway),
# and an amount after its currency only starts where a number starts (not after a digit, nor after
# "digit,"), so a long run of digits or of ",123" groups is read once, not once per position.
_AMOUNT = r"(?P<amt>(?>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?))"
_MONEY_PATTERNS = [
    re.compile(r"(?P<cur>[$€£]|USD|EUR|GBP|US\$)\s?" + _AMOUNT + r"(?![\d.,]*\d)"),
    re.compile(r"(?<!\d)(?<!\d,)" + _AMOUNT + r"\s?(?P<cur>USD|EUR|GBP|€|dollars)\b"),
]
_CURRENCIES = {
    "$": "USD",
    "US$": "USD",
    "USD": "USD",
    "dollars": "USD",
    "€": "EUR",
    "EUR": "EUR",
    "£": "GBP",
    "GBP": "GBP",
}
_PER = re.compile(r"^\s*(?:(?P<kw>per|/|an?)\s*(?P<uom>[a-z]+)|(?P<each>each)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class FoundMoney:
    """An amount of money found in text."""

    money: Money
    start: int
    end: int


def find_money(text: str) -> list[FoundMoney]:
    """Amounts of money in ``text`` (``$1,234.50``, ``312.50 USD``), with ``per <uom>`` when stated."""
    found: list[FoundMoney] = []
    taken: list[tuple[int, int]] = []
    for pattern in _MONEY_PATTERNS:
        for match in pattern.finditer(text):
            if _overlaps(taken, match.start(), match.end()):
                continue
            per_match = _PER.match(text[match.end() : match.end() + 20])
            per = None
            end = match.end()
            if per_match:
                per = "Units" if per_match.group("each") else normalise_uom(per_match.group("uom"))
                if per:
                    end += per_match.end()
            money = Money(amount=parse_number(match.group("amt")), currency=_CURRENCIES[match.group("cur")], per=per)
            found.append(FoundMoney(money, match.start(), end))
            _take(taken, match.start(), end)
    return sorted(found, key=lambda f: f.start)


def parse_number(text: str) -> float:
    """``1,234.50`` -> 1234.5."""
    return float(text.replace(",", ""))


# -- units of measure ----------------------------------------------------------------------------
_UOMS = {
    "dozen": "Dozens",
    "dozens": "Dozens",
    "dz": "Dozens",
    "doz": "Dozens",
    "unit": "Units",
    "units": "Units",
    "pcs": "Units",
    "pc": "Units",
    "piece": "Units",
    "pieces": "Units",
    "each": "Units",
    "ea": "Units",
    "x": "Units",
    "kg": "kg",
    "kgs": "kg",
    "t": "t",
    "ton": "t",
    "tons": "t",
    "tonne": "t",
    "tonnes": "t",
    "hour": "Hours",
    "hours": "Hours",
    "h": "Hours",
}
UOM_WORDS = r"(?:dozens?|dz|doz|units?|pcs|pc|pieces?|each|ea|kgs?|tons?|tonnes?|hours?)"
_FACTORS = {("Dozens", "Units"): 12.0, ("Units", "Dozens"): 1 / 12}


def normalise_uom(word: str | None) -> str | None:
    """Odoo's name of a unit written in an email (``dozen`` -> ``Dozens``); None if unknown."""
    if not word:
        return None
    return _UOMS.get(word.strip().lower().rstrip("."))


def convert(value: float, from_uom: str | None, to_uom: str | None) -> float | None:
    """``value`` from one unit into another (Units <-> Dozens); None when not convertible."""
    if not from_uom or not to_uom or from_uom.lower() == to_uom.lower():
        return value
    factor = _FACTORS.get((from_uom, to_uom))
    return value * factor if factor else None


def singular_uom(uom: str) -> str:
    """``Dozens`` -> ``Dozen``: the unit's name after "per" or "1"."""
    return uom[:-1] if uom in ("Units", "Dozens", "Hours") else uom
