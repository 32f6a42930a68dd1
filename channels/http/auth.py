"""Bearer tokens with per-client scopes.

``COPILOT_API_TOKENS`` holds one entry per client, separated by ``;``::

    n8n:3q2-long-random-token:summarize,classify;odoo:another-long-token:read,propose;ops:third-token:*

Each entry is ``name:token:scopes``: a client name (letters, digits, ``._-``), its token (at least
24 characters, no ``:`` or ``;``; e.g. ``python -c "import secrets; print(secrets.token_urlsafe(32))"``)
and comma-separated scopes, ``*`` meaning all of them. Tokens are compared in constant time and
never logged; the client's name is what logs and idempotency keys see.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from copilot.errors import ConfigError

__all__ = ["ANONYMOUS", "MIN_TOKEN_CHARS", "Client", "Scope", "TokenTable", "parse_tokens"]

MIN_TOKEN_CHARS = 24
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Scope(StrEnum):
    """What a client may call: ``read`` covers the GETs, each other scope one POST."""

    READ = "read"
    SUMMARIZE = "summarize"
    CLASSIFY = "classify"
    DRAFT = "draft"
    ASK = "ask"
    PROPOSE = "propose"


@dataclass(frozen=True)
class Client:
    """An authenticated API client (never holds its token)."""

    name: str
    scopes: frozenset[Scope]


#: The caller when ``COPILOT_API_ALLOW_ANONYMOUS`` is true and no token is sent.
ANONYMOUS = Client(name="anonymous", scopes=frozenset(Scope))


def parse_tokens(value: SecretStr | str | None) -> list[tuple[Client, bytes]]:
    """The clients in ``COPILOT_API_TOKENS``; a malformed entry raises ``ConfigError`` (without the token)."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
    clients: list[tuple[Client, bytes]] = []
    names: set[str] = set()
    for position, entry in enumerate((e.strip() for e in raw.split(";")), start=1):
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 3:
            raise ConfigError(f"COPILOT_API_TOKENS: entry {position} is not name:token:scopes")
        name, token, scope_text = (p.strip() for p in parts)
        if not _NAME.match(name):
            raise ConfigError(f"COPILOT_API_TOKENS: entry {position}: invalid client name")
        if name in names:
            raise ConfigError(f"COPILOT_API_TOKENS: client {name!r} appears twice")
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"COPILOT_API_TOKENS: the token of {name!r} is shorter than {MIN_TOKEN_CHARS} characters")
        requested = {s.strip() for s in scope_text.split(",") if s.strip()}
        if not requested:
            raise ConfigError(f"COPILOT_API_TOKENS: client {name!r} has no scope")
        if "*" in requested:
            scopes = frozenset(Scope)
        else:
            unknown = sorted(requested - {s.value for s in Scope})
            if unknown:
                raise ConfigError(
                    f"COPILOT_API_TOKENS: client {name!r}: unknown scope {', '.join(unknown)} "
                    f"(known: {', '.join(s.value for s in Scope)}, *)"
                )
            scopes = frozenset(Scope(s) for s in requested)
        names.add(name)
        clients.append((Client(name=name, scopes=scopes), token.encode("utf-8")))
    return clients


class TokenTable:
    """The configured clients; finds the one a bearer token belongs to in constant time per entry."""

    def __init__(self, clients: list[tuple[Client, bytes]], *, allow_anonymous: bool = False) -> None:
        self._clients = clients
        self.allow_anonymous = allow_anonymous

    @classmethod
    def from_settings(cls, settings: object) -> TokenTable:
        """From ``api_tokens`` and ``api_allow_anonymous`` (absent settings mean: no token, not anonymous)."""
        return cls(
            parse_tokens(getattr(settings, "api_tokens", None)),
            allow_anonymous=bool(getattr(settings, "api_allow_anonymous", False)),
        )

    def __len__(self) -> int:
        return len(self._clients)

    def find(self, token: str) -> Client | None:
        """The client holding ``token``, or None; every entry is compared (no early exit)."""
        given = token.encode("utf-8")
        found = None
        for client, expected in self._clients:
            if hmac.compare_digest(given, expected):
                found = client
        return found
