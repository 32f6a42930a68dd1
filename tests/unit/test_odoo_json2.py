"""The JSON-2 transport against the exchanges recorded from a real Odoo 19 (``tests/cassettes/odoo19/json2``).

httpx's ``MockTransport`` answers each request with the recorded response (no socket): the request the
transport builds must be the recorded one (path, headers, named arguments), and the recorded status and error
body must become the recorded result or the right ``copilot.errors`` type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.errors import (
    MethodNotAllowed,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooServerError,
    OdooUnavailable,
)
from copilot.odoo import OdooClient
from copilot.odoo.connect import make_transport
from copilot.odoo.json2 import Json2Transport, json2_arguments, map_json2_error

JSON2 = Path(__file__).resolve().parents[1] / "cassettes" / "odoo19" / "json2"
KEY = "0123456789abcdef0123456789abcdef01234567"
#: Recorded status -> the error the copilot raises (README of the Odoo 19 reference, "Errors").
EXPECTED_ERRORS: dict[str, type[OdooError]] = {
    "14_write_refused": OdooAccessDenied,
    "15_unknown_model": OdooNotFound,
    "16_bad_field": OdooServerError,
    "18_no_bearer": OdooAuthenticationError,
    "19_invalid_bearer": OdooAuthenticationError,
    "20_unknown_method": OdooNotFound,
    "21_private_method": OdooAccessDenied,
    "22_unexpected_argument": OdooServerError,
    "23_model_method_called_with_ids": OdooServerError,
    "28_get_instead_of_post": OdooNotFound,
    "29_malformed_json_body": OdooServerError,
    "30_no_content_type": OdooServerError,
}
#: Exchanges the transport cannot produce itself (it always sends a key, POST and JSON): only their answers count.
NOT_SENDABLE = {"18_no_bearer", "19_invalid_bearer", "27_no_database_header", "28_get_instead_of_post"}
NOT_SENDABLE |= {"29_malformed_json_body", "30_no_content_type"}


def exchanges() -> list[dict[str, Any]]:
    """Every recorded POST exchange, with its name."""
    index = json.loads((JSON2 / "index.json").read_text(encoding="utf-8"))
    out = []
    for entry in index["exchanges"]:
        exchange = json.loads((JSON2 / entry["file"]).read_text(encoding="utf-8"))
        out.append({"name": entry["name"], **exchange})
    return out


def recorded_response(exchange: dict[str, Any]) -> httpx.Response:
    """The recorded answer as httpx would get it."""
    response = exchange["response"]
    body = response["body"]
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return httpx.Response(response["status"], headers=response["headers"], content=content)


def replaying(exchange: dict[str, Any], sent: list[httpx.Request]) -> httpx.MockTransport:
    """A mock server: ``/web/version`` and ``context_get`` as recorded, then the exchange's answer."""
    by_path = {e["request"]["path"]: e for e in exchanges() if e["name"] in ("01_version", "12_context_get")}

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path in by_path and exchange["name"] not in ("18_no_bearer", "19_invalid_bearer"):
            return recorded_response(by_path[request.url.path])
        return recorded_response(exchange)

    return httpx.MockTransport(handle)


def transport(http: httpx.BaseTransport) -> Json2Transport:
    """A JSON-2 transport to the recorded server's database, through ``http``."""
    return Json2Transport(url="http://odoo.test:8079", db="demo19", api_key=KEY, timeout=5, http=http)


POSTS = [e for e in exchanges() if e["request"]["method"] == "POST"]


@pytest.mark.parametrize("exchange", POSTS, ids=[e["name"] for e in POSTS])
def test_recorded_exchange(exchange: dict[str, Any]) -> None:
    """The transport sends the recorded request and returns the recorded result or raises the recorded error."""
    sent: list[httpx.Request] = []
    t = transport(replaying(exchange, sent))
    t._context = {}  # logged in: the calls below are the exchange alone
    path = exchange["request"]["path"]
    model, method = path.removeprefix("/json/2/").split("/")
    body = exchange["request"]["body"] if isinstance(exchange["request"]["body"], dict) else {}
    call: Callable[[], Any] = lambda: t.execute_kw(model, method, [], dict(body))  # noqa: E731
    name = exchange["name"]
    if name in EXPECTED_ERRORS:
        with pytest.raises(EXPECTED_ERRORS[name]) as caught:
            call()
        recorded = exchange["response"]["body"]
        if isinstance(recorded, dict):
            assert str(caught.value) == recorded["message"]
            assert caught.value.odoo_error == recorded["name"]
        else:  # 415: an HTML page, no Odoo error
            assert caught.value.odoo_error is None
    else:
        assert call() == exchange["response"]["body"]
    if name not in NOT_SENDABLE:
        (request,) = sent
        assert request.method == "POST"
        assert request.url.path == path
        assert request.headers["Authorization"] == f"bearer {KEY}"
        assert request.headers["X-Odoo-Database"] == "demo19"
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == body


