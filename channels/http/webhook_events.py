"""Inbound webhooks' secrets (``COPILOT_WEBHOOK_SECRETS``) and their event ledger (deduplication, outcome).

``COPILOT_WEBHOOK_SECRETS`` holds one entry per sender, separated by ``;``::

    n8n:<24+ random characters>;odoo:<another secret>

Each entry is ``source:secret``: the source names the URL (``POST /v1/webhooks/n8n``) and the secret
signs its calls (``copilot.guardrails.signatures``). The ledger keeps every accepted event for 7 days
in the project's database: a second call with the same event id, or the very same
signed request again, is a duplicate and does nothing, with one exception: an event the replica claimed
but never handed over (``queued_at`` still empty ``QUEUE_GRACE_SECONDS`` after the claim: the replica died
between the claim and the enqueue) is taken over by the sender's retry, which queues it again.

With several replicas and workers (``COPILOT_REDIS_URL``) the ledger is shared on PostgreSQL: ``claim``
(the replica that received the call) is an insert that only one request can win (primary key and the
signature's unique constraint), and ``start`` (the worker that runs the event) is one conditional update:
of two deliveries of the same task, only one runs it, unless the first one's lease ran out. Taking over
an event never handed over is one conditional update too: of two replicas receiving the same retry at
once, one wins; the other answers "duplicate".
"""

from __future__ import annotations

import hashlib
import json
import logging
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

__all__ = [
    "EVENT_TTL_SECONDS",
    "QUEUE_GRACE_SECONDS",
    "EventLedger",
    "EventRecord",
    "StartResult",
    "parse_webhook_secrets",
]

log = logging.getLogger("channels.http.webhooks")

#: ``claimed``: run it now; ``done``/``failed``: already ran; ``busy``: another worker runs it; ``unknown``:
#: no such event (expired, or released).
StartResult = Literal["claimed", "done", "failed", "busy", "unknown"]

#: How long an event id is remembered (a retry within this time is a duplicate).
EVENT_TTL_SECONDS = 7 * 24 * 3600
#: How long after its claim an event may still be on its way to the queue: publishing gives up within about
#: a second (``channels.worker.enqueue.RETRY_POLICY``), plus the ledger's own write. A retry of an event not
#: queued after this long is taken over (the replica that claimed it died before queueing it).
QUEUE_GRACE_SECONDS = 10.0
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
    #: When the replica handed it to the queue (or began it in its own process); None: not yet.
    queued_at: float | None = None


class EventLedger(Store):
    """Received webhook events by (source, event id), in the project's database."""

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = EVENT_TTL_SECONDS,
        grace: float = QUEUE_GRACE_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(db)
        self.ttl = ttl
        self.grace = grace
        self._clock = clock

    def ping(self) -> None:
        """A ``SELECT 1`` (the readiness check of the database)."""
        self.db.ping()

    def claim(self, source: str, event_id: str, signature: str, type_: str) -> bool:
        """Record a new event, or take over one never queued; False when it is a duplicate."""
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
            return self._take_over(source, event_id, now)
        return True

    def _take_over(self, source: str, event_id: str, now: float) -> bool:
        """Claim again an event accepted more than ``grace`` ago and neither queued nor started; one taker wins."""
        row = WebhookEventRow
        with self.db.session.begin() as session:
            taken = session.execute(
                update(row)
                .where(
                    row.source == source,
                    row.event_id == event_id,
                    row.status == "accepted",
                    row.queued_at.is_(None),
                    row.claimed_by.is_(None),
                    row.updated_at < now - self.grace,
                )
                .values(updated_at=now)
            ).rowcount
        if taken:
            log.warning(
                "webhook %s event %s was never queued by the replica that accepted it: taken over", source, event_id
            )
        return bool(taken)

    def mark_queued(self, source: str, event_id: str) -> None:
        """Record that the event was handed to the queue (a retry of it is a duplicate from now on)."""
        now = self._clock()
        with self.db.session.begin() as session:
            session.execute(
                update(WebhookEventRow)
                .where(WebhookEventRow.source == source, WebhookEventRow.event_id == event_id)
                .values(queued_at=now, updated_at=now)
            )

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
            queued_at=row.queued_at,
        )
