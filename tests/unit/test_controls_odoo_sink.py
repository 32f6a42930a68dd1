"""The Odoo exception sink against the sandbox (in-process): upsert, close, pull acknowledgements; the rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from copilot.citations import Citation
from copilot.controls.model import ControlRun, Delivery, ExceptionSink, Factor, Finding, TrackedException
from copilot.controls.odoo_sink import (
    OdooExceptionSink,
    exception_values,
    pull_acknowledgements,
    push_closed,
)
from copilot.errors import MethodNotAllowed, OdooError
from odoo_sandbox import SandboxServer
from tests.conftest import make_client

MODEL = "copilot.exception"
SEEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ODOO_URL = "https://odoo.example.com"


@pytest.fixture(name="server")
def server_fixture() -> Iterator[SandboxServer]:
    """A sandbox of its own per test (never started: reached in-process)."""
    server = SandboxServer()
    yield server
    server.stop()


def _tracked(key: str = "sale.order:24", severity: str = "high", score: float = 0.8, **values: Any) -> TrackedException:
    finding = Finding(
        control="orders_at_risk",
        key=key,
        severity=severity,  # type: ignore[arg-type]
        score=score,
        title=f"S00024 Gemini Furniture ({key})",
        reason="Waits for P00009, 3 days late.",
        record=Citation(model="sale.order", id=24, display_name="S00024"),
        evidence=[Citation(model="purchase.order", id=9, display_name="P00009")],
        factors=[Factor(name="receipt_late", label="P00009 is 3 days late", value=3, contribution=0.35)],
    )
    values.setdefault("first_seen", SEEN)
    values.setdefault("last_seen", SEEN)
    return TrackedException(finding=finding, state=values.pop("state", "open"), **values)


def _deliveries(*tracked: TrackedException) -> list[Delivery]:
    return [Delivery(change="new", owner="purchase_manager", exception=t) for t in tracked]


def _rows(server: SandboxServer, **domain: Any) -> list[dict[str, Any]]:
    admin = make_client(server, login="admin", password="admin")
    fields = ["key", "control", "severity", "state", "title", "record_url", "evidence", "first_seen", "owner"]
    return admin.search_read(MODEL, [(k, "=", v) for k, v in domain.items()], fields, order="id")


def test_it_is_an_exception_sink() -> None:
    sink: ExceptionSink = OdooExceptionSink(object())  # type: ignore[arg-type]
    assert sink.name == "odoo"


def test_values_are_the_addons_whitelisted_fields_in_utc() -> None:
    values = exception_values(_tracked(), owner="#purchasing", odoo_url=ODOO_URL)
    assert values["record_url"] == f"{ODOO_URL}/odoo/sale.order/24"
    assert values["evidence"] == [
        {"model": "purchase.order", "id": 9, "display_name": "P00009", "url": f"{ODOO_URL}/odoo/purchase.order/9"}
    ]
    assert values["first_seen"] == "2026-11-23 08:00:00"
    paris = exception_values(_tracked(first_seen=SEEN.astimezone(timezone(timedelta(hours=1)))))
    assert paris["first_seen"] == "2026-11-23 08:00:00"
    acknowledged = exception_values(_tracked(state="acknowledged"))
    assert "state" not in acknowledged, "the copilot never writes an acknowledgement"


def test_deliver_upserts_by_control_and_key(server: SandboxServer) -> None:
    sink = OdooExceptionSink(make_client(server), odoo_url=ODOO_URL)
    sink.deliver("purchase_manager", _deliveries(_tracked("a"), _tracked("b", severity="critical")))
    sink.deliver("purchase_manager", _deliveries(_tracked("a", severity="critical", score=0.95)))
    rows = _rows(server, control="orders_at_risk")
    assert [(r["key"], r["severity"], r["state"]) for r in rows] == [
        ("a", "critical", "open"),
        ("b", "critical", "open"),
    ]
    assert rows[0]["owner"] == "purchase_manager"
    assert rows[0]["record_url"] == f"{ODOO_URL}/odoo/sale.order/24"
    assert rows[0]["first_seen"] == "2026-11-23 08:00:00"


def test_deliver_sends_in_batches(server: SandboxServer) -> None:
    client = make_client(server)
    calls: list[int] = []
    execute = client.execute

    def counting(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[0]))
        return execute(model, method, *args, **kwargs)

    client.execute = counting  # type: ignore[method-assign]
    OdooExceptionSink(client, batch=2).deliver("x", _deliveries(*(_tracked(f"k{i}") for i in range(5))))
    assert calls == [2, 2, 1]
    assert len(_rows(server, control="orders_at_risk")) == 5


def test_close_then_pull_acknowledgements(server: SandboxServer) -> None:
    copilot = make_client(server)
    OdooExceptionSink(copilot).deliver("x", _deliveries(_tracked("a"), _tracked("b"), _tracked("c")))
    [b_id] = [r["id"] for r in copilot.search_read(MODEL, [("key", "=", "b")], ["id"])]
    server_call(server)("manager", "action_acknowledge", [b_id])

    assert push_closed(copilot, "orders_at_risk", ["c", "never-sent"]) == 1
    states = {r["key"]: r["state"] for r in _rows(server, control="orders_at_risk")}
    assert states == {"a": "open", "b": "acknowledged", "c": "closed"}

    [ack] = pull_acknowledgements(copilot)
    assert (ack.control, ack.key, ack.acknowledged_by_id) == ("orders_at_risk", "b", 9)
    assert ack.acknowledged_by == "Nora Blake"
    assert ack.acknowledged_at.tzinfo is UTC
    assert pull_acknowledgements(copilot, since=ack.acknowledged_at) == [ack], "the same second comes again"
    assert pull_acknowledgements(copilot, since=ack.acknowledged_at + timedelta(seconds=1)) == []
    assert pull_acknowledgements(copilot, control="late_po_scan") == []
    OdooExceptionSink(copilot).deliver("x", _deliveries(_tracked("b", severity="critical")))
    assert [a.key for a in pull_acknowledgements(copilot)] == ["b"], "a re-send does not undo the acknowledgement"


def test_a_run_sends_the_deliveries_with_their_owners_then_the_closings(server: SandboxServer) -> None:
    copilot = make_client(server)
    OdooExceptionSink(copilot).deliver("x", _deliveries(_tracked("gone")))
    run = ControlRun(
        control="orders_at_risk",
        ran_at=SEEN,
        duration_s=0.1,
        findings=[],
        deliveries=[
            Delivery(change="new", owner="#purchasing", exception=_tracked("a")),
            Delivery(change="worsened", owner="sales_manager", exception=_tracked("b", severity="critical")),
        ],
        closed=["gone"],
    )
    sink = OdooExceptionSink(copilot)  # as the engine does: each owner's deliveries, then what the run closed
    for delivery in run.deliveries:
        sink.deliver(delivery.owner, [delivery])
    sink.closed(run.control, run.closed)
    rows = {r["key"]: (r["owner"], r["state"]) for r in _rows(server, control="orders_at_risk")}
    assert rows == {"gone": ("x", "closed"), "a": ("#purchasing", "open"), "b": ("sales_manager", "open")}


# --------------------------------------------------------------------------- the rules, as the addon's


def test_only_the_agent_syncs_and_nobody_writes(server: SandboxServer) -> None:
    for login in ("manager", "admin", "demo"):
        person = make_client(server, login=login, password=login)
        with pytest.raises(OdooError, match="Only the Copilot agent"):
            person.execute(MODEL, "copilot_sync", [exception_values(_tracked("z"))])
    assert _rows(server) == []
    rpc = server_call(server)
    [rid] = rpc("copilot", "copilot_sync", [exception_values(_tracked("a"))])
    for login in ("copilot", "manager", "admin", "demo"):
        for method, args in (("write", [[rid], {"title": "x"}]), ("unlink", [[rid]]), ("create", [{"key": "k"}])):
            with pytest.raises(OdooError, match="not allowed"):
                rpc(login, method, *args)
    [row] = rpc("demo", "read", [rid], ["title"])
    assert row["title"] == "S00024 Gemini Furniture (a)", "every internal user reads"


def server_call(server: SandboxServer) -> Any:
    """Call ``copilot.exception`` on ``server`` as a login, without the copilot's allow-list (as any RPC client)."""
    from odoo_sandbox import SandboxTransport

    transports: dict[str, SandboxTransport] = {}

    def run(login: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if login not in transports:
            transports[login] = SandboxTransport(server, login=login, secret=login, timeout=5)
            transports[login].login()
        return transports[login].execute_kw(MODEL, method, list(args), kwargs)

    return run


def test_the_sync_refuses_other_fields_and_the_acknowledged_state(server: SandboxServer) -> None:
    copilot = make_client(server)
    for extra in ({"acknowledged_by": 9}, {"company_id": 2}, {"state": "acknowledged"}, {"severity": "urgent"}):
        with pytest.raises(OdooError):
            copilot.execute(MODEL, "copilot_sync", [{**exception_values(_tracked()), **extra}])
    with pytest.raises(OdooError, match="http"):
        copilot.execute(MODEL, "copilot_sync", [{**exception_values(_tracked()), "record_url": "javascript:x"}])
    assert _rows(server) == []


def test_the_copilot_cannot_acknowledge_and_a_plain_user_neither(server: SandboxServer) -> None:
    copilot = make_client(server)
    OdooExceptionSink(copilot).deliver("x", _deliveries(_tracked("a")))
    [rid] = [r["id"] for r in copilot.search_read(MODEL, [("key", "=", "a")], ["id"])]
    with pytest.raises(MethodNotAllowed):
        copilot.execute(MODEL, "action_acknowledge", [rid])  # refused before it leaves the process
    rpc = server_call(server)
    assert rpc("copilot", "copilot_sync", [exception_values(_tracked("a"))]) == [rid]
    for login in ("copilot", "demo"):
        with pytest.raises(OdooError, match="Only Copilot approvers"):
            rpc(login, "action_acknowledge", [rid])
    assert rpc("admin", "action_acknowledge", [rid]) is True
    with pytest.raises(OdooError, match="open or snoozed"):
        rpc("manager", "action_acknowledge", [rid])


def test_a_closed_exception_that_comes_back_is_open_and_unacknowledged(server: SandboxServer) -> None:
    rpc = server_call(server)
    [rid] = rpc("copilot", "copilot_sync", [exception_values(_tracked("a"))])
    rpc("manager", "action_acknowledge", [rid])
    rpc("copilot", "copilot_sync", [{"control": "orders_at_risk", "key": "a", "state": "closed"}])
    rpc("copilot", "copilot_sync", [exception_values(_tracked("a", severity="critical"))])
    [row] = rpc("admin", "read", [rid], ["state", "acknowledged_by", "closed_at", "severity"])
    assert (row["state"], row["acknowledged_by"], row["closed_at"], row["severity"]) == (
        "open",
        False,
        False,
        "critical",
    )


def test_the_list_order_is_worst_first_then_oldest(server: SandboxServer) -> None:
    rpc = server_call(server)
    old = SEEN - timedelta(days=5)
    rpc(
        "copilot",
        "copilot_sync",
        [
            exception_values(_tracked("low-old", severity="low", first_seen=old)),
            exception_values(_tracked("crit-new", severity="critical")),
            exception_values(_tracked("crit-old", severity="critical", first_seen=old)),
        ],
    )
    rows = rpc("demo", "search_read", [], ["key"])
    assert [r["key"] for r in rows] == ["crit-old", "crit-new", "low-old"]


@pytest.mark.parametrize(
    ("flavour", "protocol"), [("odoo18", "auto"), ("odoo19", "auto"), ("odoo19", "jsonrpc")], ids="-".join
)
def test_the_sink_over_each_sandbox_flavour_and_protocol(flavour: str, protocol: str) -> None:
    """Odoo 19 with an API key talks JSON-2 (named arguments: ``vals_list``); 18 and 19 JSON-RPC positional."""
    from copilot.config import load_settings
    from copilot.odoo.session import odoo_session

    settings = load_settings(sandbox_odoo=flavour, odoo_protocol=protocol, sandbox_keep_writes=False)
    with odoo_session(settings) as session:
        client = session.client
        OdooExceptionSink(client).deliver("x", _deliveries(_tracked("a"), _tracked("b")))
        assert push_closed(client, "orders_at_risk", ["b"]) == 1
        rows = client.search_read(MODEL, [("control", "=", "orders_at_risk")], ["key", "state"], order="id")
        assert [(r["key"], r["state"]) for r in rows] == [("a", "open"), ("b", "closed")]
        assert pull_acknowledgements(client) == []
