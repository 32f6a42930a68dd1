"""PII redaction for everything the copilot logs or stores: e-mail addresses, phone numbers, IBANs,
payment card numbers, bank account numbers and BICs named as such, and street addresses.

Each detector is a pattern plus a check that a pattern alone cannot make: phone numbers must be
possible numbers for their country (libphonenumber's metadata, through ``phonenumbers``), IBANs must
pass ISO 13616's mod-97 check and their country's format (``python-stdnum``), card numbers the Luhn
check and an issuer's prefix and length. Business numbers survive: order and picking references
(P00012, S00024, WH/IN/00008), dates, quantities, amounts, tracking numbers and product codes are
not personal data and an audit record without them would be useless. The rules that keep them:

* a phone number written as one bare run of digits needs a cue ("phone", "call", "tel") before it:
  a bare run is far more often a tracking number, a barcode or a reference;
* nothing glued to a letter, a slash or an underscore is a phone or card number (``P00012``,
  ``INV/2026/00012``, ``FURN_8888``, ``1Z999AA10123456784``);
* date shapes (2026-11-26, 26.11.2026), decimals (1234.56), thousands groups (12 500 000), numbers next
  to a currency and numbers after a tracking cue are never phone numbers.

``redact(text)`` replaces each span with a placeholder (``<EMAIL>``, ``<PHONE>``, ...);
``find_pii(text)`` returns the spans; ``redact_obj(obj)`` redacts every string in nested data
(dicts, lists, pydantic models, which are dumped to JSON-able data first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict
from stdnum import bic as stdnum_bic

from copilot.text.email_address import EMAIL_ADDRESS
from copilot.text.iban import find_ibans

__all__ = [
    "DEFAULT_PHONE_REGIONS",
    "PLACEHOLDERS",
    "PiiKind",
    "PiiSpan",
    "find_pii",
    "is_luhn_valid",
    "redact",
    "redact_obj",
]

PiiKind = Literal["email", "phone", "iban", "card", "account", "bic", "address"]

PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "iban": "<IBAN>",
    "card": "<CARD>",
    "account": "<ACCOUNT>",
    "bic": "<BIC>",
    "address": "<ADDRESS>",
}
#: When two detectors claim overlapping text, the more specific one wins (an IBAN's digits are not a phone).
_PRIORITY: dict[str, int] = {"email": 0, "iban": 1, "card": 2, "account": 3, "bic": 4, "phone": 5, "address": 6}

#: Regions whose local formats (no +country code) are recognised: the US and the main European ones.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "BE", "NL", "ES", "IT", "CH", "CA", "AU", "IN")


class PiiSpan(BaseModel):
    """A piece of personal data found in a text (``text`` is the raw value: never log a span)."""

    model_config = ConfigDict(frozen=True)

    kind: PiiKind
    start: int
    end: int
    text: str

    @property
    def placeholder(self) -> str:
        """What replaces the span in redacted text."""
        return PLACEHOLDERS[self.kind]


# -- e-mail ---------------------------------------------------------------------------------------------
#: "jane [at] example [dot] com", "jane(at)example.com"
_EMAIL_OBFUSCATED = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*\s*[\[(]\s*at\s*[\])]\s*[A-Za-z0-9-]+"
    r"(?:(?:\s*[\[(]\s*dot\s*[\])]\s*|\.)[A-Za-z0-9-]+)+",
    re.IGNORECASE,
)

# -- phone ----------------------------------------------------------------------------------------------
_PHONE = re.compile(
    r"(?<![\w+/.,%$€£#-])"
    r"(?:\+|00)?[ ]?(?:\(\d{1,5}\)|\d)(?:[ .\-]?(?:\(\d{1,5}\)|\d)){6,20}"
    r"(?![\w/%€$£]|[.,]\d)"
)
_PHONE_CUE = re.compile(
    r"(?:\b(?:tel(?:ephone)?|phone|ph|mobile|mob|cell(?:phone)?|call(?:\s+me)?|fax|whats\s?app|sms|text\s+me|"
    r"ring|reach\s+me|contact\s+number|gsm|t[ée]l[ée]phone|portable|handy|telefon)\b|\b[TMPF]\s*:)"
    r"[^\n\d]{0,20}$",
    re.IGNORECASE,
)
_TRACKING_CUE = re.compile(
    r"\b(?:track(?:ing)?|parcel|shipment|consignment|waybill|awb|barcode|ean|upc|gtin|serial|sku|lot|batch|"
    r"order|invoice|po|so|ref(?:erence)?|quote|ticket|case|qty|quantity|quantities|pcs|units?|items?|total|price|"
    r"amount|weight|kg|lbs?|pro|bol|b/l|bill\s+of\s+lading|container|booking|seal|hawb|mawb|pallets?|cartons?|sscc)"
    r"\b[^\n\d]{0,20}$",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"(?:[$€£¥]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|INR)\b)\s*$", re.IGNORECASE)
_MONEY_AFTER = re.compile(r"^\s*(?:[$€£¥]|(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|INR)\b)", re.IGNORECASE)
_DATE_SHAPE = re.compile(
    r"^(?:\d{4}[-. ]\d{1,2}[-. ]\d{1,2}|\d{1,2}[-. ]\d{1,2}[-. ]\d{4})(?:[ T]\d{1,2}(?:[.:]\d{2}){0,2})?$"
)
_DECIMAL = re.compile(r"^\d+\.\d{1,3}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:[ .,]\d{3})+$")

# -- IBAN, cards, bank accounts, BIC --------------------------------------------------------------------
_CARD = re.compile(r"(?<![\w.,/-])\d(?:[ -]?\d){12,18}(?![\w/]|[.,]\d)")
_ACCOUNT = re.compile(
    r"(?:\b(?:bank\s++)?(?:account|acct|a/c)\.?\s*+(?:number|num|no\.?|nr\.?|#)?|\brouting\s*+(?:number|no\.?|#)?"
    r"|\baba\b|\bsort\s*+code|\bbsb)\s*+[:#]?\s*+(?P<value>\d[\d -]{4,22}\d)(?![\w/])",
    re.IGNORECASE,
)
_BIC = re.compile(r"(?<![A-Za-z0-9])[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])")
_BIC_CUE = re.compile(r"\b(?:bic|swift|swift/bic|bic/swift|swift\s+code)\b[^\n]{0,12}$", re.IGNORECASE)

# -- street addresses -----------------------------------------------------------------------------------
_STREET_EN = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq|"
    r"Parkway|Pkwy|Highway|Hwy|Terrace|Crescent|Close|Circle|Trail)"
)
_ADDRESSES = (
    # 221B Baker Street, 1600 Amphitheatre Parkway, 4 Privet Dr.
    re.compile(r"\b\d{1,5}[A-Za-z]?,?[ ](?:[A-Z][A-Za-z'’.-]+[ ]){1,4}" + _STREET_EN + r"\b\.?"),
    # 12 rue de la Paix, 5 bis avenue Foch, 8 Place Vendôme (up to the end of the line or a comma)
    re.compile(
        r"\b\d{1,4}(?:[ ]?(?:bis|ter))?,?[ ](?:(?i:rue|avenue|boulevard|bd|chemin|impasse|allée|quai|chaussée)"
        r"|Place|Via|Viale|Calle|Avenida|Plaza)[ ][^\n,;]{2,40}"
    ),
    # Rue de la Loi 16, Chaussée de Wavre 1234, Via Roma 10
    re.compile(
        r"\b(?:Rue|Avenue|Boulevard|Chaussée|Place|Via|Viale|Calle|Avenida)[ ]"
        r"(?:(?:de|la|le|du|des|del|della|di|d'|l')[ ]?){0,3}(?:[A-Z][\w'’-]*[ ]){1,3}\d{1,4}[a-z]?\b"
    ),
    # Hauptstraße 5, Keizersgracht 123, Kerkstraat 7a
    re.compile(
        r"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|laan|straat|gracht|plein|steenweg)"
        r"[ ]\d{1,4}[a-z]?\b"
    ),
)


#: What every detector needs somewhere in a text: a digit (phones, IBANs, cards, accounts, addresses), an ``@``
#: or a bracket (e-mail addresses, written or obfuscated), a BIC cue. A text without any holds no personal data.
_MAY_HOLD_PII = re.compile(r"[\d@(\[]|bic|swift", re.IGNORECASE)


def is_luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_brand_ok(digits: str) -> bool:
    """An issuer prefix with a length that issuer uses (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
    Maestro): a Luhn-valid tracking or serial number of another shape is not a card."""
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649:
        return 16 <= n <= 19
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19
    if two == 62:
        return 16 <= n <= 19
    if two in (50, 56, 57, 58) or digits[0] == "6":
        return 12 <= n <= 19
    return False


def _phone_ok(text: str, candidate: str, start: int, end: int, regions: tuple[str, ...]) -> bool:
    digits = re.sub(r"\D", "", candidate)
    before = text[max(0, start - 40) : start]
    after = text[end : end + 6]
    international = candidate.startswith(("+", "00"))
    if international:
        number = "+" + digits[2:] if candidate.startswith("00") else "+" + digits
        if not 8 <= len(number) - 1 <= 15:
            return False
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            return False
    cue = bool(_PHONE_CUE.search(before))
    compact = candidate.strip()
    if _DATE_SHAPE.match(compact) or _DECIMAL.match(compact):
        return False
    if _MONEY_BEFORE.search(before) or _MONEY_AFTER.match(after):
        return False
    if not cue and (_TRACKING_CUE.search(before) or _THOUSANDS.match(compact)):
        return False
    formatted = not compact.isdigit()
    if not formatted and not cue:
        return False  # a bare run of digits: a tracking number, a barcode or a reference unless called a phone
    if not (8 if not cue else 7) <= len(digits) <= 15:
        return False
    groups = re.findall(r"\d+", compact)
    if not cue and len(groups) == 2 and not compact.startswith(("0", "(")):
        return False  # "1000-2000": a range; a two-part local number starts with its trunk prefix (07700 900123)
    if not cue and len(digits) < 10 and max(len(g) for g in groups) < 3:
        return False  # "10 20 30 40": a list of small numbers, not a phone (06 12 34 56 78 has ten digits)
    for region in regions:
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(compact, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _scan(text: str, regions: tuple[str, ...]) -> Iterator[tuple[str, int, int]]:
    for m in EMAIL_ADDRESS.finditer(text):
        yield "email", m.start(), m.end()
    for m in _EMAIL_OBFUSCATED.finditer(text):
        if re.search(r"[\[(]\s*at\s*[\])]", m.group(0), re.IGNORECASE):
            yield "email", m.start(), m.end()
    for start, end in find_ibans(text):
        yield "iban", start, end
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        tracking = _TRACKING_CUE.search(text[max(0, m.start() - 40) : m.start()])
        if is_luhn_valid(digits) and _card_brand_ok(digits) and not tracking:
            yield "card", m.start(), m.end()
    for m in _ACCOUNT.finditer(text):
        yield "account", m.start("value"), m.end("value")
    for m in _BIC.finditer(text):
        if _BIC_CUE.search(text[max(0, m.start() - 30) : m.start()]) and stdnum_bic.is_valid(m.group(0)):
            yield "bic", m.start(), m.end()
    for m in _PHONE.finditer(text):
        candidate = m.group(0)
        stripped = candidate.rstrip(" .-")
        start = m.start() + (len(candidate) - len(candidate.lstrip(" ")))
        end = m.start() + len(stripped)
        if _phone_ok(text, text[start:end], start, end, regions):
            yield "phone", start, end
    for pattern in _ADDRESSES:
        for m in pattern.finditer(text):
            yield "address", m.start(), len(m.group(0).rstrip()) + m.start()


def find_pii(
    text: str, *, kinds: Iterable[str] | None = None, regions: Iterable[str] = DEFAULT_PHONE_REGIONS
) -> list[PiiSpan]:
    """The personal data in ``text``, in order, without overlaps (the more specific detector wins)."""
    if not text or not _MAY_HOLD_PII.search(text):
        return []
    wanted = set(kinds) if kinds is not None else set(PLACEHOLDERS)
    found = sorted(
        ((kind, start, end) for kind, start, end in _scan(text, tuple(regions)) if kind in wanted and end > start),
        key=lambda s: (_PRIORITY[s[0]], s[1], -(s[2] - s[1])),
    )
    taken: list[tuple[int, int]] = []
    spans: list[PiiSpan] = []
    for kind, start, end in found:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        spans.append(PiiSpan(kind=kind, start=start, end=end, text=text[start:end]))  # type: ignore[arg-type]
    spans.sort(key=lambda s: s.start)
    return spans


def redact(text: str, *, kinds: Iterable[str] | None = None, regions: Iterable[str] = DEFAULT_PHONE_REGIONS) -> str:
    """``text`` with every piece of personal data replaced by its placeholder (``<EMAIL>``, ``<PHONE>``, ...)."""
    if not text or not isinstance(text, str):
        return text
    spans = find_pii(text, kinds=kinds, regions=regions)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(span.placeholder)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_obj(obj: Any, *, kinds: Iterable[str] | None = None) -> Any:
    """A copy of ``obj`` with every string redacted: dicts (keys too), lists, tuples, sets, pydantic models
    (dumped to JSON-able data first). Numbers, booleans, ``None`` and other values are kept as they are."""
    wanted = tuple(kinds) if kinds is not None else None
    done: dict[str, str] = {}  # this call's strings only: the same key or value in ``obj`` is redacted once

    def text(value: str) -> str:
        if value not in done:
            done[value] = redact(value, kinds=wanted)
        return done[value]

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, BaseModel):
            return walk(value.model_dump(mode="json"))
        if isinstance(value, dict):
            return {(text(k) if isinstance(k, str) else k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [walk(v) for v in value]
        return value

    return walk(obj)
