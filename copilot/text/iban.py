"""IBANs, by shape and by checksum.

``find_ibans`` finds the IBANs whose checksum is valid, in any case and grouped by spaces or hyphens
(``de89-3704-0044-0532-0130-00``): what redaction needs, since a product code may look like an IBAN.
``find_iban_like`` adds what is written like one in capitals (``GB00 ABCD 1234 5678 9012 34``) whatever its
checksum: what a bank-details check needs, since a mistyped IBAN is still a request to pay elsewhere.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban

__all__ = ["IBAN_SHAPE", "find_iban_like", "find_ibans"]

#: Capitals and digits in groups of four, optionally spaced: the way IBANs are printed.
IBAN_SHAPE = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")
#: Country, check digits and 10 to 32 more letters or digits, single spaces or hyphens between them; it may run
#: into the words after the IBAN, which the checksum trims. Bounded, so linear.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,32}")
_SHORTEST = 14


def _digits(char: str) -> str:
    """A character as the IBAN checksum reads it: digits as themselves, letters A=10 ... Z=35."""
    return char if char.isdigit() else str(ord(char.upper()) - 55)


#: Per character: (its value, 10 ** its number of digits), both mod 97, for one checksum step.
_STEP: dict[str, tuple[int, int]] = {
    c: (int(_digits(c)) % 97, pow(10, len(_digits(c)), 97))
    for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
}


def _valid_at(match: re.Match[str]) -> tuple[int, int] | None:
    """The longest valid IBAN starting at ``match``.

    The mod-97 checksum of every prefix is kept as the characters are read (one step per character), so only
    the rare prefix whose checksum holds is handed to ``stdnum`` for the country's length and format.
    """
    raw = match.group(0)
    head = "".join(_digits(c) for c in raw[:4])
    head_value, head_scale = int(head) % 97, pow(10, len(head), 97)
    remainder = 0
    candidates: list[int] = []
    for stop in range(4, len(raw)):
        char = raw[stop]
        if char in " -":
            continue
        value, scale = _STEP[char]
        remainder = (remainder * scale + value) % 97
        if stop + 1 >= _SHORTEST and (remainder * head_scale + head_value) % 97 == 1:
            candidates.append(stop + 1)
    for stop in reversed(candidates):
        if stdnum_iban.is_valid(raw[:stop].upper()):
            return match.start(), match.start() + stop
    return None


def find_ibans(text: str) -> list[tuple[int, int]]:
    """The spans of the IBANs in ``text`` whose checksum is valid."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (m := _CANDIDATE.search(text or "", pos)) is not None:
        found = _valid_at(m)
        if found:
            spans.append(found)
        pos = found[1] if found else m.start() + 1
    return spans


def find_iban_like(text: str) -> list[tuple[int, int]]:
    """The spans of the valid IBANs in ``text`` and of what is printed like an IBAN, in order, without overlaps."""
    spans = sorted([*find_ibans(text), *((m.start(), m.end()) for m in IBAN_SHAPE.finditer(text or ""))])
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
