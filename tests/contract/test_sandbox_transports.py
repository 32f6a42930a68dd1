"""The in-process transport answers exactly as JSON-RPC over HTTP does: same results, same errors, same rules.

Two fresh sandboxes, one served on loopback and reached with odoorpc (``OdooRPCTransport``), one reached in this
process (``SandboxTransport``), get the same calls in the same order; every outcome (result, or error type,
message and Odoo error name) must be equal. Unit tests rely on this to run without sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from copilot.approvals.actions import executor_gate
from copilot.config import load_settings
from copilot.errors import (
    MethodNotAllowed,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooUnavailable,
)
from copilot.odoo import OdooClient, company_scope
from copilot.odoo.client import Gate
from copilot.odoo.session import odoo_session
from odoo_sandbox import FaultMode, SandboxServer, SandboxTransport
from tests.conftest import make_client

Outcome = tuple[Any, ...]


def let_through(model: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A gate that refuses nothing: what the sandbox's own access rules do is under test."""


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call gave: ("ok", result) or ("error", type, message, Odoo's error name)."""
    try:
        return ("ok", call())
    except MethodNotAllowed as exc:  # the client's own gate (an OdooError too)
        return ("refused", type(exc).__name__, str(exc))
    except OdooError as exc:
        return ("error", type(exc).__name__, str(exc), exc.odoo_error)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    """A sandbox on loopback and one in this process, both fresh: the same calls keep them equal."""
    with SandboxServer() as http_server:
        in_process = SandboxServer()
        yield http_server, in_process
        in_process.stop()


Clients = tuple[Callable[..., OdooClient], Callable[..., OdooClient]]


@pytest.fixture(scope="module")
def clients(servers: tuple[SandboxServer, SandboxServer]) -> Clients:
    """Client factories for (login, password, gate) over HTTP and in-process."""
    http_server, in_process = servers

    def over_http(login: str = "copilot", password: str = "copilot", gate: Gate | None = None) -> OdooClient:
        settings = load_settings(odoo_backoff=0.01, odoo_retries=0)
        return OdooClient.connect(
            settings, url=http_server.url, db=http_server.db, login=login, secret=password, gate=gate
        )

    def in_proc(login: str = "copilot", password: str = "copilot", gate: Gate | None = None) -> OdooClient:
        return OdooClient(SandboxTransport(in_process, login=login, secret=password), retries=0, gate=gate)

    return over_http, in_proc


def both(clients: Clients, call: Callable[[OdooClient], Any], **login: Any) -> tuple[Outcome, Outcome]:
    """The outcome of ``call`` on a fresh client over each transport."""
    over_http, in_proc = clients
    return outcome(lambda: call(over_http(**login))), outcome(lambda: call(in_proc(**login)))


READS: dict[str, Callable[[OdooClient], Any]] = {
    "search_read": lambda c: c.search_read(
        "purchase.order", [["state", "in", ["purchase", "done"]]], ["name", "partner_id", "amount_total"], limit=5
    ),
    "read": lambda c: c.read("res.partner", [1, 3], ["name", "email", "company_id"]),
    "search_count": lambda c: c.search_count("sale.order", []),
    "read_group": lambda c: c.read_group("purchase.order", [], ["amount_total:sum"], ["state"]),
    "name_search": lambda c: c.name_search("product.product", "chair"),
    "fields_get": lambda c: c.execute("purchase.order", "fields_get", ["name", "state"], attributes=["type"]),
    "uid": lambda c: c.uid,
    "missing record": lambda c: c.execute("res.partner", "read", [999_999], ["name"]),
    "unknown field": lambda c: c.search_read("res.partner", [["no_such_field", "=", 1]], ["name"]),
    "unknown model": lambda c: c.search_read("no.such.model", [], ["name"]),
}


@pytest.mark.parametrize("name", list(READS))
def test_reads_answer_the_same(clients: Clients, name: str) -> None:
    """Every read (and every read that fails) gives the same result or the same error."""
    over_http, in_process = both(clients, READS[name])
    assert in_process == over_http


def test_a_missing_record_is_the_same_not_found(clients: Clients) -> None:
    """Changing a deleted record raises ``OdooNotFound`` over both transports, with Odoo's message."""
    over_http, in_process = both(
        clients,
        lambda c: c.execute("purchase.order", "write", [999_999], {"notes": "x"}),
        login="admin",
        password="admin",
        gate=let_through,
    )
    assert in_process == over_http
    assert in_process[:2] == ("error", OdooNotFound.__name__)
    assert "does not exist" in in_process[2]


def test_a_wrong_password_is_refused_alike(clients: Clients) -> None:
    """A wrong password is ``OdooAuthenticationError`` over both, with the same message."""
    over_http, in_process = both(clients, lambda c: c.uid, password="wrong")
    assert in_process == over_http
    assert in_process[:2] == ("error", OdooAuthenticationError.__name__)


def test_a_write_the_user_may_not_make_is_refused_alike(clients: Clients) -> None:
    """Past a permissive gate, Odoo's own access rules refuse the copilot's write the same way."""
    over_http, in_process = both(
        clients, lambda c: c.execute("res.partner", "write", [1], {"name": "Renamed"}), gate=let_through
    )
    assert in_process == over_http
    assert in_process[:2] == ("error", OdooAccessDenied.__name__)


def test_the_allow_list_gate_refuses_before_either_transport(
    clients: Clients, servers: tuple[SandboxServer, SandboxServer]
) -> None:
    """The client's allow-list stands in front of the in-process transport too: nothing reaches the sandbox."""
    http_server, in_process = servers
    before = (len(http_server.requests), len(in_process.requests))
    over_http, in_proc = both(clients, lambda c: c.execute("res.partner", "unlink", [1]))
    assert in_proc == over_http
    assert in_proc[:2] == ("refused", MethodNotAllowed.__name__)
    assert (len(http_server.requests), len(in_process.requests)) == before


@pytest.mark.parametrize("companies", [[1], [1, 2], [99]])
def test_company_scope_is_sent_and_enforced_alike(clients: Clients, companies: list[int]) -> None:
    """``allowed_company_ids`` from ``company_scope`` reaches Odoo's record rules over both transports."""

    def scoped(c: OdooClient) -> Any:
        with company_scope(companies):
            return c.search_read("res.company", [], ["name"]), c.search_count("purchase.order", [])

    over_http, in_process = both(clients, scoped)
    assert in_process == over_http


def test_creates_and_executor_writes_land_alike(clients: Clients) -> None:
    """The copilot's approval-request create and the executor's allowed write give the same ids and records."""
    request = {
        "name": "Accept price change on P00008",
        "action_type": "accept_price_change",
        "res_model": "purchase.order",
        "res_id": 8,
        "payload": {"price_unit": 312.5},
        "idempotency_key": "k-1",
        "risk_tier": "low",
    }
    created = both(clients, lambda c: c.execute("copilot.approval.request", "create", request))
    assert created[1] == created[0]
    assert created[0][0] == "ok" and created[0][1] > 0
    gate = executor_gate("copilot.approval.request")
    fields = ["name", "state"]
    read_back = both(
        clients, lambda c: c.execute("copilot.approval.request", "search_read", [], fields), login="executor",
        password="executor", gate=gate,
    )  # fmt: skip
    assert read_back[1] == read_back[0]
    assert read_back[0][0] == "ok" and request["name"] in [r["name"] for r in read_back[0][1]]


@pytest.mark.parametrize(("mode", "delay"), [("close", 0.0), ("http503", 0.0), ("delay", 5.0)])
def test_injected_faults_are_retried_then_reported_alike(mode: FaultMode, delay: float) -> None:
    """A dropped connection, an HTTP 503 or a stall beyond the timeout: retried, then ``OdooUnavailable``, alike."""
    seen: list[tuple[int, str, str]] = []
    for serving in (True, False):
        server = SandboxServer()
        if serving:
            server.start()
        try:
            client = make_client(server, odoo_retries=1, odoo_timeout=0.3)
            client.search_count("purchase.order", [])  # logged in
            server.fail_next(1, mode=mode, delay=delay)
            recovered = client.search_count("purchase.order", [["state", "=", "purchase"]])
            server.fail_next(5, mode=mode, delay=delay)
            with pytest.raises(OdooUnavailable) as failed:
                client.search_count("purchase.order", [])
            attempts = str(failed.value).partition(" after ")[2].partition(":")[0]
            seen.append((recovered, type(failed.value.__cause__).__name__, attempts))
        finally:
            server.stop()
    assert seen[1] == seen[0]
    assert seen[0][0] == 10 and seen[0][2] == "2 attempt(s)"


def test_the_embedded_default_can_still_serve_over_http() -> None:
    """``odoo_session(http=True)`` serves the sandbox on loopback and says where; the data are the same."""
    settings = load_settings()
    with odoo_session(settings, http=True) as served, odoo_session(settings) as in_process:
        assert served.label.startswith("embedded Odoo sandbox at http://127.0.0.1:")
        assert "in-process" in in_process.label
        domain = [["state", "=", "purchase"]]
        assert served.client.search_count("purchase.order", domain) == in_process.client.search_count(
            "purchase.order", domain
        )
