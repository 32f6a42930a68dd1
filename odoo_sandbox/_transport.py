"""An ``OdooTransport`` that reaches a sandbox in this process: its own JSON-RPC handling, no HTTP, no socket.

Each call is the JSON-RPC request odoorpc would send (``/jsonrpc``, ``common.login``, ``object.execute_kw``),
encoded and decoded as JSON like on the wire, answered by the sandbox's ``Backend.handle``: the same
authentication, access rules and error payloads. Errors map to the same ``copilot.errors`` types as over
JSON-RPC (``copilot.odoo.transport.map_rpc_error``); the allow-list gate stays in ``OdooClient``, in front of
every transport. The sandbox's request log and injected faults apply too: a dropped connection, an HTTP 503
and a stall beyond the timeout raise what urllib raises for them.
"""

from __future__ import annotations

import http.client
import io
import json
import urllib.error
from email.message import Message
from itertools import count
from typing import TYPE_CHECKING, Any

import httpx
import odoorpc.error

from copilot.errors import OdooAuthenticationError
from copilot.odoo.json2 import Json2Transport
from copilot.odoo.transport import call_kwargs, map_rpc_error

if TYPE_CHECKING:
    from odoo_sandbox._server import SandboxServer

__all__ = ["SandboxTransport", "sandbox_json2_transport"]

#: What the sandbox's address looks like in errors (there is no port: nothing listens).
IN_PROCESS_URL = "in-process://odoo-sandbox"


class SandboxTransport:
    """``OdooTransport`` to ``server`` in this process (the server need not be started)."""

    def __init__(
        self,
        server: SandboxServer,
        *,
        login: str,
        secret: str,
        db: str | None = None,
        timeout: float = 30.0,
        user_context: bool = True,
    ) -> None:
        self._server = server
        self._db = db if db is not None else server.db
        self._login = login
        self._secret = secret
        self._timeout = timeout
        self._user_context = user_context
        self._uid: int | None = None
        self._context: dict[str, Any] = {}
        self._ids = count(1)
        self._version: Any = None

    protocol = "jsonrpc"

    def server_version(self) -> Any:
        """``server_version_info`` as the version check at login read it."""
        if self._version is None:
            self.login()
        return self._version

    def login(self) -> int:
        """Version check and ``common.login`` as odoorpc does them; returns the uid."""
        try:
            self._version = self._post("/web/webclient/version_info", {}).get("server_version_info")
            uid = self._post(
                "/jsonrpc", {"service": "common", "method": "login", "args": [self._db, self._login, self._secret]}
            )
            if not uid:
                raise OdooAuthenticationError(
                    f"Odoo refused the login {self._login!r} on database {self._db!r} "
                    "(wrong login, password or API key)"
                )
            args = [self._db, uid, self._secret, "res.users", "context_get"]
            context = self._post("/jsonrpc", {"service": "object", "method": "execute", "args": args})
        except odoorpc.error.RPCError as exc:
            raise map_rpc_error(exc, "res.users", "login") from exc
        self._context = {**context, "uid": uid}
        self._uid = int(uid)
        return self._uid

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Send one ``object.execute_kw`` call."""
        if self._uid is None:
            self.login()
        kwargs = call_kwargs(kwargs, dict(self._context) if self._user_context else None)
        params = {
            "service": "object",
            "method": "execute_kw",
            "args": [self._db, self._uid, self._secret, model, method, args, kwargs],
        }
        try:
            return self._post("/jsonrpc", params)
        except odoorpc.error.RPCError as exc:
            raise map_rpc_error(exc, model, method) from exc

    def _post(self, path: str, params: dict[str, Any]) -> Any:
        """One JSON-RPC request through the sandbox's own handling, encoded as JSON both ways."""
        request = json.loads(json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": next(self._ids)}))
        server = self._server
        server._record(path, request)
        fault = server._take_fault()
        if fault is not None:
            url = f"{IN_PROCESS_URL}{path}"
            if fault.mode == "close":
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            if fault.mode == "http503":
                raise urllib.error.HTTPError(url, 503, "Service Unavailable", Message(), io.BytesIO(b""))
            if fault.delay >= self._timeout:
                server._stopping.wait(self._timeout)
                raise TimeoutError("timed out")
            server._stopping.wait(fault.delay)
        reply = json.loads(json.dumps(server._backend.handle("POST", path, request, None).body, ensure_ascii=False))
        if reply.get("error"):  # as odoorpc's ``ODOO.json``
            raise odoorpc.error.RPCError(reply["error"]["data"]["message"], reply["error"])
        return reply.get("result")


def sandbox_json2_transport(server: SandboxServer, *, api_key: str, timeout: float = 30.0) -> Json2Transport:
    """The copilot's real JSON-2 transport (``copilot.odoo.json2``) to ``server`` in this process: its HTTP
    requests are answered by the sandbox's JSON-2 handling through ``httpx.MockTransport`` (no socket); the
    request log and injected faults apply (a dropped connection, an HTTP 503, a stall beyond the timeout)."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        raw = request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        server._record(path, body)
        fault = server._take_fault()
        if fault is not None:
            if fault.mode == "close":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            if fault.mode == "http503":
                return httpx.Response(503, text="Service Unavailable")
            if fault.delay >= timeout:
                server._stopping.wait(timeout)
                raise httpx.ReadTimeout("timed out", request=request)
            server._stopping.wait(fault.delay)
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = server._backend.handle(request.method, path, body, None, headers, raw)
        content = reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode()
        return httpx.Response(
            reply.status, content=content, headers={"Content-Type": reply.content_type, **reply.headers}
        )

    return Json2Transport(
        url="http://odoo-sandbox.invalid",
        db=server.db,
        api_key=api_key,
        timeout=timeout,
        http=httpx.MockTransport(handle),
    )
