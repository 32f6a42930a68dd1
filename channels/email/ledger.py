"""The mailbox's exactly-once ledger: which messages were processed, retried or parked, in SQLite (SQLAlchemy).

A message is known by its key (the Message-ID, or the SHA-256 of the raw message when it has none) and
by where it sat in the mailbox (folder, UIDVALIDITY, UID). A key recorded ``done`` or ``parked`` is never
processed again: not after a restart, a re-delivery of the same mail, nor when marking it on the server
failed. ``attempts`` counts failed tries of a message still to process, so retries stay bounded.

Several workers (Celery, ``copilot serve`` replicas) share the ledger on PostgreSQL: ``claim`` takes a
message for one worker with one conditional statement (insert if absent, else take it only if unclaimed,
its lease expired, or already this worker's), so of two workers on the same message exactly one processes
it; ``finish`` and ``record_failure`` release the claim.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from copilot.state.claims import insert_if_absent
from copilot.state.database import Store
from copilot.state.tables import MAX_KEY_CHARS, LedgerRow

__all__ = ["ClaimResult", "EmailLedger", "LedgerRow", "LedgerStatus", "message_key"]

LedgerStatus = Literal["pending", "done", "parked"]
#: ``claimed``: this worker processes the message now; ``done``/``parked``: never again; ``busy``: another
#: worker holds it (its lease has not run out).
ClaimResult = Literal["claimed", "done", "parked", "busy"]


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

    def claim(
        self, key: str, *, owner: str, lease: float, folder: str, uidvalidity: int, uid: int, now: float | None = None
    ) -> ClaimResult:
        """Take ``key`` for ``owner`` for ``lease`` seconds, unless it is finished or another worker holds it."""
        now = time.time() if now is None else now
        stamp = datetime.now(UTC)
        table = LedgerRow.__table__
        with self.db.session() as session, session.begin():
            values = {
                "key": key,
                "folder": folder,
                "uidvalidity": uidvalidity,
                "uid": uid,
                "status": "pending",
                "kind": "",
                "outcome": "",
                "attempts": 0,
                "last_error": "",
                "first_seen": stamp,
                "updated_at": stamp,
                "claimed_by": owner,
                "claimed_until": now + lease,
            }
            if insert_if_absent(session, table, values):  # type: ignore[arg-type]
                return "claimed"
            taken = session.execute(
                update(LedgerRow)
                .where(
                    LedgerRow.key == key,
                    LedgerRow.status == "pending",
                    or_(
                        LedgerRow.claimed_until.is_(None),
                        LedgerRow.claimed_until < now,
                        LedgerRow.claimed_by == owner,
                    ),
                )
                .values(claimed_by=owner, claimed_until=now + lease, updated_at=stamp)
            ).rowcount
            if taken:
                return "claimed"
            status = session.scalar(select(LedgerRow.status).where(LedgerRow.key == key))
        return status if status in ("done", "parked") else "busy"  # type: ignore[return-value]

    def release(self, key: str, *, owner: str) -> None:
        """Give back ``owner``'s claim on ``key`` without an outcome (deferred: any worker may take it now)."""
        with self.db.session() as session, session.begin():
            session.execute(
                update(LedgerRow)
                .where(LedgerRow.key == key, LedgerRow.claimed_by == owner)
                .values(claimed_by=None, claimed_until=None)
            )

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
            row.claimed_by = row.claimed_until = None
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
            row.claimed_by = row.claimed_until = None
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
