"""Transports: how one already-checked call reaches Odoo. Today odoorpc over ``/jsonrpc``.

``OdooTransport`` is a narrow seam: Odoo 19's JSON-2 API can be a second implementation without touching
the client or the tools. Implementations raise ``copilot.errors.OdooError`` subclasses.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import odoorpc
import odoorpc.error

from copilot.errors import (
    ConfigError,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooServerError,
)
from copilot.odoo.scope import current_company_scope

__all__ = [
    "OdooRPCTransport",
    "OdooTransport",
    "RetryableStatus",
    "call_kwargs",
    "is_retryable",
    "map_rpc_error",
    "never_sent",
]


class OdooTransport(Protocol):
    """Sends one already-checked call to Odoo. Implementations raise ``OdooError`` subclasses."""

    def login(self) -> int:
        """Authenticate and return the user id."""
        ...

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call ``model.method(*args, **kwargs)`` as the logged-in user."""
        ...

    def server_version(self) -> Any:
        """The server's ``server_version_info`` (or ``server_version`` string), known once connected."""
        ...


class RetryableStatus(Exception):
    """An HTTP status that says "try again later" (a proxy's 502/503/504, 429, 408): no Odoo error body."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status


#: Low-level failures that mean "Odoo could not be reached or did not answer in time".
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    json.JSONDecodeError,
    httpx.TransportError,
    RetryableStatus,
)


def is_retryable(exc: BaseException) -> bool:
    """True for a network failure or a "try later" status: the call may be sent again (if it is idempotent)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (408, 429, 500, 502, 503, 504)
    return isinstance(exc, _NETWORK_ERRORS)


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach Odoo (safe to retry even a create)."""
    if isinstance(exc, httpx.ConnectError):  # JSON-2: no connection was made
        return True
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def map_rpc_error(exc: odoorpc.error.RPCError, model: str | None, method: str | None) -> OdooError:
    """The ``copilot.errors`` type for Odoo's JSON-RPC error (every transport maps errors the same way)."""
    info = exc.info if isinstance(exc.info, dict) else {}
    data = info.get("data") or {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or exc)
    kind: type[OdooError]
    if name.endswith("AccessDenied"):
        kind = OdooAuthenticationError
    elif name.endswith("AccessError"):
        kind = OdooAccessDenied
    elif name.endswith("MissingError") or (
        name.endswith(("AttributeError", "UserError")) and ("does not exist" in message or "doesn't exist" in message)
    ):
        kind = OdooNotFound
    else:
        kind = OdooServerError
    return kind(message, model=model, method=method, odoo_error=name or None)


def call_kwargs(kwargs: dict[str, Any], user_context: dict[str, Any] | None) -> dict[str, Any]:
    """``kwargs`` as sent: the user's context when none is given, and the current company scope."""
    if user_context is not None and "context" not in kwargs:  # as odoorpc's model proxy: user's lang and tz
        kwargs = {**kwargs, "context": user_context}
    scope = current_company_scope()
    if scope is not None:  # the request's companies, enforced by Odoo's record rules
        kwargs = {**kwargs, "context": {**(kwargs.get("context") or {}), "allowed_company_ids": list(scope)}}
    return kwargs


class OdooRPCTransport:
    """``OdooTransport`` over odoorpc (JSON-RPC on ``/jsonrpc``): Odoo 18, and 19 (deprecated there)."""

    protocol = "jsonrpc"

    def __init__(
        self, *, url: str, db: str, login: str, secret: str, timeout: float, user_context: bool = True
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"COPILOT_ODOO_URL: not an http(s) URL: {url!r}")
        if parts.path not in ("", "/"):
            raise ConfigError(f"COPILOT_ODOO_URL: Odoo must be served at the root of the host, got path {parts.path!r}")
        self._host = parts.hostname
        self._ssl = parts.scheme == "https"
        self._port = parts.port or (443 if self._ssl else 80)
        self._db = db
        self._login = login
        self._secret = secret
        self._timeout = timeout
        self._user_context = user_context
        self._odoo: odoorpc.ODOO | None = None

    def login(self) -> int:
        """Connect (version check) and log in with ``common.login``; returns the uid."""
        odoo = odoorpc.ODOO(
            self._host, protocol="jsonrpc+ssl" if self._ssl else "jsonrpc", port=self._port, timeout=self._timeout
        )
        try:
            odoo.login(self._db, self._login, self._secret)
        except odoorpc.error.RPCError as exc:
            if not exc.info:  # odoorpc's own "Wrong login ID or password": Odoo answered result=false
                raise OdooAuthenticationError(
                    f"Odoo refused the login {self._login!r} on database {self._db!r} "
                    "(wrong login, password or API key)"
                ) from exc
            raise map_rpc_error(exc, "res.users", "login") from exc
        self._odoo = odoo
        return int(odoo.env.uid)

    def server_version(self) -> Any:
        """``server_version`` (``"19.0"``) as odoorpc read it when connecting."""
        if self._odoo is None:
            self.login()
        assert self._odoo is not None
        return self._odoo.version

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Send one ``object.execute_kw`` call."""
        if self._odoo is None:
            self.login()
        assert self._odoo is not None
        kwargs = call_kwargs(kwargs, dict(self._odoo.env.context) if self._user_context else None)
        try:
            return self._odoo.execute_kw(model, method, args, kwargs)
        except odoorpc.error.RPCError as exc:
            raise map_rpc_error(exc, model, method) from exc
