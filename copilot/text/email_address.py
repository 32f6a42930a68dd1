"""E-mail addresses in running text.

The local part is any run of word characters (Unicode ones too: ``josé@``, ``_ops@``), dots, ``%``, ``+`` and
``-``; the domain has at least one dot and ends in a top-level domain of letters (or an IDN ``xn--``), so a price
written ``100@3.50`` is not an address. Obfuscated forms (``jane [at] acme.com``) are the PII detector's.
"""

from __future__ import annotations

import re

__all__ = ["EMAIL_ADDRESS", "email_addresses"]

#: Linear: the local part is possessive and starts only where its run starts; each domain label is possessive
#: and ends at a dot, so the labels are given back at most once each.
EMAIL_ADDRESS = re.compile(
    r"(?<![\w.%+-])[\w.%+-]++@(?:[\w-]++\.)+(?:[Xx][Nn]--[A-Za-z0-9-]{1,59}|[^\W\d_]{2,63})(?!\w)"
)


def email_addresses(text: str) -> list[str]:
    """The e-mail addresses in ``text``, in order."""
    return [m.group(0) for m in EMAIL_ADDRESS.finditer(text or "")]
