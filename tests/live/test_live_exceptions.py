"""Copilot > Exceptions against a real Odoo 18 or 19 with the copilot_approval addon (1.2 or later).

The copilot's Odoo sink upserts, a person acknowledges in Odoo, the copilot closes and pulls the
acknowledgements. Needs an approver (COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD, a user in *Copilot approver*).
Each run uses its own control name, so runs do not meet.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import odoorpc
import pytest

from copilot.citations import Citation
from copilot.config import Settings
from copilot.controls.model import Delivery, Factor, Finding, TrackedException
from copilot.controls.odoo_sink import OdooExceptionSink, pull_acknowledgements, push_closed
from copilot.odoo import OdooClient

MODEL = "copilot.exception"


def _login(settings: Settings, login: str, password: str) -> odoorpc.ODOO:
    url = str(settings.odoo_url).rstrip("/")
    host, port = url.split("://", 1)[1].rsplit(":", 1) if url.count(":") > 1 else (url.split("://", 1)[1], "80")
    odoo = odoorpc.ODOO(host, port=int(port), timeout=60)
    odoo.login(settings.odoo_db, login, password)
    return odoo


@pytest.fixture
def manager(live_settings: Settings) -> odoorpc.ODOO:
    login, password = os.environ.get("COPILOT_LIVE_APPROVER_LOGIN"), os.environ.get("COPILOT_LIVE_APPROVER_PASSWORD")
    if not (login and password):
        pytest.skip("set COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD (a Copilot approver) for the exceptions loop")
    odoo = _login(live_settings, login, password)
    try:
        odoo.env[MODEL]
    except (odoorpc.error.InternalError, odoorpc.error.RPCError):
        pytest.skip(f"{MODEL} is not installed: upgrade copilot_approval to 1.2 (-u copilot_approval)")
    return odoo


def _tracked(control: str, key: str, severity: str, seen: datetime) -> TrackedException:
    finding = Finding(
        control=control,
        key=key,
        severity=severity,  # type: ignore[arg-type]
        score=0.8,
        title=f"Live check {key}",
        reason="A live test of the copilot's Odoo sink.",
        record=Citation(model="res.partner", id=1, display_name="My Company"),
        evidence=[Citation(model="res.partner", id=1, display_name="<b>My Company</b>")],
        factors=[Factor(name="late", label="3 days late", value=3, contribution=0.35)],
    )
    return TrackedException(finding=finding, state="open", first_seen=seen, last_seen=seen)


def test_sync_acknowledge_close_and_pull_on_live_odoo(
    live_client: OdooClient, live_settings: Settings, manager: odoorpc.ODOO
) -> None:
    control = f"live_check_{uuid.uuid4().hex[:8]}"
    seen = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    sink = OdooExceptionSink(live_client, odoo_url=str(live_settings.odoo_url))
    sink.deliver(
        "ops", [Delivery(change="new", owner="ops", exception=_tracked(control, k, "high", seen)) for k in "abc"]
    )
    worse = _tracked(control, "a", "critical", seen)
    sink.deliver("ops", [Delivery(change="worsened", owner="ops", exception=worse)])
    rows = live_client.search_read(MODEL, [("control", "=", control)], ["key", "severity", "state", "age_days"])
    assert sorted((r["key"], r["severity"], r["state"]) for r in rows) == [
        ("a", "critical", "open"),
        ("b", "high", "open"),
        ("c", "high", "open"),
    ]
    assert all(1.9 <= r["age_days"] <= 2.1 for r in rows)

    exceptions = manager.env[MODEL]
    [b_id] = exceptions.search([("control", "=", control), ("key", "=", "b")])
    exceptions.browse(b_id).action_acknowledge()
    with pytest.raises(odoorpc.error.RPCError):
        exceptions.browse(b_id).write({"title": "edited by a person"})

    assert push_closed(live_client, control, ["c", "never-sent"]) == 1
    [ack] = pull_acknowledgements(live_client, control=control)
    assert ack.key == "b" and ack.acknowledged_by_id == manager.env.uid
    states = {
        r["key"]: r["state"] for r in live_client.search_read(MODEL, [("control", "=", control)], ["key", "state"])
    }
    assert states == {"a": "open", "b": "acknowledged", "c": "closed"}
    health = manager.env["copilot.process.health"].search_read(
        [("metric", "=", "open_exceptions"), ("control", "=", control)], ["age_bucket", "count"]
    )
    assert [(h["age_bucket"], h["count"]) for h in health] == [("2_1_3d", 1)]
