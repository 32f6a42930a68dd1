"""The sandbox over HTTP: lifecycle, JSON-RPC services, sessions, request log and fault injection."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import odoorpc
import pytest

from odoo_sandbox import RECORDED_AT, SANDBOX_DB, SANDBOX_USERS, LoggedRequest, SandboxServer, SandboxUser


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh sandbox per test (tests here change state or inject faults)."""
    with SandboxServer() as running:
        yield running


def rpc(
    server: SandboxServer, path: str, params: dict[str, Any], *, cookie: str | None = None, timeout: float = 10
) -> tuple[dict[str, Any], Any]:
    """POST a JSON-RPC call; returns the decoded answer and the response headers."""
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}).encode()
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(server.url + path, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local sandbox
        return json.loads(response.read()), response.headers


def obj(server: SandboxServer, *args: Any, method: str = "execute_kw") -> dict[str, Any]:
    """An ``object`` service call on ``/jsonrpc``."""
    answer, _ = rpc(server, "/jsonrpc", {"service": "object", "method": method, "args": list(args)})
    return answer


def login(server: SandboxServer, user: str, password: str | None = None) -> odoorpc.ODOO:
    """An odoorpc session on ``server``."""
    odoo = odoorpc.ODOO(server.host, port=server.port, timeout=10)
    odoo.login(server.db, user, password or user)
    return odoo


# --------------------------------------------------------------------------- lifecycle


def test_start_stop_is_fast_and_frees_the_port() -> None:
    began = time.perf_counter()
    for _ in range(5):
        server = SandboxServer().start()
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}" and server.host == "127.0.0.1" and server.db == SANDBOX_DB
        server.stop()
        server.stop()  # idempotent
    assert time.perf_counter() - began < 2.0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the last port is free again


def test_port_before_start_and_double_start() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError):
        _ = server.port
    with server, pytest.raises(RuntimeError):
        server.start()
    assert SandboxServer(port=18069).url == "http://127.0.0.1:18069"


def test_constants() -> None:
    assert datetime(2026, 11, 26, 16, 5, 5) == RECORDED_AT
    assert {(u.login, u.password, u.uid) for u in SANDBOX_USERS} == {
        ("admin", "admin", 2), ("demo", "demo", 6), ("portal", "portal", 7), ("copilot", "copilot", 8),
        ("manager", "manager", 9), ("executor", "executor", 10),
    }  # fmt: skip


# --------------------------------------------------------------------------- services


def test_version_db_list_and_cookie(server: SandboxServer) -> None:
    answer, headers = rpc(server, "/web/webclient/version_info", {})
    assert answer == {"jsonrpc": "2.0", "id": 7, "result": {
        "server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""], "server_serie": "18.0",
        "protocol_version": 1}}  # fmt: skip
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("session_id=") and "Max-Age=604800; HttpOnly; Path=/" in cookie
    answer, _ = rpc(server, "/jsonrpc", {"service": "db", "method": "list", "args": []})
    assert answer["result"] == ["demo"]
    answer, headers = rpc(server, "/jsonrpc", {"service": "common", "method": "version", "args": []})
    assert answer["result"]["server_serie"] == "18.0" and headers["Set-Cookie"] is None


def test_wrong_password_and_wrong_db(server: SandboxServer) -> None:
    answer, _ = rpc(server, "/jsonrpc", {"service": "common", "method": "login", "args": ["demo", "copilot", "x"]})
    assert answer == {"jsonrpc": "2.0", "id": 7, "result": False}
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login ID or password"):
        login(server, "copilot", "not-the-password")
    answer, _ = rpc(
        server, "/jsonrpc", {"service": "common", "method": "login", "args": ["nope", "copilot", "copilot"]}
    )
    assert answer["error"]["data"]["name"] == "psycopg2.OperationalError"
    denied = obj(server, "demo", 8, "wrong", "res.partner", "search", [[]])
    assert denied["error"]["code"] == 200 and denied["error"]["message"] == "Odoo Server Error"
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert denied["error"]["data"]["message"] == "Access Denied"
    assert denied["error"]["data"]["debug"].startswith("Traceback")
    assert obj(server, "demo", 99, "copilot", "res.partner", "search", [[]])["error"]["data"]["name"] == (
        "odoo.exceptions.AccessDenied"
    )
    assert obj(server, "other", 8, "copilot", "res.partner", "search", [[]])["error"]["data"]["name"] == (
        "psycopg2.OperationalError"
    )


