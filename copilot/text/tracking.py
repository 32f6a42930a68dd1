"""Shipment tracking numbers by carrier format: UPS, FedEx, DHL, DPD, GLS, TNT, USPS, containers and bills of lading.

A number is reported only when its format proves the carrier (a UPS ``1Z`` number or an ISO 6346 container
number with a valid check digit, a USPS number with its GS1 check digit) or when the text around it names
the carrier or says "tracking"; a bare run of digits is not a tracking number. Container check digits use
``python-stdnum``; the carriers' own check digits (UPS, FedEx Express, USPS, DHL Express) are computed here.
Every pattern is bounded and possessive: any text is read in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stdnum import iso6346

__all__ = ["CARRIERS", "Carrier", "TrackingNumber", "carrier_of", "find_tracking_numbers", "normalise_tracking"]

Carrier = Literal["ups", "fedex", "dhl", "dpd", "gls", "tnt", "usps", "container", "bl"]
#: Carrier names as reported (lower case).
CARRIERS: tuple[Carrier, ...] = ("ups", "fedex", "dhl", "dpd", "gls", "tnt", "usps", "container", "bl")


@dataclass(frozen=True)
class TrackingNumber:
    """A tracking number (spaces removed, upper case), its carrier when known, and where it starts in the text."""

    number: str
    carrier: Carrier | None
    start: int


_I = re.IGNORECASE
_UPS = re.compile(r"(?<![A-Za-z0-9])1Z(?:[ ]?+[0-9A-Z]){16}+(?![A-Za-z0-9])", _I)
_CONTAINER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{3}[UJZ][ ]?+\d{6}[ -]?+\d(?![A-Za-z0-9])")
_JJD = re.compile(r"(?<![A-Za-z0-9])JJD\d{10,30}+(?![A-Za-z0-9])", _I)
_TNT = re.compile(r"(?<![A-Za-z0-9])GE\d{9}WW(?![A-Za-z0-9])", _I)
# digit groups separated by single spaces ("9400 1118 9922 3197 4284 90"): at most eight groups, each bounded
_DIGITS = re.compile(r"(?<![\w.,/-])\d{4,34}+(?:[ ]\d{2,34}+){0,7}+(?![\w/-]|[.,]\d)")
_BL = re.compile(
    r"\b(?:B/L|BL|HBL|MBL|bill of lading|Konnossement|connaissement|conocimiento(?: de embarque)?|cognossement)"
    r"\s*+(?:(?:no\.?|nr\.?|number|nummer|num[ée]ro|n[º°o]\.?|#)\s*+)?:?\s*+(?P<ref>[A-Z]{2,4}[A-Z0-9]{5,16}+|\d{8,16}+)"
    r"(?![A-Za-z0-9])",
    _I,
)
_CARRIER_WORDS: tuple[tuple[Carrier, re.Pattern[str]], ...] = (
    ("ups", re.compile(r"\bUPS\b")),
    ("fedex", re.compile(r"\bfed\s?ex\b", _I)),
    ("dhl", re.compile(r"\bDHL\b", _I)),
    ("dpd", re.compile(r"\bDPD\b", _I)),
    ("gls", re.compile(r"\bGLS\b", _I)),
    ("tnt", re.compile(r"\bTNT\b", _I)),
    ("usps", re.compile(r"\bUSPS\b|\bpostal service\b", _I)),
)
_TRACKING_WORDS = re.compile(
    r"track|sendungs|paketnummer|suivi|colis|seguimiento|env[ií]o|volgcode|zending|waybill|\bAWB\b|parcel",
    _I,
)
#: How far before and after a number its carrier's name or a tracking label may stand.
_BEFORE, _AFTER = 80, 40


def normalise_tracking(number: str) -> str:
    """``1z 999 aa1 ...`` as ``1Z999AA1...``: spaces removed, upper case."""
    return re.sub(r"\s+", "", number).upper()


def _ups_ok(n: str) -> bool:
    if len(n) != 18 or not n.startswith("1Z") or not n[17].isdigit():
        return False
    total = 0
    for i, ch in enumerate(n[2:17]):
        digit = int(ch) if ch.isdigit() else (ord(ch) - 3) % 10  # A=2 ... H=9, I=0 ...
        total += digit * (2 if i % 2 else 1)
    return (10 - total % 10) % 10 == int(n[17])


def _gs1_ok(n: str) -> bool:
    """GS1 mod-10 (weights 3 and 1 from the right), as USPS numbers carry it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(n[:-1])))
    return (10 - total % 10) % 10 == int(n[-1])


