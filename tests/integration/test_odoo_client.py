"""The Odoo client: allow-list before the transport, bounded retries, typed errors."""

from __future__ import annotations

import socket
import urllib.error
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.errors import MethodNotAllowed, OdooAccessDenied, OdooServerError, OdooUnavailable
from copilot.odoo import READ_METHODS, OdooClient, check_allowed


class SpyTransport:
    """Records calls; fails the first ``failures`` of them with ``error``."""

    def __init__(self, result: Any = None, failures: int = 0, error: BaseException | None = None) -> None:
        self.calls: list[tuple[str, str, list[Any], dict[str, Any]]] = []
        self.logins = 0
        self.result = result
        self.failures = failures
        self.error = error or urllib.error.URLError(ConnectionResetError("reset by peer"))

    def login(self) -> int:
        self.logins += 1
        return 8

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        self.calls.append((model, method, args, kwargs))
        if self.failures:
            self.failures -= 1
            raise self.error
        return self.result


def client_with(transport: SpyTransport, retries: int = 3) -> tuple[OdooClient, list[float]]:
    sleeps: list[float] = []
    return OdooClient(transport, retries=retries, backoff=0.5, sleep=sleeps.append), sleeps


@pytest.mark.parametrize(
    ("model", "method"),
    [
        ("purchase.order", "write"),
        ("purchase.order", "unlink"),
        ("purchase.order", "create"),
        ("purchase.order.line", "write"),
        ("purchase.order", "button_confirm"),
        ("purchase.order", "message_post"),
        ("purchase.order", "_create_picking"),
        ("res.users", "search"),  # not on the list: reads go through search_read with explicit fields
        ("copilot.approval.request", "write"),
        ("copilot.approval.request", "unlink"),
        ("ir.model.access", "create"),
    ],
)
def test_forbidden_calls_raise_before_the_transport_is_touched(model: str, method: str) -> None:
    spy = SpyTransport()
    client, _ = client_with(spy)
    with pytest.raises(MethodNotAllowed, match="read-only"):
        client.execute(model, method, [1], {"x": 1})
    assert spy.calls == []
    assert spy.logins == 0  # not even a login: nothing leaves the process
    assert isinstance(MethodNotAllowed("x"), OdooAccessDenied)


def test_read_methods_and_the_approval_create_are_allowed() -> None:
    for method in READ_METHODS:
        check_allowed("sale.order", method, approval_model="copilot.approval.request")
    check_allowed("copilot.approval.request", "create", approval_model="copilot.approval.request")
    with pytest.raises(MethodNotAllowed):
        check_allowed("approval.request", "create", approval_model="copilot.approval.request")


def test_reads_must_name_their_fields() -> None:
    client, _ = client_with(SpyTransport(result=[]))
    with pytest.raises(ValueError, match="name their fields"):
        client.search_read("res.partner", [], [])
    with pytest.raises(ValueError, match="name their fields"):
        client.read("res.partner", [1], "name")  # type: ignore[arg-type]


def test_connection_errors_are_retried_with_backoff_then_succeed() -> None:
    spy = SpyTransport(result=[{"id": 1}], failures=2)
    client, sleeps = client_with(spy)
    assert client.search_read("res.partner", [], ["name"]) == [{"id": 1}]
    assert len(spy.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_persistent_outage_gives_odoo_unavailable_after_bounded_retries() -> None:
    spy = SpyTransport(failures=100, error=TimeoutError("timed out"))
    client, sleeps = client_with(spy, retries=3)
    with pytest.raises(OdooUnavailable, match="after 4 attempt"):
        client.search_count("purchase.order", [])
    assert len(spy.calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_http_5xx_is_retried_but_4xx_is_not() -> None:
    err503 = urllib.error.HTTPError("http://odoo/jsonrpc", 503, "Service Unavailable", {}, None)  # type: ignore[arg-type]
    spy = SpyTransport(result=3, failures=1, error=err503)
    client, _ = client_with(spy)
    assert client.search_count("purchase.order", []) == 3

    err404 = urllib.error.HTTPError("http://odoo/jsonrpc", 404, "Not Found", {}, None)  # type: ignore[arg-type]
    spy = SpyTransport(failures=1, error=err404)
    client, _ = client_with(spy)
    with pytest.raises(urllib.error.HTTPError):
        client.search_count("purchase.order", [])
    assert len(spy.calls) == 1


def test_a_create_that_may_have_reached_odoo_is_not_repeated() -> None:
    spy = SpyTransport(failures=5, error=TimeoutError("timed out"))
    client, _ = client_with(spy)
    with pytest.raises(OdooUnavailable):
        client.create_approval_request({"name": "x"})
    assert len(spy.calls) == 1  # a retry could create the request twice


def test_a_create_refused_at_connect_is_retried() -> None:
    spy = SpyTransport(result=42, failures=1, error=urllib.error.URLError(ConnectionRefusedError(111, "refused")))
    client, _ = client_with(spy)
    assert client.create_approval_request({"name": "x"}) == 42
    assert len(spy.calls) == 2


def test_odoo_errors_are_not_retried() -> None:
    spy = SpyTransport(failures=1, error=OdooServerError("boom"))
    client, sleeps = client_with(spy)
    with pytest.raises(OdooServerError):
        client.search_count("purchase.order", [])
    assert len(spy.calls) == 1 and sleeps == []


def test_unreachable_odoo_fails_fast_with_odoo_unavailable() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        odoo_url=f"http://127.0.0.1:{port}", odoo_db="demo", odoo_password="x", odoo_retries=2, odoo_backoff=0.01
    )
    client = OdooClient.from_settings(settings)
    with pytest.raises(OdooUnavailable, match="after 3 attempt"):
        client.search_count("purchase.order", [])


def test_password_never_appears_in_errors() -> None:
    settings = load_settings(odoo_url="http://127.0.0.1:9", odoo_db="demo", odoo_password="s3cret-pw", odoo_retries=0)
    client = OdooClient.from_settings(settings)
    with pytest.raises(OdooUnavailable) as caught:
        client.search_count("purchase.order", [])
    assert "s3cret-pw" not in str(caught.value)
    assert "s3cret-pw" not in repr(settings)


class FailingLogin(SpyTransport):
    """A transport whose logins fail with ``error``."""

    def login(self) -> int:
        self.logins += 1
        raise self.error


def test_check_connection_fails_at_once_when_nothing_listens() -> None:
    spy = FailingLogin(error=urllib.error.URLError(ConnectionRefusedError(111, "refused")))
    client, sleeps = client_with(spy)
    with pytest.raises(OdooUnavailable, match="after 1 attempt"):
        client.check_connection()
    assert spy.logins == 1 and sleeps == []  # a command about to load a model says so now, not in 3.5 s


def test_check_connection_still_retries_a_timeout() -> None:
    spy = FailingLogin(error=TimeoutError("timed out"))
    client, sleeps = client_with(spy)
    with pytest.raises(OdooUnavailable, match="after 4 attempt"):
        client.check_connection()
    assert spy.logins == 4 and sleeps == [0.5, 1.0, 2.0]


def test_a_call_still_retries_a_refused_login() -> None:
    spy = FailingLogin(error=urllib.error.URLError(ConnectionRefusedError(111, "refused")))
    client, sleeps = client_with(spy)
    with pytest.raises(OdooUnavailable):
        client.search_count("purchase.order", [])
    assert spy.logins == 4 and len(sleeps) == 3  # a long-running service rides out an Odoo restart
