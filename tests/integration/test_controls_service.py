"""``copilot serve`` with the controls: the scheduler runs among its workers, and /v1/exceptions lists, acknowledges
and snoozes what the controls found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.serve import create_app
from copilot.application.principals import ServiceClient
from copilot.config import Settings

OPS = "ops-token-0123456789abcdefghij"
READER = "reader-token-0123456789abcdefgh"
TOKENS = f"ops:{OPS}:*;reader:{READER}:read"


def auth(token: str = OPS) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", api_tokens=SecretStr(TOKENS), audit_enabled=False)
    with TestClient(create_app(settings)) as client:
        yield client


def test_serve_hosts_the_controls_scheduler(api: TestClient) -> None:
    workers = {w.name: w for w in api.app.state.workers}  # type: ignore[attr-defined]
    assert "controls" in workers and workers["controls"].healthy()
    times = workers["controls"].next_run_times()
    assert {"late_pos", "credit_hold", "ticket_aging"} <= set(times)
    assert all(t is not None and t > datetime.now(UTC) for t in times.values())


def test_exceptions_are_listed_acknowledged_and_snoozed(api: TestClient) -> None:
    copilot = api.app.state.copilot  # type: ignore[attr-defined]
    copilot.run_control(ServiceClient.scheduler(), "late_pos", notify=False)
    listed = api.get("/v1/exceptions", params={"control": "late_pos"}, headers=auth())
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 6 and body["data"][0]["finding"]["severity"] == "high"
    assert api.get("/v1/exceptions", params={"severity": "medium"}, headers=auth()).json()["count"] == 2

    acked = api.post("/v1/exceptions/late_pos/purchase.order:9/acknowledge", headers=auth())
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledged_by"] == "ops"
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    snoozed = api.post("/v1/exceptions/late_pos/purchase.order:5/snooze", json={"until": until}, headers=auth())
    assert snoozed.status_code == 200 and snoozed.json()["state"] == "snoozed"
    by_hours = api.post("/v1/exceptions/late_pos/purchase.order:6/snooze", json={"hours": 4}, headers=auth())
    assert by_hours.status_code == 200
    assert api.get("/v1/exceptions", headers=auth()).json()["count"] == 3
    states = [row["state"] for row in api.get("/v1/exceptions?state=all", headers=auth()).json()["data"]]
    assert sorted(states) == ["acknowledged", "open", "open", "open", "snoozed", "snoozed"]


def test_errors_are_clear(api: TestClient) -> None:
    missing = api.post("/v1/exceptions/late_pos/purchase.order:404/acknowledge", headers=auth())
    assert missing.status_code == 404 and "purchase.order:404" in missing.json()["error"]["message"]
    past = api.post(
        "/v1/exceptions/late_pos/purchase.order:9/snooze", json={"until": "2020-01-01T00:00:00Z"}, headers=auth()
    )
    assert past.status_code in (404, 422)
    both = api.post(
        "/v1/exceptions/late_pos/x/snooze", json={"hours": 1, "until": "2030-01-01T00:00:00Z"}, headers=auth()
    )
    assert both.status_code == 422
    assert api.get("/v1/exceptions", headers=auth(READER)).status_code == 403  # the ask scope is needed
    assert api.get("/v1/exceptions").status_code == 401
    unknown = api.get("/v1/exceptions", params={"control": "late_po"}, headers=auth())
    assert unknown.status_code == 400 and "known: late_pos" in unknown.json()["error"]["message"]


def test_a_past_snooze_of_an_open_exception_is_refused(api: TestClient) -> None:
    api.app.state.copilot.run_control(ServiceClient.scheduler(), "late_pos", notify=False)  # type: ignore[attr-defined]
    past = api.post(
        "/v1/exceptions/late_pos/purchase.order:9/snooze", json={"until": "2020-01-01T00:00:00Z"}, headers=auth()
    )
    assert past.status_code == 422 and past.json()["error"]["type"] == "invalid_snooze"


def test_the_control_metrics_are_on_the_services_metrics(api: TestClient) -> None:
    api.app.state.copilot.run_control(ServiceClient.scheduler(), "credit_hold", notify=False)  # type: ignore[attr-defined]
    text = api.get("/metrics", headers=auth(READER)).text
    assert 'copilot_control_runs_total{control="credit_hold",outcome="ok"} 1.0' in text
    assert 'copilot_exceptions_open{control="credit_hold",severity="high"} 2.0' in text
    assert 'copilot_exceptions_opened_total{control="credit_hold",severity="high"} 2.0' in text
