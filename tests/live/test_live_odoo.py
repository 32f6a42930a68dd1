"""The same tools, the allow-list and the demo against a real Odoo 18 or 19 (with demo data)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.config import get_settings
from copilot.errors import MethodNotAllowed, OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import get_purchase_orders, late_purchase_orders, recent_emails


def test_login_and_read_confirmed_purchase_orders(live_client: OdooClient) -> None:
    rows = live_client.search_read("purchase.order", [("state", "=", "purchase")], ["name"], limit=5)
    assert rows, "the live database has no confirmed purchase order"
    pos = get_purchase_orders(live_client, [r["name"] for r in rows])
    assert {p.name for p in pos} == {r["name"] for r in rows}
    assert all(p.lines for p in pos)


def test_late_purchase_orders_are_late(live_client: OdooClient) -> None:
    for po in late_purchase_orders(live_client):
        assert po.days_late >= 0


def test_writes_never_leave_the_process(live_client: OdooClient) -> None:
    before = live_client.round_trips
    with pytest.raises(MethodNotAllowed):
        live_client.execute("purchase.order", "write", [1], {"notes": "copilot"})
    assert live_client.round_trips == before


def test_unknown_model_is_not_found(live_client: OdooClient) -> None:
    with pytest.raises(OdooNotFound):
        live_client.search_count("copilot.no.such.model", [])


def test_demo_runs_against_live_odoo(live_client: OdooClient) -> None:
    emails = recent_emails(live_client, limit=5)
    result = CliRunner().invoke(app, ["demo", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["summaries"]) == len(emails)


def test_helpdesk_detection_on_live_odoo(live_client: OdooClient) -> None:
    from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog

    schema = detect_helpdesk(live_client)
    if schema.flavour is HelpdeskFlavour.NONE:
        return  # an Odoo without Helpdesk is a valid answer; the detection must not raise
    tickets = get_tickets(live_client, load_catalog(live_client, schema), limit=5)
    assert all(t.labels.stage is not None for t in tickets)


def test_triage_on_live_odoo(live_client: OdooClient, tmp_path: Any, monkeypatch: Any) -> None:
    """With Helpdesk: train, report and classify. Without: a clear message, and text-only triage still works."""
    from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk

    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    train = runner.invoke(app, ["triage", "train"])
    text = "Where is my order? It is two weeks late."
    classify = runner.invoke(app, ["triage", "classify", "--text", text, "--json"])
    assert classify.exit_code == 0, classify.output
    payload = json.loads(classify.stdout)
    if detect_helpdesk(live_client).flavour is HelpdeskFlavour.NONE:
        assert train.exit_code == 1 and "this Odoo has no Helpdesk app" in train.output
        assert payload["mode"] == "cold_start"
        assert any("no Helpdesk app" in w for w in payload["warnings"])
        assert payload["predictions"][0]["label"]["name"] == "Order Status"
    else:
        assert train.exit_code == 0, train.output
        assert payload["mode"] == "trained"
        report = runner.invoke(app, ["triage", "report"])
        assert report.exit_code == 0 and "macro-F1" in report.output
