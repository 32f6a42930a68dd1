"""HMAC-SHA256 request signatures with a timestamp window, shared by every signed inbound call.

The scheme (the executor's wake-up webhook from Odoo and ``POST /v1/webhooks/{source}``)::

    X-Copilot-Timestamp: 1767225600                      (unix seconds when the sender signed)
    X-Copilot-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + raw body)>

The signature covers the raw body bytes exactly as sent. A request is refused when a header is
missing, the timestamp is not an integer or lies more than ``tolerance`` seconds from the receiver's
clock (a captured request cannot be replayed later), or the signature does not match (compared in
constant time). The reason is for the receiver's log; callers answer with a generic 401.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SignatureError", "sign", "verify_signature"]

TIMESTAMP_HEADER = "X-Copilot-Timestamp"
SIGNATURE_HEADER = "X-Copilot-Signature"


class SignatureError(Exception):
    """A signed request that must be refused; ``reason`` says why (for the log, never for the caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Copilot-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float,
    clock: Callable[[], float] = time.time,
) -> int:
    """Check a signed request; returns its timestamp, or raises ``SignatureError`` naming the reason.

    Reasons: ``missing signature``, ``bad timestamp``, ``stale timestamp``, ``bad signature``.
    """
    if not timestamp or not signature:
        raise SignatureError("missing signature")
    try:
        sent = int(timestamp.strip())
    except ValueError:
        raise SignatureError("bad timestamp") from None
    if abs(clock() - sent) > tolerance:
        raise SignatureError("stale timestamp")
    expected = sign(secret, sent, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise SignatureError("bad signature")
    return sent