def test_every_recorded_error_status_is_mapped() -> None:
    """Each recorded error answer maps to the type the table says (the recording wins over the issue text)."""
    for exchange in exchanges():
        status = exchange["response"]["status"]
        if status == 200:
            continue
        body = exchange["response"]["body"]
        error = map_json2_error(status, body, "m", "f")
        assert type(error) is EXPECTED_ERRORS[exchange["name"]], exchange["name"]


def test_login_reads_the_version_without_the_key_then_names_the_user() -> None:
    """Login: ``GET /web/version`` unauthenticated (recorded 01), ``context_get`` gives the uid (recorded 12)."""
    sent: list[httpx.Request] = []
    (count,) = [e for e in exchanges() if e["name"] == "13_search_count"]
    t = transport(replaying(count, sent))
    assert t.server_version() == [19, 0, 0, "final", 0, ""]
    assert t.login() == 7
    assert "authorization" not in sent[0].headers
    assert sent[1].url.path == "/json/2/res.users/context_get"
    assert t.execute_kw("purchase.order", "search_count", [[["state", "=", "purchase"]]], {}) == 10
    # the user's context (lang, tz) travels with each call, as odoorpc does over JSON-RPC
    assert json.loads(sent[2].content)["context"] == {"lang": "en_US", "tz": "America/Los_Angeles"}


def test_positional_arguments_become_named() -> None:
    """``OdooClient``'s positional calls are sent as JSON-2's named arguments."""
    assert json2_arguments("read", [[9], ["name"]], {}) == {"ids": [9], "fields": ["name"]}
    named = {"domain": [], "fields": ["name"], "limit": 5}
    assert json2_arguments("search_read", [[], ["name"]], {"limit": 5}) == named
    assert json2_arguments("fields_get", [[]], {"attributes": ["type"]}) == {"attributes": ["type"]}
    assert json2_arguments("create", [{"name": "x"}], {}) == {"vals_list": {"name": "x"}}
    assert json2_arguments("action_start_execution", [[3]], {}) == {"ids": [3]}
    assert json2_arguments("has_group", [[7], "purchase.group_purchase_manager"], {}) == {
        "ids": [7],
        "group_ext_id": "purchase.group_purchase_manager",
    }


# -- the allow-list on the wire -----------------------------------------------------------------------
def test_refused_write_never_leaves_the_process_over_json2() -> None:
    """A ``write`` is refused by the client's gate: no HTTP request at all reaches the (mock) server."""
    sent: list[httpx.Request] = []
    (has_group,) = [e for e in exchanges() if e["name"] == "26_has_group"]
    client = OdooClient(transport(replaying(has_group, sent)), retries=0)
    for method, args in (("write", ([10], {"comment": "x"})), ("unlink", ([10],)), ("create", ({"name": "x"},))):
        with pytest.raises(MethodNotAllowed):
            client.execute("res.partner", method, *args)
    with pytest.raises(MethodNotAllowed):
        client.execute("purchase.order", "_create_picking", [9])
    assert sent == []
    # a read goes out, through the same client (after the login)
    assert client.has_group(7, "purchase.group_purchase_manager") is False
    assert [r.url.path for r in sent][-1] == "/json/2/res.users/has_group"
    assert not [r for r in sent if r.url.path.endswith(("/write", "/unlink", "/create", "/_create_picking"))]


