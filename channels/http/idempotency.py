"""``Idempotency-Key`` on POSTs: the first response is stored and replayed for the same key and body.

Keys are per client (two clients never share one). A stored response lives 24 hours. The same key
with another body (or path) is refused (422); while the first request still runs, a second one with
its key gets 409. Only responses the handler returns are stored: a request that raised (Odoo down,
404, ...) leaves no trace, so retrying it with the same key runs it again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from copilot.state.database import Database, Store
from copilot.state.tables import IdempotencyRow

__all__ = [
    "IdempotencyConflict",
    "IdempotencyInProgress",
    "IdempotencyStore",
    "StoredResponse",
    "fingerprint",
]

TTL_SECONDS = 24 * 3600
#: A request still "in progress" after this long is taken as crashed: its key may be used again.
PENDING_SECONDS = 600


class IdempotencyConflict(Exception):
    """The key was already used with another request body."""


class IdempotencyInProgress(Exception):
    """The first request with this key has not finished."""


@dataclass(frozen=True)
class StoredResponse:
    """A response to replay."""

    status_code: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of the request; JSON bodies are canonicalised (key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode("utf-8")
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class IdempotencyStore(Store):
    """Stored responses by (client, key), in the project's database."""

    def __init__(self, db: Database, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.time) -> None:
        super().__init__(db)
        self.ttl = ttl
        self._clock = clock

    def begin(self, client: str, key: str, print_: str) -> StoredResponse | None:
        """Claim ``key`` for this request, or return the stored response to replay.

        Raises ``IdempotencyConflict`` (another body) or ``IdempotencyInProgress`` (first one running).
        """
        now = self._clock()
        with self.db.session.begin() as session:
            session.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < now - self.ttl))
            session.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.client == client,
                    IdempotencyRow.key == key,
                    IdempotencyRow.status_code.is_(None),
                    IdempotencyRow.created_at < now - PENDING_SECONDS,
                )
            )
        try:
            with self.db.session.begin() as session:
                session.execute(
                    insert(IdempotencyRow).values(client=client, key=key, fingerprint=print_, created_at=now)
                )
            return None
        except IntegrityError:
            pass
        with self.db.session() as session:
            row = session.execute(
                select(IdempotencyRow.fingerprint, IdempotencyRow.status_code, IdempotencyRow.body).where(
                    IdempotencyRow.client == client, IdempotencyRow.key == key
                )
            ).first()
        if row is None:  # expired between the two statements: claim it again
            return self.begin(client, key, print_)
        if row.fingerprint != print_:
            raise IdempotencyConflict(key)
        if row.status_code is None:
            raise IdempotencyInProgress(key)
        return StoredResponse(status_code=row.status_code, body=(row.body or "").encode("utf-8"))

    def complete(self, client: str, key: str, status_code: int, body: bytes) -> None:
        """Store the response of the request that claimed ``key``."""
        with self.db.session.begin() as session:
            session.execute(
                update(IdempotencyRow)
                .where(IdempotencyRow.client == client, IdempotencyRow.key == key)
                .values(status_code=status_code, body=body.decode("utf-8"))
            )

    def abandon(self, client: str, key: str) -> None:
        """Release a key whose request failed before a response was stored."""
        with self.db.session.begin() as session:
            session.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.client == client, IdempotencyRow.key == key, IdempotencyRow.status_code.is_(None)
                )
            )
