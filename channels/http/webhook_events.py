"""Inbound webhooks' secrets (``COPILOT_WEBHOOK_SECRETS``) and their event ledger (deduplication, outcome).

``COPILOT_WEBHOOK_SECRETS`` holds one entry per sender, separated by ``;``::

    n8n:<24+ random characters>;odoo:<another secret>

Each entry is ``source:secret``: the source names the URL (``POST /v1/webhooks/n8n``) and the secret
signs its calls (``copilot.guardrails.signatures``). The ledger keeps every accepted event for 7 days
in the project's database (``state.sqlite``): a second call with the same event id, or the very same
signed request again, is a duplicate and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Column, Float, MetaData, String, Table, Text, UniqueConstraint, delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from copilot.errors import ConfigError

__all__ = ["EVENT_TTL_SECONDS", "EventLedger", "EventRecord", "parse_webhook_secrets"]

#: How long an event id is remembered (a retry within this time is a duplicate).
EVENT_TTL_SECONDS = 7 * 24 * 3600
MIN_SECRET_CHARS = 24
_SOURCE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_metadata = MetaData()
_events = Table(
    "webhook_events",
    _metadata,
    Column("source", String(64), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("signature", String(64), nullable=False),  # sha256 of the signature header: the same request again
    Column("type", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # accepted, done, failed
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("source", "signature", name="uq_webhook_events_signature"),
)


def parse_webhook_secrets(value: SecretStr | str | None) -> dict[str, bytes]:
    """The senders in ``COPILOT_WEBHOOK_SECRETS``; a malformed entry raises ``ConfigError`` (never showing a secret)."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
    secrets: dict[str, bytes] = {}
    for position, entry in enumerate((e.strip() for e in raw.split(";")), start=1):
        if not entry:
            continue
        source, sep, secret = entry.partition(":")
        source, secret = source.strip(), secret.strip()
        if not sep or not secret:
            raise ConfigError(f"COPILOT_WEBHOOK_SECRETS: entry {position} is not source:secret")
        if not _SOURCE.match(source):
            raise ConfigError(f"COPILOT_WEBHOOK_SECRETS: entry {position}: invalid source name")
        if source in secrets:
            raise ConfigError(f"COPILOT_WEBHOOK_SECRETS: source {source!r} appears twice")
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"COPILOT_WEBHOOK_SECRETS: the secret of {source!r} is shorter than {MIN_SECRET_CHARS} characters"
            )
        secrets[source] = secret.encode("utf-8")
    return secrets


@dataclass(frozen=True)
class EventRecord:
    """One received event and what became of it."""

    source: str
    event_id: str
    type: str
    status: str
    result: Any
    error: str | None
    created_at: float


class EventLedger:
    """Received webhook events by (source, event id), on an SQLAlchemy engine (``state.sqlite`` by default)."""

    def __init__(self, engine: Engine, *, ttl: float = EVENT_TTL_SECONDS, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.ttl = ttl
        self._clock = clock
        _metadata.create_all(engine)

    def ping(self) -> None:
        """A ``SELECT 1`` (the readiness check of the database)."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def claim(self, source: str, event_id: str, signature: str, type_: str) -> bool:
        """Record a new event; False when it is a duplicate (same event id, or the same signed request)."""
        now = self._clock()
        digest = hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(_events).where(_events.c.created_at < now - self.ttl))
                conn.execute(
                    _events.insert().values(
                        source=source,
                        event_id=event_id,
                        signature=digest,
                        type=type_,
                        status="accepted",
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def finish(self, source: str, event_id: str, *, result: Any = None, error: str | None = None) -> None:
        """Record the outcome: ``done`` with a JSON-able result, or ``failed`` with the error."""
        values: dict[str, Any] = {"updated_at": self._clock()}
        if error is None:
            values |= {"status": "done", "result": json.dumps(result, default=str)}
        else:
            values |= {"status": "failed", "error": error[:2000]}
        with self.engine.begin() as conn:
            conn.execute(
                update(_events).where(_events.c.source == source, _events.c.event_id == event_id).values(values)
            )

    def release(self, source: str, event_id: str) -> None:
        """Forget an event whose processing could not even start (a retry of it runs again)."""
        with self.engine.begin() as conn:
            conn.execute(delete(_events).where(_events.c.source == source, _events.c.event_id == event_id))

    def get(self, source: str, event_id: str) -> EventRecord | None:
        """The event, or None (unknown or expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_events).where(_events.c.source == source, _events.c.event_id == event_id)
            ).first()
        if row is None:
            return None
        return EventRecord(
            source=row.source,
            event_id=row.event_id,
            type=row.type,
            status=row.status,
            result=json.loads(row.result) if row.result else None,
            error=row.error,
            created_at=row.created_at,
        )