def test_execute_and_execute_kw(server: SandboxServer) -> None:
    assert obj(server, "demo", 8, "copilot", "res.users", "context_get", method="execute")["result"] == {
        "lang": "en_US", "tz": "America/Los_Angeles", "uid": 8}  # fmt: skip
    assert (
        obj(server, "demo", 8, "copilot", "purchase.order", "search_count", [[["state", "=", "purchase"]]])["result"]
        == 10
    )
    positional = obj(server, "demo", 8, "copilot", "purchase.order", "read", [9], ["name"], method="execute")
    assert positional["result"] == [{"id": 9, "name": "P00009"}]


def test_access_rights_per_user_through_odoorpc(server: SandboxServer) -> None:
    copilot = login(server, "copilot")
    with pytest.raises(odoorpc.error.RPCError) as err:
        copilot.env["purchase.order"].write([10], {"notes": "x"})
    assert err.value.info["data"]["name"] == "odoo.exceptions.AccessError"
    request_id = copilot.env["copilot.approval.request"].create(
        {
            "name": "Accept",
            "action_type": "accept_price_change",
            "res_model": "purchase.order",
            "res_id": 8,
            "risk_tier": "low",
            "idempotency_key": "k-accept",
        }
    )
    assert copilot.env["copilot.approval.request"].read([request_id], ["state"]) == [
        {"id": request_id, "state": "pending"}
    ]
    admin = login(server, "admin")
    admin.env["purchase.order"].write([10], {"notes": "Checked by admin"})
    assert copilot.env["purchase.order"].read([10], ["notes"]) == [{"id": 10, "notes": "Checked by admin"}]
    with SandboxServer() as other:  # another instance starts from the snapshot
        assert login(other, "copilot").env["purchase.order"].read([10], ["notes"]) == [{"id": 10, "notes": False}]
    portal = login(server, "portal")
    with pytest.raises(odoorpc.error.RPCError, match="not allowed to access"):
        portal.env["sale.order"].search([])


def test_custom_users_and_anchor() -> None:
    users = [SandboxUser("copilot", "s3cret", 8, "readonly"), SandboxUser("admin", "admin", 2, "admin")]
    anchor = datetime(2027, 1, 2, 3, 4, 5)
    with SandboxServer(users=users, anchor=anchor) as server:
        with pytest.raises(odoorpc.error.RPCError):
            login(server, "copilot", "copilot")
        odoo = login(server, "copilot", "s3cret")
        new_id = odoo.env["copilot.approval.request"].create(
            {
                "name": "x",
                "action_type": "expedite",
                "res_model": "purchase.order",
                "res_id": 8,
                "risk_tier": "low",
                "idempotency_key": "k-x",
            }
        )
        assert odoo.env["copilot.approval.request"].read([new_id], ["create_date"])[0]["create_date"] == (
            "2027-01-02 03:04:06"  # the anchor, plus one second per write
        )
        with pytest.raises(odoorpc.error.RPCError):
            login(server, "demo")


