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

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.state.database import Store
from copilot.state.tables import MAX_KEY_CHARS, LedgerRow

__all__ = ["EmailLedger", "LedgerRow", "LedgerStatus", "message_key"]

LedgerStatus = Literal["pending", "done", "parked"]


def message_key(message_id: str | None, raw: bytes) -> str:
    """The message's identity: its Message-ID (angle brackets kept), else ``sha256:<hex of the raw bytes>``."""
    mid = (message_id or "").strip()
    if mid and len(mid) <= MAX_KEY_CHARS - 4:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class EmailLedger(Store):
    """Processed, pending and parked messages of the shared mailbox, by key and by UID."""

    def status(self, key: str) -> LedgerStatus | None:
        """``done``, ``parked``, ``pending`` (failed before, to retry) or None (never seen)."""
        with self.db.session() as session:
            row = session.get(LedgerRow, key)
            return row.status if row is not None else None  # type: ignore[return-value]

    def uid_status(self, folder: str, uidvalidity: int, uid: int) -> LedgerStatus | None:
        """The status of the message last seen at this UID (same UIDVALIDITY), or None."""
        query = select(LedgerRow.status).where(
            LedgerRow.folder == folder, LedgerRow.uidvalidity == uidvalidity, LedgerRow.uid == uid
        )
        with self.db.session() as session:
            found = set(session.scalars(query).all())
        for status in ("done", "parked", "pending"):
            if status in found:
                return status  # type: ignore[return-value]
        return None

    def attempts(self, key: str) -> int:
        """How many tries of ``key`` failed so far."""
        with self.db.session() as session:
            row = session.get(LedgerRow, key)
            return row.attempts if row is not None else 0

    def record_failure(self, key: str, *, folder: str, uidvalidity: int, uid: int, error: str) -> int:
        """Count one failed try (the message stays to process); returns the attempts so far."""
        with self.db.session() as session, session.begin():
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
        with self.db.session() as session, session.begin():
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
        with self.db.session() as session:
            rows = session.scalars(select(LedgerRow.status)).all()
        out: dict[str, int] = {}
        for status in rows:
            out[status] = out.get(status, 0) + 1
        return out