def _fedex_express_ok(n: str) -> bool:
    """FedEx Express (12 digits): weights 1, 3, 7 from the right, mod 11 mod 10."""
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(n[:-1])))
    return total % 11 % 10 == int(n[-1])


def _dhl_express_ok(n: str) -> bool:
    """DHL Express (10 digits): the first nine modulo 7."""
    return int(n[:9]) % 7 == int(n[9])


def _fits(n: str, carrier: Carrier) -> bool:
    """Whether a normalised number has the shape of ``carrier``'s numbers (check digits only where they prove it)."""
    if carrier == "ups":
        return _ups_ok(n)
    if carrier == "container":
        return iso6346.is_valid(n)
    if carrier == "bl":
        return 8 <= len(n) <= 20
    if not n.isdigit():
        return (carrier == "dhl" and n.startswith("JJD")) or (carrier == "tnt" and bool(_TNT.fullmatch(n)))
    size = len(n)
    if carrier == "fedex":
        return (size == 12 and _fedex_express_ok(n)) or size in (15, 20) or (size == 22 and n.startswith("96"))
    if carrier == "usps":
        return size in (20, 22, 26, 30) and _gs1_ok(n)
    if carrier == "dhl":
        return size in (10, 11) or size == 20
    if carrier == "dpd":
        return size == 14
    if carrier == "gls":
        return size in (11, 12)
    return carrier == "tnt" and size == 9


def carrier_of(number: str, named: Carrier | None = None) -> Carrier | None:
    """The carrier of a normalised number: the one named beside it if the number fits it, else the one its
    format proves (UPS, container, USPS, DHL JJD), else None. Twelve digits with FedEx named beside them are
    FedEx: senders write them so, and the check digit proves only numbers nobody labels."""
    if named is not None and _fits(number, named):
        return named
    if named == "fedex" and number.isdigit() and len(number) == 12:
        return "fedex"
    if _ups_ok(number):
        return "ups"
    if iso6346.is_valid(number):
        return "container"
    if number.startswith("JJD"):
        return "dhl"
    if number.isdigit() and len(number) in (20, 22, 26, 30) and number[0] == "9" and _gs1_ok(number):
        return "usps"
    return None


def _named_carrier(window: str, at: int) -> Carrier | None:
    """The carrier named nearest to position ``at`` of ``window``, if any."""
    hits = [(abs(m.start() - at), carrier) for carrier, word in _CARRIER_WORDS for m in word.finditer(window)]
    return min(hits)[1] if hits else None


def _labelled_guess(n: str) -> Carrier | None:
    """The carrier of a number a tracking label announces, by the check digits its length allows."""
    if not n.isdigit():
        return None
    if len(n) == 12 and _fedex_express_ok(n):
        return "fedex"
    if len(n) == 10 and _dhl_express_ok(n):
        return "dhl"
    if len(n) == 14:
        return "dpd"
    return None


def find_tracking_numbers(text: str) -> list[TrackingNumber]:
    """Tracking, container and bill-of-lading numbers in ``text``, in order, each once."""
    found: dict[str, TrackingNumber] = {}
    spans: list[tuple[int, int]] = []

    def add(number: str, carrier: Carrier | None, start: int, end: int) -> None:
        if number not in found and not any(s <= start < e for s, e in spans):
            found[number] = TrackingNumber(number, carrier, start)
            spans.append((start, end))

    for match in _BL.finditer(text):
        add(normalise_tracking(match.group("ref")), "bl", match.start("ref"), match.end("ref"))
    for pattern, carrier in ((_UPS, "ups"), (_CONTAINER, "container"), (_JJD, "dhl"), (_TNT, "tnt")):
        for match in pattern.finditer(text):
            number = normalise_tracking(match.group(0)).replace("-", "")  # "MSKU 123456-5": the check digit apart
            if carrier in ("dhl", "tnt") or _fits(number, carrier):  # type: ignore[arg-type]
                add(number, carrier, match.start(), match.end())  # type: ignore[arg-type]
    for match in _DIGITS.finditer(text):
        number = normalise_tracking(match.group(0))
        begin = max(0, match.start() - _BEFORE)
        window = text[begin : match.end() + _AFTER]
        named = _named_carrier(window, match.start() - begin)
        carrier = carrier_of(number, named)
        if carrier is None and (named is not None or _TRACKING_WORDS.search(window)):
            carrier = _labelled_guess(number)
        if carrier is not None:
            add(number, carrier, match.start(), match.end())
    return sorted(found.values(), key=lambda t: t.start)
