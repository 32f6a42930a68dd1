"""The one Odoo client: read-only by construction, with an allow-list checked before anything is sent.

The copilot's Odoo account may read, and may create approval requests; nothing else. This module is
the code half of that rule (the Odoo addon's security groups are the other half): every call goes
through ``OdooClient.execute``, which refuses any method outside ``READ_METHODS`` and any ``create``
outside the approval-request model, *before* the transport is touched.

The transport (``OdooTransport``) is a narrow seam: today odoorpc over ``/jsonrpc``; Odoo 19's JSON-2
API can be a second implementation without touching the client or the tools.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import odoorpc
import odoorpc.error

from copilot.audit.calls import record_odoo_call
from copilot.config import Settings
from copilot.errors import (
    ConfigError,
    MethodNotAllowed,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooServerError,
    OdooUnavailable,
)

__all__ = [
    "DEFAULT_FIELD_ATTRIBUTES",
    "READ_METHODS",
    "Domain",
    "Gate",
    "OdooClient",
    "OdooRPCTransport",
    "OdooTransport",
    "check_allowed",
    "company_scope",
    "current_company_scope",
]

log = logging.getLogger(__name__)

Domain = list[Any]
T = TypeVar("T")
#: ``gate(model, method, args, kwargs)`` raises ``MethodNotAllowed`` for a call that must not be sent.
Gate = Callable[[str, str, tuple[Any, ...], dict[str, Any]], None]

#: Methods the copilot may call on any model. All of them only read.
READ_METHODS: frozenset[str] = frozenset(
    {"search_read", "read", "search_count", "read_group", "name_search", "fields_get"}
)
#: Field attributes asked of ``fields_get`` unless the caller says otherwise.
DEFAULT_FIELD_ATTRIBUTES: tuple[str, ...] = ("string", "type", "relation", "selection", "required", "readonly")


def check_allowed(model: str, method: str, *, approval_model: str) -> None:
    """Raise ``MethodNotAllowed`` unless ``model.method`` is on the allow-list."""
    if not model or not method:
        raise MethodNotAllowed("empty model or method", model=model, method=method)
    if method in READ_METHODS:
        return
    if method == "create" and model == approval_model:
        return
    raise MethodNotAllowed(
        f"the copilot may not call {model}.{method}: its Odoo access is read-only "
        f"(allowed: {', '.join(sorted(READ_METHODS))}; create only on {approval_model})",
        model=model,
        method=method,
    )


class OdooTransport(Protocol):
    """Sends one already-checked call to Odoo. Implementations raise ``OdooError`` subclasses."""

    def login(self) -> int:
        """Authenticate and return the user id."""
        ...

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call ``model.method(*args, **kwargs)`` as the logged-in user."""
        ...


#: Low-level failures that mean "Odoo could not be reached or did not answer in time".
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    json.JSONDecodeError,
)


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (408, 429, 500, 502, 503, 504)
    return isinstance(exc, _NETWORK_ERRORS)


def _never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach Odoo (safe to retry even a create)."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _map_rpc_error(exc: odoorpc.error.RPCError, model: str | None, method: str | None) -> OdooError:
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


#: The companies the current request may see (``None``: whatever the copilot's Odoo user sees).
_company_scope: ContextVar[tuple[int, ...] | None] = ContextVar("odoo_company_scope", default=None)


@contextmanager
def company_scope(company_ids: Sequence[int] | None) -> Iterator[None]:
    """Every Odoo call inside sends ``allowed_company_ids``: Odoo's multi-company rules hide other companies."""
    token = _company_scope.set(tuple(company_ids) if company_ids is not None else None)
    try:
        yield
    finally:
        _company_scope.reset(token)


def current_company_scope() -> tuple[int, ...] | None:
    """The companies of the enclosing ``company_scope`` (``None`` outside one)."""
    return _company_scope.get()


