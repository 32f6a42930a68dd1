"""The service around the API: workers started and stopped with the app (in-flight item finished first),
the facade's rate limits on /v1, and the Prometheus metrics."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

import channels.http.main as http_main
from channels.http import create_app
from channels.http.workers import ExecutorWorker, Worker, build_workers
from channels.serve import create_app as serve_app
from copilot.config import Settings

OPS = "ops-token-0123456789abcdefghij"
READER = "reader-token-0123456789abcdefgh"
TOKENS = f"ops:{OPS}:*;reader:{READER}:read"


class SlowWorker:
    """A worker whose item in flight takes ``seconds`` to finish once asked to stop."""

    def __init__(self, name: str, seconds: float, events: list[str]) -> None:
        self.name = name
        self.seconds = seconds
        self.events = events
        self.running = threading.Event()

    def start(self) -> None:
        self.running.set()
        self.events.append(f"{self.name} started")

    def stop(self, timeout: float) -> None:
        self.events.append(f"{self.name} finishing its item")
        time.sleep(min(self.seconds, timeout))
        self.running.clear()
        self.events.append(f"{self.name} stopped")

    def healthy(self) -> bool:
        return self.running.is_set()


def test_workers_start_with_the_app_and_finish_their_item_before_shutdown_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[str] = []
    workers = [SlowWorker("email", 0.5, events), SlowWorker("executor", 0.1, events)]
    monkeypatch.setattr(http_main, "build_workers", lambda *a, **k: workers)
    caplog.set_level(logging.INFO, logger="channels.http")
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert events == ["email started", "executor started"]
        ready = client.get("/readyz").json()
        assert next(c for c in ready["checks"] if c["name"] == "workers")["detail"] == "healthy: email, executor"
        started = time.monotonic()
    # leaving the block ran the shutdown: it returned only after each worker's stop() returned, in reverse
    assert time.monotonic() - started >= 0.6
    assert events[2:] == [
        "executor finishing its item",
        "executor stopped",
        "email finishing its item",
        "email stopped",
    ]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("channels.http")]
    assert any(line.startswith("HTTP API ready on embedded Odoo sandbox") and "workers: email, executor" in line
               for line in lines)  # fmt: skip
    assert lines.index("HTTP API stopping") < lines.index("worker executor stopping (finishing its item in flight)")
    assert lines[-1].startswith("HTTP API stopped cleanly")


def test_a_worker_failing_to_start_stops_the_ones_already_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    class Broken(SlowWorker):
        def start(self) -> None:
            raise RuntimeError("cannot connect")

    workers = [SlowWorker("email", 0, events), Broken("executor", 0, events)]
    monkeypatch.setattr(http_main, "build_workers", lambda *a, **k: workers)
    with pytest.raises(RuntimeError, match="cannot connect"), TestClient(create_app(Settings(data_dir=tmp_path))):
        pass
    assert events == ["email started", "email finishing its item", "email stopped"]


def test_the_settings_decide_which_workers_run(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from channels.serve import serve_workers

    assert build_workers(Settings(data_dir=tmp_path)) == []
    sandbox_executor = Settings(data_dir=tmp_path, executor_password=SecretStr("x"))
    assert build_workers(sandbox_executor) == []  # the executor acts on a real Odoo only
    from types import SimpleNamespace

    from copilot.state import Database

    with Database.open() as db:  # the process's database, as the Copilot of its root carries it
        copilot = SimpleNamespace(db=db)
        only_mail = Settings(data_dir=tmp_path, imap_host="127.0.0.1", controls_scheduler=False)  # controls: see
        mail = serve_workers(FastAPI(), only_mail, copilot)  # type: ignore[arg-type] - test_controls_service.py
        assert [w.name for w in mail] == ["email"] and isinstance(mail[0], Worker) and mail[0].db is db  # type: ignore[attr-defined]
        mail[0].close()  # type: ignore[attr-defined]


# -- the facade on /v1 ------------------------------------------------------------------------------
def test_v1_calls_count_against_the_clients_rate_limit(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_tokens=SecretStr(TOKENS), rate_limit_per_minute=2)
    auth = {"Authorization": f"Bearer {OPS}"}
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.post("/v1/questions", json={"question": "late POs?"}, headers=auth).status_code == 200
        limited = client.post("/v1/questions", json={"question": "late POs?"}, headers=auth)
        assert limited.status_code == 429 and limited.json()["error"]["type"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        other = client.get("/v1/proposals", headers={"Authorization": f"Bearer {READER}"})
        assert other.status_code == 200  # reads of proposals are not skills: not rate limited


# -- metrics ----------------------------------------------------------------------------------------
def test_metrics_count_requests_by_route_template(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_tokens=SecretStr(TOKENS))
    with TestClient(create_app(settings), client=("127.0.0.1", 5000)) as client:
        client.get("/healthz")
        client.get("/v1/proposals/999999", headers={"Authorization": f"Bearer {READER}"})
        client.get("/nowhere")
        text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in families["copilot_http_requests"].samples
        if s.name == "copilot_http_requests_total"
    }
    assert requests[("GET", "/healthz", "200")] == 1
    assert requests[("GET", "/v1/proposals/{request_id}", "404")] == 1
    assert requests[("GET", "unmatched", "404")] == 1 and "999999" not in text
    latency = families["copilot_http_request_duration_seconds"]
    assert latency.type == "histogram"
    inf = [s.value for s in latency.samples if s.labels.get("le") == "+Inf" and s.labels["route"] == "/healthz"]
    assert inf == [1]
    assert "copilot_deadletters_parked" in families


def test_metrics_off_loopback_need_a_read_token(tmp_path: Path) -> None:
    asker = "asker-token-0123456789abcdefghi"
    settings = Settings(data_dir=tmp_path, api_tokens=SecretStr(f"{TOKENS};asker:{asker}:ask"))
    with TestClient(create_app(settings), client=("192.0.2.10", 5000)) as client:
        assert client.get("/metrics").status_code == 401
        no_read = client.get("/metrics", headers={"Authorization": f"Bearer {asker}"})
        assert no_read.status_code == 403
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {READER}"})
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_slack_is_mounted_when_configured_and_closed_at_shutdown(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        slack_signing_secret=SecretStr("slack-signing-secret-0123456789"),
        slack_bot_token=SecretStr("xoxb-test"),
        slack_api_url="http://127.0.0.1:9/api/",
    )
    assert "/slack/events" not in [getattr(r, "path", "") for r in create_app(settings).routes]  # HTTP alone
    app = serve_app(settings)  # the process assembly of ``copilot serve`` mounts it
    with TestClient(app) as client:
        assert client.post("/slack/events", content=b"command=/copilot").status_code == 401  # unsigned
        slack = app.state.slack
    assert slack.executor._shutdown  # its answers in flight were finished before the process stops
    assert "/slack/events" not in TestClient(app).get("/openapi.json").json()["paths"]


def test_the_executor_worker_runs_its_loop_wakes_and_stops(tmp_path: Path) -> None:
    import json as jsonlib
    import urllib.request

    from copilot.guardrails.signatures import sign

    class FakeExecutor:
        def __init__(self) -> None:
            self.passes = 0
            self.woken = threading.Event()
            self._wake = threading.Event()

        def wake(self) -> None:
            self.woken.set()
            self._wake.set()

        def run_forever(self, interval: float, stop: threading.Event) -> None:
            while not stop.is_set():
                self.passes += 1
                self._wake.wait(interval)
                self._wake.clear()

    secret = "executor-wake-secret-0123456789"
    settings = Settings(
        data_dir=tmp_path,
        odoo_url="http://odoo.invalid",
        odoo_db="prod",
        odoo_password=SecretStr("x"),
        executor_password=SecretStr("y"),
        executor_webhook_secret=SecretStr(secret),
        executor_webhook_port=0,
        executor_interval=60,
    )
    fake = FakeExecutor()
    worker = ExecutorWorker(settings, executor=fake)
    worker.start()
    try:
        assert worker.healthy()
        body = jsonlib.dumps({"event_id": "e1", "request_id": 5, "state": "approved", "db": "prod"}).encode()
        ts = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - loopback
            worker._receiver.url,
            data=body,
            headers={"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(secret, ts, body)},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            assert response.status == 202
        assert fake.woken.wait(2)  # the addon's signed call reached the executor
    finally:
        started = time.monotonic()
        worker.stop(5)
    assert not worker.healthy() and time.monotonic() - started < 1  # left its 60 s poll wait at once
