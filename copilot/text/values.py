"""Dates, money and units of measure as people write them in email, parsed into typed values.

Each lives in its own module (``dates``: dateparser; ``money``: price-parser and babel; ``units``;
``quantities``); this module gathers them for the callers that read several.
"""

from __future__ import annotations

from copilot.text.dates import LOOKBACK_DAYS, FoundDate, find_dates, relative_date
from copilot.text.money import FoundMoney, Money, find_money
from copilot.text.quantities import FoundQuantity, find_quantities, parse_quantity
from copilot.text.units import UOM_WORDS, convert, normalise_uom, singular_uom

__all__ = [
    "LOOKBACK_DAYS",
    "UOM_WORDS",
    "FoundDate",
    "FoundMoney",
    "FoundQuantity",
    "Money",
    "convert",
    "find_dates",
    "find_money",
    "find_quantities",
    "normalise_uom",
    "parse_number",
    "parse_quantity",
    "relative_date",
    "singular_uom",
]


def parse_number(text: str) -> float:
    """``1,234.50`` -> 1234.5."""
    return float(text.replace(",", ""))
