"""Email addresses compared whole: normalised, case-insensitive, never as a LIKE pattern.

Odoo's ``=ilike`` and ``ilike`` operators are SQL ``ILIKE``: ``%`` and ``_`` in the value are wildcards and
``ilike`` matches substrings, so a raw address is a pattern (``a%@example.com`` matches the administrator's
address). Lookups here escape the wildcards (PostgreSQL's default escape character is the backslash, which
Odoo passes through unchanged) **and** compare the addresses found exactly in Python, so a server that
escaped differently could still not widen a match.
"""

from __future__ import annotations

from copilot.text.email_address import addresses_in, normalise_address

__all__ = ["addresses_in", "escape_like", "exact_address_domain", "normalise_address"]


def escape_like(value: str) -> str:
    """``value`` with the LIKE wildcards ``%``, ``_`` and the escape character ``\\`` escaped (matched literally)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def exact_address_domain(field: str, address: str) -> list[object]:
    """An Odoo domain finding records whose ``field`` holds ``address`` alone or as ``Name <address>``.

    It narrows the search; callers still keep only rows whose :func:`addresses_in` contains the address.
    """
    pattern = escape_like(address)
    return ["|", (field, "=ilike", pattern), (field, "ilike", f"<{pattern}>")]
