"""The one Odoo client: read-only by construction, with an allow-list checked before anything is sent.

The copilot's Odoo account may read, and may create approval requests; nothing else. Every call goes
through ``OdooClient.execute``, which refuses any method outside ``READ_METHODS`` and any ``create``
outside the approval-request model (``copilot.odoo.allowlist``), *before* the transport is touched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from copilot.audit.calls import record_odoo_call
from copilot.config import Settings
from copilot.errors import ConfigError, OdooError, OdooUnavailable
from copilot.odoo.allowlist import DEFAULT_FIELD_ATTRIBUTES, MODEL_READ_METHODS, READ_METHODS, Gate, check_allowed
from copilot.odoo.connect import make_transport
from copilot.odoo.schema import OdooSchema, schema_for
from copilot.odoo.transport import OdooTransport, is_retryable, never_sent

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

    from copilot.observability import CopilotMetrics

__all__ = ["Domain", "OdooClient"]

log = logging.getLogger(__name__)

Domain = list[Any]
T = TypeVar("T")


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
        self._schema: OdooSchema | None = None
        self.description = description
        #: Number of calls sent to Odoo (login excluded); tools promise a bound on it.
        self.round_trips = 0
        #: Seconds spent in the transport (wire and Odoo) by those calls: the rest of a tool's time is the copilot's.
        self.transport_seconds = 0.0

    def instrument(self, metrics: CopilotMetrics, tracer: Tracer | None = None) -> None:
        """Time every call this client sends (``copilot_odoo_request_duration_seconds``), once; with ``tracer``,
        each call is also a span (method, model, protocol)."""
        from copilot.observability.odoo import TimedTransport

        if not isinstance(self._transport, TimedTransport):
            self._transport = TimedTransport(self._transport, metrics, tracer=tracer)

    @classmethod
    def from_settings(cls, settings: Settings, *, url: str | None = None, db: str | None = None) -> OdooClient:
        """Build a client from settings; ``url``/``db`` override them (the sandbox passes its own)."""
        secret = settings.odoo_secret
        api_key = settings.odoo_api_key.get_secret_value() if settings.odoo_api_key else None
        return cls.connect(
            settings,
            url=url,
            db=db,
            login=settings.odoo_login,
            secret=secret.get_secret_value() if secret else "",
            api_key=api_key,
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
        api_key: str | None = None,
    ) -> OdooClient:
        """A client for ``login``: the copilot's (``from_settings``, read-only gate) or the executor's (its gate).

        ``api_key`` (default: the settings' ``odoo_api_key`` when ``secret`` is it) lets ``odoo_protocol`` pick
        JSON-2 on Odoo 19 or newer.
        """
        target = url or (str(settings.odoo_url) if settings.odoo_url else None)
        if target is None:
            raise ConfigError("COPILOT_ODOO_URL: not set (start the sandbox or set the URL)")
        transport = make_transport(
            url=target,
            db=db or settings.odoo_db or "",
            login=login,
            secret=secret,
            api_key=api_key,
            protocol=settings.odoo_protocol,
            timeout=settings.odoo_timeout,
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
        # only an idempotent read is sent again after a failure that may have reached Odoo
        retry_any = method in READ_METHODS or (model, method) in MODEL_READ_METHODS
        started = time.perf_counter()
        result = self._with_retries(
            lambda: self._transport.execute_kw(model, method, list(args), dict(kwargs)),
            what=f"{model}.{method}",
            retry_any=retry_any,
        )
        self.transport_seconds += time.perf_counter() - started
        self.round_trips += 1
        record_odoo_call(model, method, args, kwargs, result)  # for the audit trail, inside capture_tool_calls()
        return result

    @property
    def schema(self) -> OdooSchema:
        """The server's schema map (its version is read at login; logs in on first use)."""
        self._ensure_login()
        assert self._schema is not None
        return self._schema

    @property
    def protocol(self) -> str:
        """The wire protocol in use: ``jsonrpc`` or ``json2`` (known after login)."""
        self._ensure_login()
        return str(getattr(self._transport, "protocol", "jsonrpc"))

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
                version = getattr(self._transport, "server_version", None)
                self._schema = schema_for(version() if callable(version) else "18.0")
                self._logged_in = True

    def _with_retries(self, call: Callable[[], T], *, what: str, retry_any: bool, retry_unreachable: bool = True) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except OdooError:
                raise
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                gone = not retry_unreachable and never_sent(exc)  # nothing listens: retrying only delays the error
                if gone or attempt >= self._retries or not (retry_any or never_sent(exc)):
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
        schema = self.schema
        kwargs: dict[str, Any] = {}
        if limit is not None:
            kwargs["limit"] = limit
        if offset:
            kwargs["offset"] = offset
        if order:
            kwargs["order"] = schema.order(model, order)
        if context:
            kwargs["context"] = context
        sent = schema.fields(model, _require_fields(fields))
        rows = self.execute(model, "search_read", schema.domain(model, domain), sent, **kwargs)
        return schema.rows(model, rows)

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        """The records with these ids (missing ids are simply absent), only the listed ``fields``."""
        if not ids:
            return []
        schema = self.schema
        rows = self.execute(model, "read", list(ids), schema.fields(model, _require_fields(fields)))
        return schema.rows(model, rows)

    def search_count(self, model: str, domain: Domain) -> int:
        """How many records match ``domain``."""
        return int(self.execute(model, "search_count", self.schema.domain(model, domain)))

    def read_group(
        self, model: str, domain: Domain, aggregates: Sequence[str], groupby: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Aggregates (e.g. ``amount_total:sum``) grouped by one field, on any series.

        Each row: the group value under the groupby name, ``__count``, each aggregate under its own spec
        (``"amount_total:sum"``) and ``__domain`` (the outer domain and the group's). Odoo 18 answers
        ``read_group``, 19 ``formatted_read_group`` (``read_group`` is deprecated there).
        """
        schema = self.schema
        sent_domain = schema.domain(model, domain)
        specs = [_aggregate_spec(schema, model, a) for a in aggregates]
        groups = schema.fields(model, groupby)
        if schema.group_method == "formatted_read_group":
            rows = self.execute(
                model, "formatted_read_group", domain=sent_domain, groupby=groups, aggregates=[*specs, "__count"]
            )
            return [
                {
                    **{logical: row.get(real) for logical, real in zip(groupby, groups, strict=True)},
                    **{logical: row.get(spec) for logical, spec in zip(aggregates, specs, strict=True)},
                    "__count": row.get("__count", 0),
                    "__domain": [*sent_domain, *row.get("__extra_domain", [])],
                }
                for row in rows
            ]
        rows = self.execute(model, "read_group", sent_domain, specs, groups, lazy=True)
        out = []
        for row in rows:
            entry = {logical: row.get(real) for logical, real in zip(groupby, groups, strict=True)}
            for logical, spec in zip(aggregates, specs, strict=True):
                entry[logical] = row.get(spec.partition(":")[0])
            entry["__count"] = row.get(f"{groups[0]}_count", row.get("__count", 0))
            entry["__domain"] = row.get("__domain", [])
            out.append(entry)
        return out

    def has_group(self, user_id: int, group_xml_id: str) -> bool:
        """Whether the user is in the group (``res.users.has_group``, implied groups included)."""
        return bool(self.execute("res.users", "has_group", [user_id], group_xml_id))

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


def _aggregate_spec(schema: OdooSchema, model: str, spec: str) -> str:
    name, colon, func = spec.partition(":")
    return schema.field(model, name) + colon + func


def _require_fields(fields: Sequence[str]) -> list[str]:
    if isinstance(fields, str) or not fields:
        raise ValueError("reads must name their fields explicitly (a non-empty list of field names)")
    return list(fields)
