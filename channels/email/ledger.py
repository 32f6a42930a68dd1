"""The mailbox's exactly-once ledger: which messages were processed, retried or parked, in SQLite (SQLAlchemy).

A message is known by its key (the Message-ID, or the SHA-256 of the raw message when it has none) and
by where it sat in the mailbox (folder, UIDVALIDITY, UID). A key recorded ``done`` or ``parked`` is never
processed again: not after a restart, a re-delivery of the same mail, nor when marking it on the server
failed. ``attempts`` counts failed tries of a message still to process, so retries stay bounded.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import DateTime, Engine, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from copilot.config import Settings
from copilot.state.db import Base, default_url, make_engine

__all__ = ["EmailLedger", "LedgerRow", "LedgerStatus", "message_key"]

LedgerStatus = Literal["pending", "done", "parked"]
MAX_KEY_CHARS = 500


def message_key(message_id: str | None, raw: bytes) -> str:
    """The message's identity: its Message-ID (angle brackets kept), else ``sha256:<hex of the raw bytes>``."""
    mid = (message_id or "").strip()
    if mid and len(mid) <= MAX_KEY_CHARS - 4:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class LedgerRow(Base):
    """One message seen in the mailbox (table ``email_ledger``)."""

    __tablename__ = "email_ledger"

    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS), primary_key=True)
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmailLedger:
    """Processed, pending and parked messages of the shared mailbox, by key and by UID."""

    def __init__(self, url: str = "sqlite:///:memory:", *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        Base.metadata.create_all(self.engine, tables=[LedgerRow.__table__])  # type: ignore[list-item]

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> EmailLedger:
        """The ledger in ``state.sqlite`` under ``settings.data_dir`` (or at ``url``)."""
        return cls(url or default_url(settings))

    def status(self, key: str) -> LedgerStatus | None:
        """``done``, ``parked``, ``pending`` (failed before, to retry) or None (never seen)."""
        with Session(self.engine) as session:
            row = session.get(LedgerRow, key)
            return row.status if row is not None else None  # type: ignore[return-value]

    def uid_status(self, folder: str, uidvalidity: int, uid: int) -> LedgerStatus | None:
        """The status of the message last seen at this UID (same UIDVALIDITY), or None."""
        query = select(LedgerRow.status).where(
            LedgerRow.folder == folder, LedgerRow.uidvalidity == uidvalidity, LedgerRow.uid == uid
        )
        with Session(self.engine) as session:
            found = set(session.scalars(query).all())
        for status in ("done", "parked", "pending"):
            if status in found:
                return status  # type: ignore[return-value]
        return None

    def attempts(self, key: str) -> int:
        """How many tries of ``key`` failed so far."""
        with Session(self.engine) as session:
            row = session.get(LedgerRow, key)
            return row.attempts if row is not None else 0

    def record_failure(self, key: str, *, folder: str, uidvalidity: int, uid: int, error: str) -> int:
        """Count one failed try (the message stays to process); returns the attempts so far."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, key, folder, uidvalidity, uid)
            row.attempts = (row.attempts or 0) + 1
            row.last_error = error[:2000]
            return row.attempts

    def finish(
        self,
        key: str,
        *,
        status: Literal["done", "parked"],
        folder: str,
        uidvalidity: int,
        uid: int,
        kind: str = "",
        outcome: str = "",
    ) -> None:
        """Record the message as done or parked: it will not be processed again."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, key, folder, uidvalidity, uid)
            row.status = status
            row.kind = kind[:20]
            row.outcome = outcome[:2000]

    def _row(self, session: Session, key: str, folder: str, uidvalidity: int, uid: int) -> LedgerRow:
        now = datetime.now(UTC)
        row = session.get(LedgerRow, key)
        if row is None:
            row = LedgerRow(
                key=key,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=uid,
                status="pending",
                kind="",
                outcome="",
                attempts=0,
                last_error="",
                first_seen=now,
            )
            session.add(row)
        elif uid > 0:  # the same message may come back at another UID (re-delivery, UIDVALIDITY change)
            row.folder, row.uidvalidity, row.uid = folder, uidvalidity, uid
        row.updated_at = now
        return row

    def counts(self) -> dict[str, int]:
        """Messages by status."""
        with Session(self.engine) as session:
            rows = session.scalars(select(LedgerRow.status)).all()
        out: dict[str, int] = {}
        for status in rows:
            out[status] = out.get(status, 0) + 1
        return out

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
