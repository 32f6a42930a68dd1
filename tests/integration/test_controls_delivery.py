"""The issue's must-show end to end: an exception reaches Slack once (the Slack stand-in), again only when it
worsens, and never after someone acknowledges it in Odoo's Copilot > Exceptions menu (the sandbox, with the
addon's rules); what a run no longer finds is closed in Odoo too.

The runs happen at the times APScheduler's cron trigger gives for the control's schedule (a faked clock, never
the wall clock); the sinks are the real ones the composition root plugs in: ``SlackDigestSink`` posting
through the Web API stand-in, ``OdooExceptionSink`` on the copilot's own (allow-listed) Odoo client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from channels.slack.sink import slack_digest_sink
from copilot.config import Settings, load_settings
from copilot.controls.definitions import parse_definitions
from copilot.controls.engine import ControlEngine
from copilot.controls.model import Finding, Severity
from copilot.controls.odoo_sink import OdooExceptionSink
from copilot.controls.registry import ControlRegistry
from copilot.controls.store import ExceptionStore
from copilot.odoo.session import odoo_session
from copilot.skills.base import SkillContext
from copilot.state import Database
from tests.fakes.slack_api import FakeSlackAPI
from tests.unit.test_controls_engine import Clock, Scripted, scheduled_runs
from tests.unit.test_controls_odoo_sink import server_call

TOKEN = "xoxb-fake"
SCHEDULE = "0 7 * * 1-5"


def late(severity: Severity, score: float) -> Finding:
    return Finding(
        control="late_pos",
        key="purchase.order:9",
        severity=severity,
        score=score,
        title="P00009 Gemini Furniture: 3 days late",
        reason="The receipt WH/IN/00026 was due on 2026-11-23 and nothing has arrived.",
    )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Any]:
    settings: Settings = load_settings(_env_file=None, data_dir=tmp_path, slack_bot_token=TOKEN)
    with FakeSlackAPI() as api, odoo_session(settings) as session:
        db = Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}")
        clock = Clock(session.as_of)
        control = Scripted()
        slack = slack_digest_sink(settings, WebClient(token=TOKEN, base_url=api.url), db=db)
        engine = ControlEngine(
            ExceptionStore(db),
            registry=ControlRegistry([control]),
            definitions=parse_definitions({"controls": {"late_pos": {"owner": "#purchasing", "schedule": SCHEDULE}}}),
            sinks=[slack, OdooExceptionSink(session.client)],
            clock=clock,
        )

        class Rig:
            pass

        r = Rig()
        r.api, r.session, r.clock, r.control, r.engine = api, session, clock, control, engine
        r.ctx = SkillContext(settings=settings, client=session.client, now=session.as_of)
        r.runs = iter(scheduled_runs(SCHEDULE, session.as_of, 10))
        r.odoo = server_call(session.server)
        yield r
        db.close()


def tick(rig: Any) -> list[str]:
    """Run the control at its next scheduled time; the digests posted to Slack by that run (their text)."""
    rig.clock.now = next(rig.runs)
    rig.session.server._backend.now = rig.clock.now.astimezone(UTC).replace(tzinfo=None)  # Odoo's clock moves too
    before = len(rig.api.calls_to("chat.postMessage"))
    rig.engine.run(rig.ctx, "late_pos")
    return [json.dumps(call.args["blocks"]) for call in rig.api.calls_to("chat.postMessage")[before:]]


def odoo_row(rig: Any) -> dict[str, Any]:
    [row] = rig.odoo("admin", "search_read", [("key", "=", "purchase.order:9")], ["state", "severity", "title"])
    return dict(row)


def test_sent_once_again_only_when_worse_and_never_after_an_acknowledge_in_odoo(rig: Any) -> None:
    rig.control.findings = [late("medium", 0.4)]
    [first] = tick(rig)
    assert "P00009 Gemini Furniture" in first and "Medium" in first
    assert rig.api.calls_to("chat.postMessage")[0].args["channel"] == "#purchasing"
    assert odoo_row(rig)["state"] == "open" and odoo_row(rig)["severity"] == "medium"

    assert tick(rig) == [], "the same exception the next day: not sent again"
    rig.control.findings = [late("medium", 0.45)]
    assert tick(rig) == [], "a score a little higher, same severity: not worse enough"

    rig.control.findings = [late("high", 0.8)]
    [worse] = tick(rig)
    assert "P00009 Gemini Furniture" in worse and "High" in worse
    assert odoo_row(rig)["severity"] == "high"

    [rid] = [r["id"] for r in rig.odoo("admin", "search_read", [("key", "=", "purchase.order:9")], ["id"])]
    assert rig.odoo("manager", "action_acknowledge", [rid]) is True  # a manager, in Odoo's Exceptions menu
    rig.control.findings = [late("high", 1.4)]
    assert tick(rig) == [], "acknowledged in Odoo: silent, however the score creeps"
    [mine] = rig.engine.exceptions(state=None)
    assert mine.state == "acknowledged" and mine.acknowledged_by and "(in Odoo)" in mine.acknowledged_by
    assert tick(rig) == []

    rig.control.findings = []
    assert tick(rig) == []
    assert odoo_row(rig)["state"] == "closed", "what a run no longer finds is closed in Odoo too"
    assert len(rig.api.calls_to("chat.postMessage")) == 2


def test_an_acknowledge_odoo_could_not_report_counts_at_the_next_run(rig: Any) -> None:
    rig.control.findings = [late("medium", 0.4)]
    assert len(tick(rig)) == 1
    [rid] = [r["id"] for r in rig.odoo("admin", "search_read", [("key", "=", "purchase.order:9")], ["id"])]
    rig.odoo("manager", "action_acknowledge", [rid])
    [mirror] = [s for s in rig.engine.sinks if isinstance(s, OdooExceptionSink)]
    read = mirror.acknowledged

    def down(*_: Any, **__: Any) -> Any:
        raise ConnectionError("odoo is down")

    mirror.acknowledged = down  # type: ignore[method-assign]
    assert tick(rig) == [], "Odoo unreadable: the run goes on, nothing is sent twice"
    assert [e.state for e in rig.engine.exceptions(state=None)] == ["open"]
    mirror.acknowledged = read  # type: ignore[method-assign]
    rig.control.findings = [late("medium", 2.0)]  # far worse a score: would be re-sent if still open
    assert tick(rig) == [], "the acknowledge made while Odoo was unreadable is read first, then silence"
    assert [e.state for e in rig.engine.exceptions(state=None)] == ["acknowledged"]
