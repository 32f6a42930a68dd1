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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

__all__ = [
    "IDEMPOTENCY_FILE",
    "IdempotencyConflict",
    "IdempotencyInProgress",
    "IdempotencyStore",
    "StoredResponse",
    "fingerprint",
]

#: The SQLite file under ``settings.data_dir``.
IDEMPOTENCY_FILE = "http-idempotency.sqlite"
TTL_SECONDS = 24 * 3600
#: A request still "in progress" after this long is taken as crashed: its key may be used again.
PENDING_SECONDS = 600

_metadata = MetaData()
_table = Table(
    "http_idempotency",
    _metadata,
    Column("client", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # NULL: the first request is still running
    Column("body", Text, nullable=True),
    Column("created_at", Float, nullable=False, index=True),
)


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


class IdempotencyStore:
    """Stored responses by (client, key), in SQLite by default (any SQLAlchemy URL)."""

    def __init__(self, url: str, *, ttl: float = TTL_SECONDS, clock: Any = time.time) -> None:
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, connect_args={"timeout": 5} if url.startswith("sqlite") else {})
        _metadata.create_all(self.engine)
        self.ttl = ttl
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Any) -> IdempotencyStore:
        """The store in ``settings.data_dir/http-idempotency.sqlite``."""
        return cls(f"sqlite:///{Path(settings.data_dir).expanduser() / IDEMPOTENCY_FILE}")

    def begin(self, client: str, key: str, print_: str) -> StoredResponse | None:
        """Claim ``key`` for this request, or return the stored response to replay.

        Raises ``IdempotencyConflict`` (another body) or ``IdempotencyInProgress`` (first one running).
        """
        now = self._clock()
        with self.engine.begin() as conn:
            conn.execute(delete(_table).where(_table.c.created_at < now - self.ttl))
            conn.execute(
                delete(_table).where(
                    _table.c.client == client,
                    _table.c.key == key,
                    _table.c.status_code.is_(None),
                    _table.c.created_at < now - PENDING_SECONDS,
                )
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(_table.insert().values(client=client, key=key, fingerprint=print_, created_at=now))
            return None
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_table.c.fingerprint, _table.c.status_code, _table.c.body).where(
                    _table.c.client == client, _table.c.key == key
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
        with self.engine.begin() as conn:
            conn.execute(
                update(_table)
                .where(_table.c.client == client, _table.c.key == key)
                .values(status_code=status_code, body=body.decode("utf-8"))
            )

    def abandon(self, client: str, key: str) -> None:
        """Release a key whose request failed before a response was stored."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(_table).where(_table.c.client == client, _table.c.key == key, _table.c.status_code.is_(None))
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