def test_session_routes(server: SandboxServer) -> None:
    expired, _ = rpc(server, "/web/dataset/call_kw", {"model": "res.partner", "method": "search", "args": [[]],
                                                       "kwargs": {}})  # fmt: skip
    assert expired["error"]["code"] == 100 and expired["error"]["message"] == "Odoo Session Expired"
    assert expired["error"]["data"]["name"] == "odoo.http.SessionExpiredException"
    bad, _ = rpc(server, "/web/session/authenticate", {"db": "demo", "login": "copilot", "password": "x"})
    assert bad["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    info, headers = rpc(server, "/web/session/authenticate", {"db": "demo", "login": "copilot", "password": "copilot"})
    assert info["result"]["uid"] == 8 and info["result"]["user_context"]["tz"] == "America/Los_Angeles"
    cookie = headers["Set-Cookie"].split(";")[0]
    params = {"model": "purchase.order", "method": "search_read", "args": [[["name", "=", "P00009"]], ["name"]],
              "kwargs": {}}  # fmt: skip
    answer, _ = rpc(server, "/web/dataset/call_kw/purchase.order/search_read", params, cookie=cookie)
    assert answer["result"] == [{"id": 9, "name": "P00009"}]
    denied, _ = rpc(server, "/web/dataset/call_kw", {**params, "method": "unlink", "args": [[9]]}, cookie=cookie)
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    rpc(server, "/web/session/destroy", {}, cookie=cookie)
    again, _ = rpc(server, "/web/dataset/call_kw", params, cookie=cookie)
    assert again["error"]["code"] == 100


def test_other_paths(server: SandboxServer) -> None:
    with urllib.request.urlopen(server.url + "/web/health", timeout=5) as response:  # noqa: S310 - local sandbox
        assert json.loads(response.read()) == {"status": "pass"}
    with pytest.raises(urllib.error.HTTPError) as err:
        rpc(server, "/nope", {})
    assert err.value.code == 404
    answer, _ = rpc(server, "/jsonrpc", {"service": "nope", "method": "x", "args": []})
    assert answer["error"]["data"]["name"] == "builtins.KeyError"


# --------------------------------------------------------------------------- request log


def test_request_log(server: SandboxServer) -> None:
    assert server.requests == []
    login(server, "copilot")
    paths = [entry.path for entry in server.requests]
    assert paths == ["/web/webclient/version_info", "/jsonrpc", "/jsonrpc"]
    entry = server.requests[1]
    assert isinstance(entry, LoggedRequest)
    path, body = entry
    assert path == "/jsonrpc"
    assert body["params"] == {"service": "common", "method": "login", "args": ["demo", "copilot", "copilot"]}
    server.clear_requests()
    assert server.requests == []
    request = urllib.request.Request(server.url + "/jsonrpc", data=b"not json", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - local sandbox
    assert server.requests == [LoggedRequest("/jsonrpc", None)]


# --------------------------------------------------------------------------- fault injection


def test_fail_next_close_drops_the_connection(server: SandboxServer) -> None:
    server.fail_next(2, "close")
    for _ in range(2):
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            rpc(server, "/web/webclient/version_info", {})
    assert rpc(server, "/web/webclient/version_info", {})[0]["result"]["server_serie"] == "18.0"
    assert len(server.requests) == 3  # failed requests were received, and are logged


def test_fail_next_http503(server: SandboxServer) -> None:
    server.fail_next(1, "http503")
    with pytest.raises(urllib.error.HTTPError) as err:
        rpc(server, "/jsonrpc", {"service": "db", "method": "list", "args": []})
    assert err.value.code == 503
    assert rpc(server, "/jsonrpc", {"service": "db", "method": "list", "args": []})[0]["result"] == ["demo"]


def test_fail_next_delay_makes_clients_time_out(server: SandboxServer) -> None:
    server.fail_next(1, "delay", delay=0.5)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        rpc(server, "/jsonrpc", {"service": "db", "method": "list", "args": []}, timeout=0.1)
    server.fail_next(1, "delay", delay=0.05)
    began = time.perf_counter()
    assert rpc(server, "/jsonrpc", {"service": "db", "method": "list", "args": []})[0]["result"] == ["demo"]
    assert time.perf_counter() - began >= 0.05


def test_fail_next_rejects_unknown_modes(server: SandboxServer) -> None:
    with pytest.raises(ValueError):
        server.fail_next(1, "explode")  # type: ignore[arg-type]


def test_stop_interrupts_a_delayed_request() -> None:
    server = SandboxServer().start()
    server.fail_next(1, "delay", delay=30)
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.sendall(b"POST /jsonrpc HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}")
    time.sleep(0.1)
    began = time.perf_counter()
    server.stop()
    sock.close()
    assert time.perf_counter() - began < 2.0
