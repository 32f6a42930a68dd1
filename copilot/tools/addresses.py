"""Email addresses compared whole: normalised, case-insensitive, never as a LIKE pattern.

Odoo's ``=ilike`` and ``ilike`` operators are SQL ``ILIKE``: ``%`` and ``_`` in the value are wildcards and
``ilike`` matches substrings, so a raw address is a pattern (``a%@example.com`` matches the administrator's
address). Lookups here escape the wildcards (PostgreSQL's default escape character is the backslash, which
Odoo passes through unchanged) **and** compare the addresses found exactly in Python, so a server that
escaped differently could still not widen a match.
"""

from __future__ import annotations

import email.utils
import unicodedata

__all__ = ["addresses_in", "escape_like", "exact_address_domain", "normalise_address"]

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


def escape_like(value: str) -> str:
    """``value`` with the LIKE wildcards ``%``, ``_`` and the escape character ``\\`` escaped (matched literally)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def exact_address_domain(field: str, address: str) -> list[object]:
    """An Odoo domain finding records whose ``field`` holds ``address`` alone or as ``Name <address>``.

    It narrows the search; callers still keep only rows whose :func:`addresses_in` contains the address.
    """
    pattern = escape_like(address)
    return ["|", (field, "=ilike", pattern), (field, "ilike", f"<{pattern}>")]
