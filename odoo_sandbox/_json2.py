"""Odoo 19's JSON-2 API in the sandbox: ``POST /json/2/<model>/<method>`` with a bearer API key, and
``GET /web/version``. Statuses and error bodies as recorded from a real Odoo 19 (``shared/odoo-reference-19/
json2``): 401 no or unknown key, 403 AccessError (ACL, private method), 404 unknown model, method or route,
422 an argument the method does not take or ``ids`` given to a model method, 500 any other exception
(``ValueError`` ...), 400 a body that is not JSON, 415 (an HTML page) a body that is not sent as JSON.
Not recorded, from the 19 source: UserError / ValidationError 422, MissingError 404, AccessDenied 403.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from odoo_sandbox._methods import execute_kw
from odoo_sandbox._security import RpcError, SandboxUser

if TYPE_CHECKING:
    from odoo_sandbox._rpc import Backend, Reply

__all__ = ["JSON2_PREFIX", "handle_json2"]

JSON2_PREFIX = "/json/2/"
_ROUTE = re.compile(r"/json/2/([a-z0-9_.]+)/([A-Za-z0-9_]+)")
#: ``@api.model`` methods: no ``ids``
_MODEL_METHODS = frozenset(
    {
        "search_read", "search", "search_count", "name_search", "fields_get", "read_group", "formatted_read_group",
        "default_get", "check_access_rights", "create", "context_get",
    }
)  # fmt: skip
_HTML_415 = (
    "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n"
    "<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;/json/2/&lt;__model__&gt;/&lt;__method__"
    "&gt;&#39; is type=&#39;json2&#39;.<br><br>Please verify the Content-Type request header and try again.</p>\n"
)
_STATUS = {
    "odoo.exceptions.AccessError": 403,
    "odoo.exceptions.AccessDenied": 403,
    "odoo.exceptions.MissingError": 404,
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "odoo.exceptions.LockError": 409,
}
_WERKZEUG = {
    400: ("BadRequest", "Bad Request"),
    401: ("Unauthorized", "Unauthorized"),
    404: ("NotFound", "Not Found"),
    422: ("UnprocessableEntity", "Unprocessable Entity"),
}


def _http_error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    name, title = _WERKZEUG[status]
    return status, {
        "name": f"werkzeug.exceptions.{name}",
        "message": message,
        "arguments": [message, status],
        "context": {},
        "debug": f"Traceback (most recent call last):\n  ...\nwerkzeug.exceptions.{name}: {status} {title}: {message}",
    }


def _odoo_error(error: RpcError) -> tuple[int, dict[str, Any]]:
    qualified = error.name.removeprefix("builtins.")
    last = f"{qualified}: {error.message}".splitlines()[-1]
    body = {
        "name": error.name,
        "message": error.message,
        "arguments": error.arguments,
        "context": {},
        "debug": f"Traceback (most recent call last):\n  ...\n{last}",
    }
    return _STATUS.get(error.name, 500), body


def _user_for(backend: Backend, authorization: str) -> SandboxUser | None:
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return next((u for u in backend.users if u.api_key and u.api_key == key.strip()), None)


def _to_rpc(error: RpcError, model: str, method: str) -> tuple[int, dict[str, Any]]:
    """An error of the shared ORM emulation as JSON-2 answers it."""
    if error.name == "builtins.AttributeError" and "does not exist" in error.message:
        return _http_error(404, error.message)
    if error.name == "odoo.exceptions.UserError" and error.message == f"Object {model} doesn't exist":
        return _http_error(404, f"the model '{model}' does not exist")
    if error.name == "builtins.TypeError" and ") " in error.message:  # "BaseModel.read() got an unexpected ..."
        return _http_error(422, error.message.split(") ", 1)[1])
    return _odoo_error(error)


def handle_json2(backend: Backend, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Reply:
    """Answer one HTTP request to ``/web/version`` or ``/json/2/...`` as Odoo 19 does."""
    from odoo_sandbox._rpc import Reply

    if path == "/web/version" and method == "GET":
        info = backend.dataset.version_info
        return Reply(200, {"version_info": info["server_version_info"], "version": info["server_version"]})
    route = _ROUTE.fullmatch(path)
    if method != "POST" or route is None:
        return Reply(*_http_error(404, "Did you mean POST /json/2/<model>/<method>?"))
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        return Reply(415, _HTML_415, content_type="text/html; charset=utf-8")
    authorization = headers.get("authorization", "")
    if not authorization:
        message = "User not authenticated, use an API Key with a Bearer Authorization header."
        return Reply(*_http_error(401, message), headers={"WWW-Authenticate": "Bearer"})
    user = _user_for(backend, authorization)
    database = headers.get("x-odoo-database")
    if user is None or (database and database != backend.db):
        return Reply(*_http_error(401, "Invalid apikey"), headers={"WWW-Authenticate": "Bearer"})
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        return Reply(*_http_error(400, f"could not parse the body as json: {exc}"))
    if not isinstance(body, dict):
        return Reply(*_http_error(400, "could not parse the body as json: expected an object"))
    model, name = route.group(1), route.group(2)
    args: list[Any] = []
    kwargs = dict(body)
    if "ids" in kwargs:
        if name in _MODEL_METHODS:
            return Reply(*_http_error(422, f"cannot call {model}.{name} with ids"))
        args = [kwargs.pop("ids")]
    try:
        result = execute_kw(backend.store, user, backend.now, model, name, args, kwargs)
    except RpcError as error:
        status, payload = _to_rpc(backend.release.relabel(error), model, name)
        return Reply(status, payload)
    except Exception as exc:  # an unexpected failure still answers like Odoo does
        status, payload = _odoo_error(RpcError(f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc)))
        return Reply(status, payload)
    if name == "create" and isinstance(result, int):
        result = [result]  # JSON-2 returns a recordset's ids
    return Reply(200, result)
