"""``OdooTransport`` over Odoo 19's JSON-2 API: ``POST /json/2/<model>/<method>`` with a bearer API key.

Stateless (no session, no uid, no password on the wire): the API key names the user. One ``httpx.Client``
per transport keeps its connections alive and pooled. HTTP statuses and error bodies map to the copilot's
typed errors as recorded from a real Odoo 19 (``shared/odoo-reference-19/json2``):

=======  ======================================  ==========================================
status   Odoo's ``name``                         copilot error
=======  ======================================  ==========================================
401      werkzeug Unauthorized (no / bad key)    ``OdooAuthenticationError``
403      AccessError (ACL, private method)       ``OdooAccessDenied``
403      AccessDenied                            ``OdooAuthenticationError``
404      NotFound (model, method), MissingError  ``OdooNotFound``
422      UnprocessableEntity, UserError, ...     ``OdooServerError``
400/415  BadRequest / HTML page                  ``OdooServerError``
500      any other exception (ValueError, ...)   ``OdooServerError``
502-504  a proxy in front of a restarting Odoo   retried (reads only), then ``OdooUnavailable``
=======  ======================================  ==========================================
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from copilot.errors import (
    ConfigError,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooServerError,
)
from copilot.odoo.transport import RetryableStatus, call_kwargs

__all__ = ["Json2Transport", "RetryableStatus", "json2_arguments", "map_json2_error"]

#: Positional parameter names of the methods the copilot and the executor call (``@ids``: the records).
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("@ids", "fields", "load"),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "formatted_read_group": ("domain", "groupby", "aggregates", "having", "offset", "limit", "order"),
    "name_search": ("name", "domain", "operator", "limit"),
    "fields_get": ("allfields", "attributes"),
    "create": ("vals_list",),
    "write": ("@ids", "vals"),
    "unlink": ("@ids",),
    "has_group": ("@ids", "group_ext_id"),
    "context_get": (),
    # the approval addon's workflow (``copilot_approval``), called by the executor
    "action_approve": ("@ids", "comment"),
    "action_refuse": ("@ids", "comment"),
    "action_mark_executed": ("@ids", "outcome"),
    "action_mark_failed": ("@ids", "reason"),
    # the addon's exception upsert (``copilot.exception``), called by the copilot's Odoo sink
    "copilot_sync": ("vals_list",),
}
#: Any other method is a record method taking only the ids positionally (``action_*``, ``message_post``).
_RECORD_METHOD: tuple[str, ...] = ("@ids",)
#: Statuses a proxy answers while Odoo restarts or is busy: worth another try for a read.
_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})


def json2_arguments(method: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The named arguments of a JSON-2 body for ``method(*args, **kwargs)``."""
    names = _SIGNATURES.get(method, _RECORD_METHOD)
    if len(args) > len(names):
        raise ConfigError(f"JSON-2: {method} takes at most {len(names)} positional argument(s), got {len(args)}")
    body: dict[str, Any] = {}
    for name, value in zip(names, args, strict=False):
        body[name.removeprefix("@")] = value
    if method == "fields_get" and not body.get("allfields"):
        body.pop("allfields", None)  # [] means "all fields": say nothing
    clash = body.keys() & kwargs.keys()
    if clash:
        raise ConfigError(f"JSON-2: {method} got {sorted(clash)} both by position and by name")
    body.update(kwargs)
    return body


def map_json2_error(status: int, body: Any, model: str | None, method: str | None) -> OdooError:
    """The ``copilot.errors`` type for a JSON-2 error answer (status and ``{"name", "message", ...}`` body)."""
    name = str(body.get("name") or "") if isinstance(body, dict) else ""
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    if not message:
        message = f"HTTP {status} from Odoo's JSON-2 API"
    kind: type[OdooError]
    if status == 401 or name.endswith("AccessDenied"):
        kind = OdooAuthenticationError
    elif status == 403 or name.endswith("AccessError"):
        kind = OdooAccessDenied
    elif status == 404 or name.endswith("MissingError"):
        kind = OdooNotFound
    else:
        kind = OdooServerError
    return kind(message, model=model, method=method, odoo_error=name or None)


class Json2Transport:
    """``OdooTransport`` over ``/json/2`` (Odoo 19+), authenticated by the user's API key."""

    protocol = "json2"

    def __init__(
        self,
        *,
        url: str,
        db: str,
        api_key: str,
        timeout: float,
        user_context: bool = True,
        http: httpx.BaseTransport | None = None,
        max_connections: int = 10,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"COPILOT_ODOO_URL: not an http(s) URL: {url!r}")
        if not api_key:
            raise ConfigError("COPILOT_ODOO_API_KEY: JSON-2 needs the user's API key")
        self._base = f"{parts.scheme}://{parts.netloc}"
        self._user_context = user_context
        self._context: dict[str, Any] | None = None
        self._version: Any = None
        headers = {"Authorization": f"bearer {api_key}", "Content-Type": "application/json"}
        if db:
            headers["X-Odoo-Database"] = db
        self._http = httpx.Client(
            base_url=self._base,
            headers=headers,
            timeout=timeout,
            transport=http,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def server_version(self) -> Any:
        """The server's ``version_info``, read once: ``GET /web/version`` (19), else the JSON-RPC route
        ``/web/webclient/version_info`` that every version serves (18's ``/web/version`` is not a GET route)."""
        if self._version is None:
            self._version = self._public("GET", "/web/version", None, "version_info")
        if self._version is None:
            call = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}
            result = self._public("POST", "/web/webclient/version_info", call, "result")
            self._version = result.get("server_version_info") if isinstance(result, dict) else None
        if self._version is None:
            raise OdooServerError("the server did not say which Odoo version it runs", method="version")
        return self._version

    def _public(self, verb: str, path: str, body: Any, key: str) -> Any:
        """``key`` of a public route's JSON answer (no API key sent), or None."""
        request = self._http.build_request(verb, path, content=None if body is None else json.dumps(body))
        del request.headers["Authorization"]  # public: the key is not sent where it is not needed
        response = self._http.send(request)
        if response.status_code in _RETRY_STATUSES:
            raise RetryableStatus(response.status_code, str(response.url))
        try:
            answer = response.json() if response.status_code == 200 else None
        except ValueError:
            answer = None
        return answer.get(key) if isinstance(answer, dict) else None

    def login(self) -> int:
        """Check the key with ``res.users.context_get`` (it names the user); returns the uid."""
        context = self._call("res.users", "context_get", {})
        if not isinstance(context, dict) or not context.get("uid"):
            raise OdooAuthenticationError("Odoo's JSON-2 API did not name the API key's user", method="login")
        self._context = {k: v for k, v in context.items() if k != "uid"}
        return int(context["uid"])

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Send one ``POST /json/2/<model>/<method>`` with named arguments."""
        if self._context is None:
            self.login()
        context = dict(self._context) if self._user_context and self._context else None
        body = json2_arguments(method, args, call_kwargs(kwargs, context))
        result = self._call(model, method, body)
        if method == "create" and isinstance(body.get("vals_list"), dict) and isinstance(result, list):
            return result[0] if len(result) == 1 else result  # one dict in, one id out (as over JSON-RPC)
        return result

    def _call(self, model: str, method: str, body: dict[str, Any]) -> Any:
        response = self._http.post(f"/json/2/{model}/{method}", content=json.dumps(body))
        status = response.status_code
        if status == 200:
            return response.json()
        if status in _RETRY_STATUSES:
            raise RetryableStatus(status, str(response.url))
        try:
            error = response.json()
        except ValueError:
            error = None
        raise map_json2_error(status, error, model, method)
