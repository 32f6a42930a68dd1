"""Signed head anchors: "the trail had N records and record N's hash was H", signed with the audit key.

An anchor is one line of text, ``cpa1.<seq>.<head hash>.<UTC time>.<key id>.<HMAC-SHA256>``, so it can be
copied from a log into ``copilot audit verify --anchor``. The trail appends an anchor to a file beside the
database after every record (``audit.anchors.jsonl``) and writes one to the log every
``COPILOT_AUDIT_ANCHOR_INTERVAL`` seconds: records removed from the end, or rewritten with a stolen key,
no longer match an anchor exported before the change.
"""

from __future__ import annotations

import hmac
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from copilot.audit.keys import AuditKey

__all__ = ["ANCHOR_FILE", "MAX_FILE_BYTES", "AnchorFile", "AuditAnchor", "BadAnchor"]

#: The anchors' file under the data dir (beside ``state.sqlite``).
ANCHOR_FILE = "audit.anchors.jsonl"
#: Size past which the anchors' file is cut back to its last anchor.
MAX_FILE_BYTES = 256 * 1024
#: Bytes read from the end of the file to find the latest anchor.
_TAIL_BYTES = 8 * 1024
_PREFIX = "cpa1"
_TIME = "%Y%m%dT%H%M%SZ"
_HEX = frozenset("0123456789abcdef")


class BadAnchor(ValueError):
    """The text is not an anchor, or its signature does not hold."""


class AuditAnchor(BaseModel):
    """One signed head of the chain."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=0, description="Records in the chain when signed (the head record's seq)")
    head_hash: str = Field(description="The head record's hash")
    created_at: datetime
    key_id: str
    signature: str

    @staticmethod
    def _message(seq: int, head_hash: str, stamp: str, key_id: str) -> bytes:
        return f"{_PREFIX}.{seq}.{head_hash}.{stamp}.{key_id}".encode("ascii")

    @classmethod
    def sign(cls, key: AuditKey, seq: int, head_hash: str, at: datetime | None = None) -> AuditAnchor:
        """The anchor of ``seq``/``head_hash``, signed with ``key`` now (or ``at``)."""
        when = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        stamp = when.strftime(_TIME)
        signature = key.mac(cls._message(seq, head_hash, stamp, key.key_id))
        return cls(seq=seq, head_hash=head_hash, created_at=when, key_id=key.key_id, signature=signature)

    def token(self) -> str:
        """The one-line text form (for the log and ``--anchor``)."""
        stamp = self.created_at.strftime(_TIME)
        return f"{_PREFIX}.{self.seq}.{self.head_hash}.{stamp}.{self.key_id}.{self.signature}"

    @classmethod
    def parse(cls, token: str) -> AuditAnchor:
        """An anchor from its text form (the signature is not checked here: see ``problem``)."""
        parts = token.strip().split(".")
        if len(parts) != 6 or parts[0] != _PREFIX or not parts[1].isdigit():
            raise BadAnchor(f"not an audit anchor: {token[:80]!r}")
        _, seq, head, stamp, key_id, signature = parts
        if not all(len(h) == n and set(h) <= _HEX for h, n in ((head, 64), (key_id, 16), (signature, 64))):
            raise BadAnchor(f"not an audit anchor: {token[:80]!r}")
        try:
            when = datetime.strptime(stamp, _TIME).replace(tzinfo=UTC)
        except ValueError:
            raise BadAnchor(f"not an audit anchor (bad time): {token[:80]!r}") from None
        return cls(seq=int(seq), head_hash=head, created_at=when, key_id=key_id, signature=signature)

    def problem(self, key: AuditKey) -> str | None:
        """Why this anchor cannot be trusted with ``key`` (another key, a bad signature), or ``None``."""
        if self.key_id != key.key_id:
            return f"the anchor was signed with another audit key ({self.key_id}, this one is {key.key_id})"
        stamp = self.created_at.strftime(_TIME)
        expected = key.mac(self._message(self.seq, self.head_hash, stamp, self.key_id))
        if not _same(expected, self.signature):
            return "the anchor's signature does not match (the anchor was forged or edited)"
        return None

    def describe(self) -> str:
        """Short text for people."""
        return f"the anchor at record {self.seq} ({self.created_at:%Y-%m-%d %H:%M} UTC)"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class AnchorFile:
    """Anchors appended one JSON line each (cheap, and concurrent writers do not interleave); the file is
    compacted to its last line when it passes ``MAX_FILE_BYTES``. ``read`` returns the furthest anchor
    among the last lines; a line that is not an anchor is reported (``BadAnchor``)."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()

    def exists(self) -> bool:
        """True when an anchor was written."""
        return self.path.exists()

    def read(self) -> AuditAnchor:
        """The anchor with the highest record number among the file's last lines."""
        try:
            with self.path.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - _TAIL_BYTES))
                tail = fh.read().decode("utf-8", "replace")
        except OSError as exc:
            raise BadAnchor(f"the anchor file {self.path} is unreadable: {exc}") from None
        lines = tail.splitlines()
        if size > _TAIL_BYTES and lines:
            lines = lines[1:]  # the first line of the tail may be cut
        anchors: list[AuditAnchor] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                anchors.append(AuditAnchor.parse(str(json.loads(line)["token"])))
            except (ValueError, KeyError, TypeError):
                raise BadAnchor(f"the anchor file {self.path} holds a line that is not an anchor") from None
        if not anchors:
            raise BadAnchor(f"the anchor file {self.path} holds no anchor")
        return max(anchors, key=lambda a: a.seq)

    def save(self, anchor: AuditAnchor, *, compact: bool = False) -> None:
        """Append ``anchor``; with ``compact`` (or past ``MAX_FILE_BYTES``) the file keeps only this anchor."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"token": anchor.token(), **anchor.model_dump(mode="json", exclude={"signature"})}) + "\n"
        if compact:
            self._compact(line)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > MAX_FILE_BYTES:
            self._compact(line)

    def _compact(self, line: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".audit-anchors-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(line)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
