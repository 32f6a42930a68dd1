"""The audit key: the secret that keys the chain's HMAC and signs head anchors, kept outside the database.

``COPILOT_AUDIT_KEY`` (from a secret store) is the production setting. Without it the offline default
still works: a random key is written once to ``audit.key`` beside the trail (mode 0600, a warning in the
log). That key stops anyone who holds only the database (a copy, a backup, SQL access), and the signed
anchors in the log catch a rewrite by someone who also read the key file; it does not stop a person who
can write both files and the log, which is why production should set the variable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from copilot.config import Settings
from copilot.errors import ConfigError

__all__ = ["KEY_FILE", "MIN_KEY_CHARS", "AuditKey", "key_file", "load_audit_key"]

log = logging.getLogger("copilot.audit")

#: The generated key's file under ``settings.data_dir`` (beside ``state.sqlite``).
KEY_FILE = "audit.key"
#: Shortest accepted key.
MIN_KEY_CHARS = 32
_READ_ATTEMPTS = 20


@dataclass(frozen=True)
class AuditKey:
    """The key's bytes (never printed), where it came from, and a short id that names it without revealing it."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        """16 hex digits derived from the key (an anchor says which key signed it)."""
        return hmac.new(self.secret, b"copilot-audit-key-id", hashlib.sha256).hexdigest()[:16]

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data``, hex."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    @classmethod
    def ephemeral(cls) -> AuditKey:
        """A random key that lives as long as the process (an in-memory trail)."""
        return cls(secrets.token_hex(32).encode(), "ephemeral")

    @classmethod
    def of(cls, value: AuditKey | bytes | str, source: str = "given") -> AuditKey:
        """``value`` as a key (text is used as its UTF-8 bytes)."""
        if isinstance(value, AuditKey):
            return value
        secret = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if len(secret) < MIN_KEY_CHARS:
            raise ConfigError(f"COPILOT_AUDIT_KEY: at least {MIN_KEY_CHARS} characters are needed")
        return cls(secret, source)


def key_file(path: Path) -> AuditKey:
    """The key in ``path``, made (32 random bytes as hex, mode 0600) if the file does not exist yet."""
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("the audit key file %s can be read by other users (mode %o): chmod 600 it", path, mode)
        return AuditKey.of(_written(path), f"file {path}")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    log.warning(
        "no COPILOT_AUDIT_KEY: the audit trail is keyed with a new random key in %s (mode 0600). Anyone who can "
        "write the trail and read that file could rewrite it; set COPILOT_AUDIT_KEY from a secret store in "
        "production (and keep this file's key there if you keep these records)",
        path,
    )
    return AuditKey.of(path.read_text(encoding="ascii").strip(), f"file {path}")


def _written(path: Path) -> str:
    """The key in ``path``, waiting briefly while another process that just made the file writes it."""
    for _ in range(_READ_ATTEMPTS):
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text
        time.sleep(0.05)
    return text


def load_audit_key(settings: Settings, default_file: Path | None = None) -> AuditKey:
    """``COPILOT_AUDIT_KEY``, or the key file (``default_file``, else ``audit.key`` in the data dir)."""
    if settings.audit_key is not None:
        return AuditKey.of(settings.audit_key.get_secret_value(), "COPILOT_AUDIT_KEY")
    return key_file(default_file or Path(settings.data_dir).expanduser() / KEY_FILE)
