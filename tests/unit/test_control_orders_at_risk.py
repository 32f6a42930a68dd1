"""The orders_at_risk control (findings keyed per sale order, severity from thresholds) and the facade method."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from copilot.application.principals import ServiceClient
from copilot.composition import Components
from copilot.config import load_settings
from copilot.controls.model import SEVERITIES, Control
from copilot.controls.orders_at_risk import OrdersAtRisk
from copilot.errors import AccessDenied
from copilot.identity import Actor
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.skills.at_risk import AtRiskInput
from copilot.skills.base import SkillContext
from odoo_sandbox import RECORDED_AT, SandboxServer
from tests.conftest import make_client

NOW = RECORDED_AT.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def ctx() -> Iterator[SkillContext]:
    server = SandboxServer()
    yield SkillContext(settings=load_settings(), client=make_client(server), now=NOW)
    server.stop()


def test_findings_are_keyed_per_sale_order_with_evidence(ctx: SkillContext) -> None:
    control: Control = OrdersAtRisk()
    assert control.name == "orders_at_risk" and control.description
    findings = control.run(ctx, {})
    assert findings and all(f.control == "orders_at_risk" for f in findings)
    s24 = next(f for f in findings if f.title.startswith("S00024"))
    assert s24.key == f"sale.order:{s24.record.id}" and s24.record is not None and s24.record.model == "sale.order"
    assert "Corner Desk Right Sit" in s24.title and s24.reason and s24.factors and s24.evidence
    assert any(p.get("action_type") == "expedite" for p in s24.proposals)
    assert len({f.key for f in findings}) == len(findings)
    assert all(f.severity in SEVERITIES for f in findings)
    top = findings[0]
    assert top.severity in ("critical", "high")


def test_thresholds_decide_severity_and_what_is_reported(ctx: SkillContext) -> None:
    control = OrdersAtRisk()
    everything_low = control.run(ctx, {"critical": 100.0, "high": 99.0, "medium": 98.0})
    assert {f.severity for f in everything_low} == {"low"}
    everything_critical = control.run(ctx, {"critical": 0.0})
    assert {f.severity for f in everything_critical} == {"critical"}
    few = control.run(ctx, {"min_score": 1.4})
    assert few and all(f.score >= 1.4 for f in few) and len(few) < len(everything_low)
    assert len(control.run(ctx, {"limit": 3})) == 3


def test_a_bad_threshold_is_refused(ctx: SkillContext) -> None:
    with pytest.raises(ValueError, match="critical"):
        OrdersAtRisk().run(ctx, {"critical": "very"})


def test_the_facade_authorizes_and_scores(tmp_path: Path) -> None:
    config = load_settings(data_dir=tmp_path)
    with odoo_session(config) as session:
        copilot = Copilot(config, session, components=Components(config))
        operator = ServiceClient.cli_operator()
        queue = copilot.orders_at_risk(operator, AtRiskInput(purchase_orders=["P00009"]))
        assert {i.order for i in queue.items} == {"S00024", "S00029"}
        nobody: Any = Actor(channel="slack", external_id="U404")
        with pytest.raises(AccessDenied):
            copilot.orders_at_risk(nobody, AtRiskInput())
