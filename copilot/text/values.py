"""Dates, money and units of measure as people write them in email, parsed into typed values."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

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

#: A date written without a year is the next occurrence on or after (email date - LOOKBACK_DAYS): emails
#: talk about the near future and the recent past ("left our warehouse on Friday, November 20").
LOOKBACK_DAYS = 31

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

_WD = (
    r"(?:(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thur?s?|fri|sat|sun)"
    r"\.?,?\s++)?"
)
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:,?\s++(?P<year>20\d{2}))?"
_PATTERNS = [
    re.compile(r"\b(?P<year>20\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(_WD + r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>20\d{2}|\d{2})\b", re.IGNORECASE),
    re.compile(_WD + r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<year>20\d{2})\b", re.IGNORECASE),
    re.compile(_WD + r"\b" + _MONTH + r"\s++(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?![:.,]\d|\s*%)" + _YEAR, re.IGNORECASE),
    re.compile(_WD + r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s++(?:of\s++)?" + _MONTH + r"\b" + _YEAR, re.IGNORECASE),
]


_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class FoundDate:
    """A date found in text, with where it was."""

    value: date
    start: int
    end: int
    text: str
    weekday_mismatch: bool = False


def _resolve(day: int, month: int, year: int | None, weekday: int | None, reference: date) -> tuple[date, bool] | None:
    if year is not None:
        try:
            value = date(year, month, day)
        except ValueError:
            return None
        return value, weekday is not None and value.weekday() != weekday
    earliest = reference - timedelta(days=LOOKBACK_DAYS)
    candidates = []
    for y in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidates.append(date(y, month, day))
        except ValueError:
            continue
    candidates = [c for c in candidates if c >= earliest]
    if not candidates:
        return None
    if weekday is not None:
        matching = [c for c in candidates if c.weekday() == weekday]
        if matching:
            return matching[0], False
        return candidates[0], True
    return candidates[0], False


def find_dates(text: str, reference: date) -> list[FoundDate]:
    """Calendar dates in ``text``; a missing year is inferred from ``reference`` (the email's date)."""
    if not _DIGIT.search(text):  # every date pattern has a digit: skip the five scans of a text without any
        return []
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if _overlaps(taken, match.start(), match.end()):
                continue
            groups = match.groupdict()
            month_name = groups.get("month")
            if month_name and month_name.lower() == "may" and not month_name[0].isupper():
                continue  # "we may 3 ..." is not a date
            if month_name and month_name.lower().startswith("mar") and month_name.islower():
                continue  # "mar" is rarely lower-case in a date
            weekday = _WEEKDAYS.get((groups.get("wd") or "")[:3].lower()) if groups.get("wd") else None
            year = groups.get("year")
            year_value = None if not year else (2000 + int(year) if len(year) == 2 else int(year))
            if month_name:
                month, day = _MONTHS[month_name[:3].lower()], int(groups["d"])
            elif groups.get("a"):  # US numeric m/d/y unless the first number cannot be a month
                a, b = int(groups["a"]), int(groups["b"])
                month, day = (a, b) if a <= 12 else (b, a)
            else:
                month, day = int(groups["m"]), int(groups["d"])
            if not 1 <= month <= 12:
                continue
            resolved = _resolve(day, month, year_value, weekday, reference)
            if resolved is None:
                continue
            value, mismatch = resolved
            found.append(FoundDate(value, match.start(), match.end(), match.group(0), mismatch))
            _take(taken, match.start(), match.end())
    return sorted(found, key=lambda f: f.start)


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when [start, end) overlaps a span of ``taken`` (sorted, disjoint): a bisection, not a scan."""
    i = bisect_left(taken, (start, end))
    return (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end)


def _take(taken: list[tuple[int, int]], start: int, end: int) -> None:
    taken.insert(bisect_left(taken, (start, end)), (start, end))


_RELATIVE = {"today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


def relative_date(phrase: str, reference: date) -> date | None:
    """``tomorrow``, ``today``, ``yesterday`` resolved against ``reference``."""
    offset = _RELATIVE.get(phrase.strip().lower())
    return None if offset is None else reference + timedelta(days=offset)


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