class OdooRPCTransport:
    """``OdooTransport`` over odoorpc (JSON-RPC on ``/jsonrpc``), the protocol Odoo 10-18 speak."""

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
            raise _map_rpc_error(exc, "res.users", "login") from exc
        self._odoo = odoo
        return int(odoo.env.uid)

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Send one ``object.execute_kw`` call."""
        if self._odoo is None:
            self.login()
        assert self._odoo is not None
        if self._user_context and "context" not in kwargs:  # as odoorpc's model proxy: user's lang and tz
            kwargs = {**kwargs, "context": dict(self._odoo.env.context)}
        scope = _company_scope.get()
        if scope is not None:  # the request's companies, enforced by Odoo's record rules
            kwargs = {**kwargs, "context": {**(kwargs.get("context") or {}), "allowed_company_ids": list(scope)}}
        try:
            return self._odoo.execute_kw(model, method, args, kwargs)
        except odoorpc.error.RPCError as exc:
            raise _map_rpc_error(exc, model, method) from exc


class OdooClient:
    """Read-only Odoo access for the copilot: allow-listed methods, timeouts, bounded retries, typed errors."""

    def __init__(
        self,
        transport: OdooTransport,
        *,
        approval_model: str = "copilot.approval.request",
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        description: str = "Odoo",
        gate: Gate | None = None,
    ) -> None:
        self._transport = transport
        self.approval_model = approval_model
        #: The allow-list check run before anything is sent. The copilot's clients always use the
        #: read-only default; only the executor (its own process and credential) passes another.
        self._gate: Gate = gate or (
            lambda model, method, args, kwargs: check_allowed(model, method, approval_model=approval_model)
        )
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._lock = threading.Lock()
        self._logged_in = False
        self._uid = 0
        self.description = description
        #: Number of calls sent to Odoo (login excluded); tools promise a bound on it.
        self.round_trips = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, url: str | None = None, db: str | None = None) -> OdooClient:
        """Build a client from settings; ``url``/``db`` override them (the sandbox passes its own)."""
        secret = settings.odoo_secret
        return cls.connect(
            settings, url=url, db=db, login=settings.odoo_login, secret=secret.get_secret_value() if secret else ""
        )

    @classmethod
    def connect(
        cls,
        settings: Settings,
        *,
        url: str | None,
        db: str | None,
        login: str,
        secret: str,
        gate: Gate | None = None,
        role: str = "",
    ) -> OdooClient:
        """A client for ``login``: the copilot's (``from_settings``, read-only gate) or the executor's (its gate)."""
        target = url or (str(settings.odoo_url) if settings.odoo_url else None)
        if target is None:
            raise ConfigError("COPILOT_ODOO_URL: not set (start the sandbox or set the URL)")
        transport = OdooRPCTransport(
            url=target, db=db or settings.odoo_db or "", login=login, secret=secret, timeout=settings.odoo_timeout
        )
        return cls(
            transport,
            approval_model=settings.approval_model,
            retries=settings.odoo_retries,
            backoff=settings.odoo_backoff,
            description=f"{target}{role}",
            gate=gate,
        )

    # -- the one gate -------------------------------------------------------------------------
    def execute(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an allow-listed ``model.method``; anything else raises ``MethodNotAllowed`` unsent."""
        self._gate(model, method, args, kwargs)
        self._ensure_login()
        retry_any = method != "create"  # a create that may have reached Odoo is not repeated
        result = self._with_retries(
            lambda: self._transport.execute_kw(model, method, list(args), dict(kwargs)),
            what=f"{model}.{method}",
            retry_any=retry_any,
        )
        self.round_trips += 1
        record_odoo_call(model, method, args, kwargs, result)  # for the audit trail, inside capture_tool_calls()
        return result

    @property
    def uid(self) -> int:
        """The logged-in user's id (logs in on first use)."""
        self._ensure_login()
        return self._uid

    def check_connection(self) -> None:
        """Log in now; when nothing listens at the URL (refused, unknown host), fail at once instead of retrying.

        For a command about to load a model: a dead Odoo is reported in a second, not after the model loaded.
        Timeouts and 5xx answers are still retried (Odoo may be busy or restarting).
        """
        self._ensure_login(retry_unreachable=False)

    def _ensure_login(self, *, retry_unreachable: bool = True) -> None:
        with self._lock:
            if not self._logged_in:
                uid = self._with_retries(
                    self._transport.login, what="login", retry_any=True, retry_unreachable=retry_unreachable
                )
                self._uid = int(uid or 0)
                self._logged_in = True

    def _with_retries(self, call: Callable[[], T], *, what: str, retry_any: bool, retry_unreachable: bool = True) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except OdooError:
                raise
            except Exception as exc:
                if not _is_retryable(exc):
                    raise
                gone = not retry_unreachable and _never_sent(exc)  # nothing listens: retrying only delays the error
                if gone or attempt >= self._retries or not (retry_any or _never_sent(exc)):
                    raise OdooUnavailable(
                        f"{self.description} unreachable for {what} after {attempt + 1} attempt(s): {exc}",
                        method=what,
                    ) from exc
                delay = min(self._backoff * (2**attempt), self._max_backoff)
                log.warning("odoo %s failed (%s); retry %d/%d in %.1fs", what, exc, attempt + 1, self._retries, delay)
                self._sleep(delay)
                attempt += 1

    # -- typed helpers ------------------------------------------------------------------------
    def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records matching ``domain``, only the listed ``fields``."""
        kwargs: dict[str, Any] = {}
        if limit is not None:
            kwargs["limit"] = limit
        if offset:
            kwargs["offset"] = offset
        if order:
            kwargs["order"] = order
        if context:
            kwargs["context"] = context
        return list(self.execute(model, "search_read", domain, _require_fields(fields), **kwargs))

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        """The records with these ids (missing ids are simply absent), only the listed ``fields``."""
        if not ids:
            return []
        return list(self.execute(model, "read", list(ids), _require_fields(fields)))

    def search_count(self, model: str, domain: Domain) -> int:
        """How many records match ``domain``."""
        return int(self.execute(model, "search_count", domain))

    def read_group(
        self, model: str, domain: Domain, fields: Sequence[str], groupby: Sequence[str], *, lazy: bool = True
    ) -> list[dict[str, Any]]:
        """Aggregates of ``fields`` (e.g. ``amount_total:sum``) grouped by ``groupby``."""
        return list(self.execute(model, "read_group", domain, list(fields), list(groupby), lazy=lazy))

    def name_search(
        self, model: str, name: str, domain: Domain | None = None, *, operator: str = "ilike", limit: int = 8
    ) -> list[tuple[int, str]]:
        """``[(id, display name)]`` of records whose name matches."""
        rows = self.execute(model, "name_search", name, domain or [], operator, limit)
        return [(int(r[0]), str(r[1])) for r in rows]

    def fields_get(self, model: str, attributes: Sequence[str] = DEFAULT_FIELD_ATTRIBUTES) -> dict[str, Any]:
        """Field metadata of ``model`` (only the listed attributes)."""
        return dict(self.execute(model, "fields_get", [], attributes=list(attributes)))

    def create_approval_request(self, values: dict[str, Any]) -> int:
        """Create one record of the approval-request model: the copilot's only write."""
        return int(self.execute(self.approval_model, "create", values))


def _require_fields(fields: Sequence[str]) -> list[str]:
    if isinstance(fields, str) or not fields:
        raise ValueError("reads must name their fields explicitly (a non-empty list of field names)")
    return list(fields)
