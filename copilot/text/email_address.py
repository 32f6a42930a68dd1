"""E-mail addresses in running text.

The local part is any run of word characters (Unicode ones too: ``josé@``, ``_ops@``), dots, ``%``, ``+`` and
``-``; the domain has at least one dot and ends in a top-level domain of letters (or an IDN ``xn--``), so a price
written ``100@3.50`` is not an address. Obfuscated forms (``jane [at] acme.com``) are the PII detector's.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata

__all__ = ["EMAIL_ADDRESS", "MAX_ADDRESS", "addresses_in", "email_addresses", "normalise_address"]

#: Linear: the local part is possessive and starts only where its run starts; each domain label is possessive
#: and ends at a dot, so the labels are given back at most once each.
EMAIL_ADDRESS = re.compile(
    r"(?<![\w.%+-])[\w.%+-]++@(?:[\w-]++\.)+(?:[Xx][Nn]--[A-Za-z0-9-]{1,59}|[^\W\d_]{2,63})(?!\w)"
)


def email_addresses(text: str) -> list[str]:
    """The e-mail addresses in ``text``, in order."""
    return [m.group(0) for m in EMAIL_ADDRESS.finditer(text or "")]


#: Longest address considered at all (RFC 5321 path limit).
MAX_ADDRESS = 320


def normalise_address(value: str | None) -> str | None:
    """The bare address of ``value`` ("Name <a@b>" or "a@b"), NFC and lower case; None when there is none."""
    if not value or len(value) > 4 * MAX_ADDRESS:
        return None
    _, address = email.utils.parseaddr(value)
    address = unicodedata.normalize("NFC", address.strip()).lower()
    return address if 0 < len(address) <= MAX_ADDRESS else None


def addresses_in(value: str | None) -> set[str]:
    """Every address in an Odoo email field (which may hold ``Name <a@b>`` or ``a@b, c@d``), normalised."""
    if not value:
        return set()
    found: set[str] = set()
    for _, address in email.utils.getaddresses([value[: 8 * MAX_ADDRESS]]):
        normal = normalise_address(address)
        if normal:
            found.add(normal)
    return found