# -- retries: only idempotent reads ----------------------------------------------------------------
def flaky(status: int, fails: int, sent: list[httpx.Request]) -> httpx.MockTransport:
    """A server that answers ``status`` ``fails`` times to /json/2 calls, then 1."""
    version = next(e for e in exchanges() if e["name"] == "01_version")
    context = next(e for e in exchanges() if e["name"] == "12_context_get")
    left = [fails]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/web/version":
            return recorded_response(version)
        if request.url.path.endswith("/context_get"):
            return recorded_response(context)
        sent.append(request)
        if left[0] > 0:
            left[0] -= 1
            return httpx.Response(status, text="Bad Gateway")
        return httpx.Response(200, json=1)

    return httpx.MockTransport(handle)


def test_a_read_is_retried_after_a_proxy_error_a_write_is_not() -> None:
    """503 from a proxy: the read is sent again; the executor's write is not (it may have reached Odoo)."""
    sent: list[httpx.Request] = []
    client = OdooClient(transport(flaky(503, 2, sent)), retries=3, sleep=lambda s: None)
    assert client.search_count("purchase.order", []) == 1
    assert len(sent) == 3
    sent.clear()

    def allow(model: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """The executor's gate would let this write through."""

    writer = OdooClient(transport(flaky(503, 1, sent)), retries=3, sleep=lambda s: None, gate=allow)
    with pytest.raises(OdooUnavailable):
        writer.execute("purchase.order.line", "write", [1], {"date_planned": "2026-12-10 00:00:00"})
    assert len(sent) == 1


def test_odoo_errors_are_not_retried() -> None:
    """A 500 with Odoo's error body (an invalid field) is an answer, not an outage: sent once."""
    sent: list[httpx.Request] = []
    (bad,) = [e for e in exchanges() if e["name"] == "16_bad_field"]
    client = OdooClient(transport(replaying(bad, sent)), retries=3, sleep=lambda s: None)
    with pytest.raises(OdooServerError, match="Invalid field 'product_uom'"):
        client.execute("purchase.order.line", "search_read", [], ["product_uom"])
    assert [r.url.path for r in sent].count("/json/2/purchase.order.line/search_read") == 1


# -- protocol selection -------------------------------------------------------------------------------
def version_server(version: list[Any], sent: list[str]) -> httpx.MockTransport:
    """A server reporting ``version`` whose JSON-2 API answers ``context_get``."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/web/version":
            return httpx.Response(200, json={"version_info": version, "version": f"{version[0]}.0"})
        return httpx.Response(200, json={"lang": "en_US", "tz": "UTC", "uid": 7})

    return httpx.MockTransport(handle)


def test_auto_picks_json2_on_odoo_19_with_an_api_key() -> None:
    """auto + API key + Odoo 19: JSON-2 (the deprecated /jsonrpc is not used)."""
    sent: list[str] = []
    t = make_transport(
        url="http://odoo.test",
        db="demo19",
        login="copilot",
        secret=KEY,
        api_key=KEY,
        protocol="auto",
        timeout=5,
        http=version_server([19, 0, 0, "final", 0, ""], sent),
    )
    client = OdooClient(t, retries=0)
    assert client.uid == 7
    assert client.protocol == "json2"
    assert client.schema.series == 19
    assert sent == ["/web/version", "/json/2/res.users/context_get"]


def test_auto_keeps_jsonrpc_without_a_key_or_before_19() -> None:
    """No API key: JSON-RPC whatever the version; forced jsonrpc: JSON-RPC."""
    for protocol, key in (("auto", None), ("jsonrpc", KEY)):
        t = make_transport(
            url="http://odoo.test", db="d", login="c", secret="pw", api_key=key, protocol=protocol, timeout=5
        )
        assert t.protocol == "jsonrpc"  # type: ignore[attr-defined]


def test_auto_keeps_jsonrpc_on_odoo_18_with_an_api_key() -> None:
    """Odoo 18 has no ``GET /web/version``: the version comes from ``/web/webclient/version_info``; JSON-RPC stays."""
    sent: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.url.path == "/web/webclient/version_info":
            info = {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""]}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": info})
        return httpx.Response(404, text="<html>Not Found</html>")

    t = make_transport(
        url="http://odoo.test",
        db="demo",
        login="copilot",
        secret=KEY,
        api_key=KEY,
        protocol="auto",
        timeout=5,
        http=httpx.MockTransport(handle),
    )
    assert t.server_version() == [18, 0, 0, "final", 0, ""]  # type: ignore[attr-defined]
    assert sent == ["GET /web/version", "POST /web/webclient/version_info"]
