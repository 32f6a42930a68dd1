"""Dead letters: inputs a channel could not process, parked with the reason so that nothing is silently dropped.

Any channel (email today, Slack events and webhooks later) parks what failed for good: an unreadable input
at once, a transient failure (Odoo or the LLM away) after its bounded retries. A person lists them
(``copilot deadletters list``), reads one, and replays it once the cause is fixed; a replay that
succeeds marks the letter ``replayed``. Letters are keyed by ``(channel, key)``: parking the same input
again updates the letter (attempts, last seen, latest reason) instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from copilot.state.database import Store
from copilot.state.tables import DeadLetterRow

__all__ = ["DeadLetter", "DeadLetterRow", "DeadLetterStatus", "DeadLetterStore"]

DeadLetterStatus = Literal["parked", "replayed", "resolved"]
#: Longest reason kept (a traceback-sized message is cut).
MAX_REASON_CHARS = 2_000


class DeadLetter(BaseModel):
    """One parked input: what it was, why it failed, how often, and what became of it."""

    model_config = ConfigDict(frozen=True)

    id: int
    channel: str = Field(description="email, slack, webhook, ...")
    key: str = Field(description="The input's identity on its channel (an email's Message-ID, an event id)")
    reason: str = Field(description="Why it was parked, for a person")
    error_type: str = Field(description="The error's class, e.g. OdooUnavailable or EmailParseError")
    summary: str = Field(default="", description="One line saying what the input is (sender and subject)")
    attempts: int
    first_seen: datetime
    last_seen: datetime
    status: DeadLetterStatus
    replayed_at: datetime | None = None
    size: int = Field(description="Payload size in bytes")
    payload: bytes | None = Field(default=None, exclude=True, description="The original input (only from get)")

    @property
    def text(self) -> str:
        """The payload as text (undecodable bytes replaced); empty without a payload."""
        return (self.payload or b"").decode("utf-8", errors="replace")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps no time zone


def _letter(row: DeadLetterRow, *, with_payload: bool) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        channel=row.channel,
        key=row.key,
        reason=row.reason,
        error_type=row.error_type,
        summary=row.summary or "",
        attempts=row.attempts,
        first_seen=_aware(row.first_seen),  # type: ignore[arg-type]
        last_seen=_aware(row.last_seen),  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        replayed_at=_aware(row.replayed_at),
        size=len(row.payload or b""),
        payload=bytes(row.payload) if with_payload else None,
    )


class DeadLetterStore(Store):
    """Dead letters in the project's database."""

    def park(
        self,
        *,
        channel: str,
        key: str,
        reason: str,
        error_type: str,
        payload: bytes | str,
        summary: str = "",
        attempts: int = 1,
        at: datetime | None = None,
    ) -> DeadLetter:
        """Park an input (or update the letter already parked for ``channel`` and ``key``); returns the letter."""
        if not channel or not key:
            raise ValueError("a dead letter needs a channel and a key")
        if len(key) > 500:
            raise ValueError("a dead letter's key is at most 500 characters")
        now = at or datetime.now(UTC)
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        with self.db.session() as session, session.begin():
            row = session.scalars(
                select(DeadLetterRow).where(DeadLetterRow.channel == channel, DeadLetterRow.key == key)
            ).first()
            if row is None:
                row = DeadLetterRow(channel=channel, key=key, first_seen=now, attempts=0, status="parked")
                session.add(row)
            elif row.status != "parked":  # failed again after a replay: a fresh count
                row.attempts = 0
            row.reason = reason[:MAX_REASON_CHARS]
            row.error_type = error_type[:200]
            row.payload = data
            row.summary = summary[:500]
            row.attempts = (row.attempts or 0) + max(attempts, 1)
            row.last_seen = now
            row.status = "parked"
            row.replayed_at = None
            session.flush()
            return _letter(row, with_payload=False)

    def list(
        self, *, channel: str | None = None, status: DeadLetterStatus | None = "parked", limit: int = 100
    ) -> list[DeadLetter]:
        """Letters, newest first (``status`` None: every status); payloads are not loaded."""
        query = select(DeadLetterRow).order_by(DeadLetterRow.last_seen.desc(), DeadLetterRow.id.desc()).limit(limit)
        if channel is not None:
            query = query.where(DeadLetterRow.channel == channel)
        if status is not None:
            query = query.where(DeadLetterRow.status == status)
        with self.db.session() as session:
            return [_letter(r, with_payload=False) for r in session.scalars(query).all()]

    def get(self, letter_id: int) -> DeadLetter | None:
        """One letter with its payload, or None."""
        with self.db.session() as session:
            row = session.get(DeadLetterRow, letter_id)
            return _letter(row, with_payload=True) if row is not None else None

    def find(self, channel: str, key: str) -> DeadLetter | None:
        """The letter parked for ``channel`` and ``key``, if any (without payload)."""
        with self.db.session() as session:
            row = session.scalars(
                select(DeadLetterRow).where(DeadLetterRow.channel == channel, DeadLetterRow.key == key)
            ).first()
            return _letter(row, with_payload=False) if row is not None else None

    def mark_replayed(self, letter_id: int, *, at: datetime | None = None) -> DeadLetter:
        """Record that a replay of the letter succeeded (``KeyError`` for an unknown id)."""
        return self._set_status(letter_id, "replayed", at=at)

    def mark_resolved(self, letter_id: int, *, at: datetime | None = None) -> DeadLetter:
        """Record that a person dealt with the letter by other means."""
        return self._set_status(letter_id, "resolved", at=at)

    def _set_status(self, letter_id: int, status: DeadLetterStatus, *, at: datetime | None) -> DeadLetter:
        with self.db.session() as session, session.begin():
            row = session.get(DeadLetterRow, letter_id)
            if row is None:
                raise KeyError(f"no dead letter {letter_id}")
            row.status = status
            if status == "replayed":
                row.replayed_at = at or datetime.now(UTC)
            session.flush()
            return _letter(row, with_payload=False)
