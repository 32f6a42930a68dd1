"""Inbound webhooks' secrets (``COPILOT_WEBHOOK_SECRETS``) and their event ledger (deduplication, outcome).

``COPILOT_WEBHOOK_SECRETS`` holds one entry per sender, separated by ``;``::

    n8n:<24+ random characters>;odoo:<another secret>

Each entry is ``source:secret``: the source names the URL (``POST /v1/webhooks/n8n``) and the secret
signs its calls (``copilot.guardrails.signatures``). The ledger keeps every accepted event for 7 days
in the project's database: a second call with the same event id, or the very same
signed request again, is a duplicate and does nothing.

With several replicas and workers (``COPILOT_REDIS_URL``) the ledger is shared on PostgreSQL: ``claim``
(the replica that received the call) is an insert that only one request can win (primary key and the
signature's unique constraint), and ``start`` (the worker that runs the event) is one conditional update:
of two deliveries of the same task, only one runs it, unless the first one's lease ran out.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from copilot.errors import ConfigError
from copilot.state.database import Database, Store
from copilot.state.tables import WebhookEventRow

__all__ = ["EVENT_TTL_SECONDS", "EventLedger", "EventRecord", "StartResult", "parse_webhook_secrets"]

#: ``claimed``: run it now; ``done``/``failed``: already ran; ``busy``: another worker runs it; ``unknown``:
#: no such event (expired, or released).
StartResult = Literal["claimed", "done", "failed", "busy", "unknown"]

#: How long an event id is remembered (a retry within this time is a duplicate).
EVENT_TTL_SECONDS = 7 * 24 * 3600
MIN_SECRET_CHARS = 24
_SOURCE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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


class EventLedger(Store):
    """Received webhook events by (source, event id), in the project's database."""

    def __init__(self, db: Database, *, ttl: float = EVENT_TTL_SECONDS, clock: Callable[[], float] = time.time):
        super().__init__(db)
        self.ttl = ttl
        self._clock = clock

    def ping(self) -> None:
        """A ``SELECT 1`` (the readiness check of the database)."""
        self.db.ping()

    def claim(self, source: str, event_id: str, signature: str, type_: str) -> bool:
        """Record a new event; False when it is a duplicate (same event id, or the same signed request)."""
        now = self._clock()
        digest = hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()
        try:
            with self.db.session.begin() as session:
                session.execute(delete(WebhookEventRow).where(WebhookEventRow.created_at < now - self.ttl))
                session.execute(
                    insert(WebhookEventRow).values(
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

    def start(self, source: str, event_id: str, *, owner: str, lease: float) -> StartResult:
        """Take an accepted event for ``owner`` for ``lease`` seconds (a worker about to run it)."""
        now = self._clock()
        row = WebhookEventRow
        with self.db.session.begin() as session:
            taken = session.execute(
                update(row)
                .where(
                    row.source == source,
                    row.event_id == event_id,
                    row.status == "accepted",
                    or_(row.claimed_until.is_(None), row.claimed_until < now, row.claimed_by == owner),
                )
                .values(claimed_by=owner, claimed_until=now + lease, updated_at=now)
            ).rowcount
            if taken:
                return "claimed"
            status = session.scalar(select(row.status).where(row.source == source, row.event_id == event_id))
        if status is None:
            return "unknown"
        return status if status in ("done", "failed") else "busy"  # type: ignore[return-value]

    def finish(self, source: str, event_id: str, *, result: Any = None, error: str | None = None) -> None:
        """Record the outcome: ``done`` with a JSON-able result, or ``failed`` with the error."""
        values: dict[str, Any] = {"updated_at": self._clock(), "claimed_by": None, "claimed_until": None}
        if error is None:
            values |= {"status": "done", "result": json.dumps(result, default=str)}
        else:
            values |= {"status": "failed", "error": error[:2000]}
        with self.db.session.begin() as session:
            session.execute(
                update(WebhookEventRow)
                .where(WebhookEventRow.source == source, WebhookEventRow.event_id == event_id)
                .values(values)
            )

    def release(self, source: str, event_id: str) -> None:
        """Forget an event whose processing could not even start (a retry of it runs again)."""
        with self.db.session.begin() as session:
            session.execute(
                delete(WebhookEventRow).where(WebhookEventRow.source == source, WebhookEventRow.event_id == event_id)
            )

    def get(self, source: str, event_id: str) -> EventRecord | None:
        """The event, or None (unknown or expired)."""
        with self.db.session() as session:
            row = session.scalars(
                select(WebhookEventRow).where(WebhookEventRow.source == source, WebhookEventRow.event_id == event_id)
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
