"""Observability on prometheus_client: ``/metrics`` parses with Prometheus' own parser, the business metrics
(executor outcomes, approval cycle time, Odoo latency by method and protocol, LLM latency and tokens, webhook
outcomes, mail backlog) are recorded where the events happen, and the shipped Grafana dashboard and alert
rules reference only metrics the app exposes. Socket-free: the app runs in-process without its lifespan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from channels.http import create_app
from copilot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "ops" / "grafana" / "copilot.json"
ALERTS = ROOT / "ops" / "prometheus" / "alerts.yml"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, api_tokens=SecretStr("reader:reader-token-0123456789abcdef:read"))  # type: ignore[arg-type]


def _client(app: Any) -> TestClient:
    """The app in-process (no lifespan), called from loopback as a same-host Prometheus would."""
    return TestClient(app, client=("127.0.0.1", 50000))


def _scrape(client: TestClient) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _value(family: Any, suffix: str = "", **labels: str) -> float:
    total = 0.0
    for sample in family.samples:
        if sample.name == family.name + suffix and all(sample.labels.get(k) == v for k, v in labels.items()):
            total += sample.value
    return total


def _exposed_names(families: dict[str, Any]) -> set[str]:
    """Every series name a query may use: the family and its type's suffixes."""
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count", "_created"]}
    names = set()
    for name, family in families.items():
        names.add(name)
        names.update(name + s for s in suffixes.get(family.type, []))
    return names


def _identifiers(expr: str) -> set[str]:
    """The ``copilot_*`` identifiers of a PromQL expression (a linear scan, no regex)."""
    out, word = set(), []
    for ch in expr + " ":
        if ch.isalnum() or ch in "_:":
            word.append(ch)
            continue
        token = "".join(word)
        if token.startswith("copilot_"):
            out.add(token)
        word = []
    return out


def _strings(node: Any, key: str) -> list[str]:
    if isinstance(node, dict):
        found = [node[key]] if isinstance(node.get(key), str) else []
        return found + [s for v in node.values() for s in _strings(v, key)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    return []


def test_metrics_parses_and_counts_requests_under_their_route_template(tmp_path: Path) -> None:
    client = _client(create_app(_settings(tmp_path)))
    client.get("/healthz")
    client.get("/healthz")
    families = _scrape(client)
    requests = families["copilot_http_requests"]
    assert requests.type == "counter"
    assert _value(requests, "_total", route="/healthz", method="GET", status="200") == 2
    latency = families["copilot_http_request_duration_seconds"]
    assert latency.type == "histogram"
    assert _value(latency, "_count", route="/healthz") == 2


def test_openmetrics_is_served_when_the_scraper_asks_for_it(tmp_path: Path) -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

    client = _client(create_app(_settings(tmp_path)))
    client.get("/healthz")
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in openmetrics_families(response.text)}
    assert _value(families["copilot_http_requests"], "_total", route="/healthz") == 1


def test_two_apps_do_not_share_a_registry(tmp_path: Path) -> None:
    first = _client(create_app(_settings(tmp_path)))
    second = _client(create_app(_settings(tmp_path)))
    first.get("/healthz")
    assert _value(_scrape(second)["copilot_http_requests"], "_total", route="/healthz") == 0


#: Defined by copilot/observability/controls.py (the controls' branch); referenced here by the dashboard and rules.
CONTROLS_METRICS = {
    "copilot_exceptions_opened_total",
    "copilot_exceptions_closed_total",
    "copilot_exceptions_open",
    "copilot_exception_oldest_open_age_seconds",
    "copilot_control_runs_total",
    "copilot_control_run_duration_seconds_bucket",
}


def _references() -> tuple[set[str], dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    rules = yaml.safe_load(ALERTS.read_text())
    exprs = _strings(dashboard, "expr") + _strings(rules, "expr")
    assert len(exprs) >= 8
    return set().union(*(_identifiers(e) for e in exprs)), rules


def _every_exposed_name(tmp_path: Path) -> set[str]:
    """What a scrape of every process kind parses to: a ``copilot serve`` replica (the composition root's
    metrics, workers, dead letters, queues) and a Celery worker's exporter."""
    from prometheus_client import generate_latest

    from channels.worker.names import QUEUES
    from copilot.observability.worker import worker_registry

    exposed = _exposed_names(_scrape(_client(create_app(_settings(tmp_path)))))
    worker = worker_registry(_settings(tmp_path), tmp_path, QUEUES)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(worker).decode())}
    return exposed | _exposed_names(families)


def test_the_dashboard_and_alert_rules_reference_only_metrics_the_app_exposes(tmp_path: Path) -> None:
    referenced, rules = _references()
    exposed = _every_exposed_name(tmp_path)
    assert referenced, "the queries reference no copilot metric"
    unknown = sorted(referenced - exposed)
    from_controls = sorted(set(unknown) & CONTROLS_METRICS)
    assert not unknown, f"not exposed: {unknown}; of them, copilot/observability/controls.py defines {from_controls}"
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"SlackAckSlow", "EmailBacklogOld", "ExecutorFailures", "WebhookFailureRate"} <= alerts


def test_the_dashboard_shows_the_control_towers_exceptions_and_the_new_business_metrics() -> None:
    referenced, _ = _references()
    assert referenced >= CONTROLS_METRICS
    assert {"copilot_llm_cost_usd_total", "copilot_queue_length", "copilot_approval_cycle_seconds_bucket"} <= referenced


# -- business metrics, recorded where the events happen ------------------------------------------------


class _FakeExecutorClient:
    """Just enough of ``OdooClient`` for the executor: one approved request whose payload is not a proposal."""

    approval_model = "copilot.approval.request"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def execute(self, model: str, method: str, *args: Any) -> None:
        self.calls.append(method)

    def search_read(self, model: str, domain: list[Any], fields: list[str], **kw: Any) -> list[dict[str, Any]]:
        if domain != [("state", "=", "approved")]:
            return []
        return [
            {
                "id": 7, "name": "APR/7", "state": "approved", "payload": {"not": "a proposal"},
                "action_type": "reschedule_receipt", "res_model": "stock.picking", "res_id": 3,
                "create_date": "2026-12-03 10:00:00", "approved_date": "2026-12-03 10:30:00",
                "write_date": "2026-12-03 10:30:00", "expires_at": False, "payload_hash": "x",
            }
        ]  # fmt: skip


def test_the_executor_counts_outcomes_and_observes_the_approval_cycle_time() -> None:
    from datetime import UTC, datetime

    from copilot.approvals import Executor
    from copilot.observability import CopilotMetrics

    metrics = CopilotMetrics(CollectorRegistry())
    executor = Executor(_FakeExecutorClient(), now=lambda: datetime(2026, 12, 3, 11, tzinfo=UTC), metrics=metrics)  # type: ignore[arg-type]
    report = executor.run_once()
    assert report.count("failed") == 1
    r = metrics.registry
    labels = {"action_type": "reschedule_receipt", "result": "failed"}
    assert r.get_sample_value("copilot_executor_outcomes_total", labels) == 1
    assert r.get_sample_value("copilot_approval_cycle_seconds_count", {"action_type": "reschedule_receipt"}) == 1
    assert r.get_sample_value("copilot_approval_cycle_seconds_sum", {"action_type": "reschedule_receipt"}) == 1800


def test_odoo_calls_are_timed_by_method_and_protocol() -> None:
    from copilot.errors import OdooServerError
    from copilot.observability import CopilotMetrics
    from copilot.observability.odoo import TimedTransport

    class Inner:
        def login(self) -> int:
            return 2

        def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
            if method == "write":
                raise OdooServerError("refused", model=model, method=method)
            return [{"id": 1}]

    metrics = CopilotMetrics(CollectorRegistry())
    transport = TimedTransport(Inner(), metrics, protocol="jsonrpc")
    assert transport.login() == 2
    assert transport.execute_kw("purchase.order", "search_read", [[]], {}) == [{"id": 1}]
    with pytest.raises(OdooServerError):
        transport.execute_kw("purchase.order", "write", [[1], {}], {})
    get = metrics.registry.get_sample_value
    name = "copilot_odoo_request_duration_seconds_count"
    assert get(name, {"method": "search_read", "protocol": "jsonrpc", "outcome": "ok"}) == 1
    assert get(name, {"method": "write", "protocol": "jsonrpc", "outcome": "error"}) == 1
    assert get(name, {"method": "login", "protocol": "jsonrpc", "outcome": "ok"}) == 1


def test_an_instrumented_client_times_every_call_it_sends() -> None:
    from copilot.observability import CopilotMetrics
    from copilot.odoo.client import OdooClient

    class SandboxLike:
        protocol = "json2"

        def login(self) -> int:
            return 2

        def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
            return 3

    metrics = CopilotMetrics(CollectorRegistry())
    client = OdooClient(SandboxLike())
    client.instrument(metrics)
    assert client.execute("purchase.order", "search_count", []) == 3
    labels = {"method": "search_count", "protocol": "json2", "outcome": "ok"}
    assert metrics.registry.get_sample_value("copilot_odoo_request_duration_seconds_count", labels) == 1


def test_llm_calls_record_latency_and_tokens() -> None:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    from copilot.observability import CopilotMetrics
    from copilot.observability.llm import LLMMetricsCallback

    metrics = CopilotMetrics(CollectorRegistry())
    usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
    model = FakeMessagesListChatModel(
        responses=[AIMessage(content="ok", usage_metadata=usage)],  # type: ignore[arg-type]
        callbacks=[LLMMetricsCallback(metrics, "gpt-test")],
    )
    model.invoke("hello")
    get = metrics.registry.get_sample_value
    assert get("copilot_llm_request_duration_seconds_count", {"model": "gpt-test", "outcome": "ok"}) == 1
    assert get("copilot_llm_tokens_total", {"model": "gpt-test", "kind": "prompt"}) == 120
    assert get("copilot_llm_tokens_total", {"model": "gpt-test", "kind": "completion"}) == 30


def test_a_refused_webhook_is_counted_by_outcome(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secrets=SecretStr("n8n:" + "s" * 40))  # type: ignore[arg-type]
    client = _client(create_app(settings))
    assert client.post("/v1/webhooks/n8n", content=b"{}").status_code == 401
    events = _scrape(client)["copilot_webhook_events"]
    assert _value(events, "_total", source="n8n", outcome="refused") == 1


def test_workers_and_their_backlog_are_exposed_at_scrape_time(tmp_path: Path) -> None:
    class Worker:
        name = "mail"

        def __init__(self) -> None:
            self.stats = {"processed": 3}

        def healthy(self) -> bool:
            return True

        def backlog(self) -> tuple[int, float]:
            return 4, 125.0

    app = create_app(_settings(tmp_path))
    app.state.workers = [Worker()]
    families = _scrape(_client(app))
    assert _value(families["copilot_worker_up"], worker="mail") == 1
    assert _value(families["copilot_worker_items"], "_total", worker="mail", outcome="processed") == 3
    assert _value(families["copilot_worker_backlog"], worker="mail") == 4
    assert _value(families["copilot_worker_backlog_age_seconds"], worker="mail") == 125


def test_the_mail_worker_reports_its_backlog_and_the_age_of_the_oldest_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    import channels.email.worker as worker_module
    from channels.email import MailWorker
    from channels.email.worker import MessageResult
    from copilot.state import Database

    class Mailbox:
        folder, uidvalidity, connected = "INBOX", 1, True

        def __init__(self) -> None:
            self.polls = [[5, 6], [6, 7], []]

        def pending_uids(self) -> list[int]:
            return self.polls.pop(0)

        def close(self) -> None:
            pass

    clock = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: clock[0])
    settings = Settings(data_dir=tmp_path, imap_user="copilot@example.com")
    with Database.open() as db:
        worker = MailWorker(settings, SimpleNamespace(db=db, settings=settings), db=db, mailbox=Mailbox())  # type: ignore[arg-type]
        done = {5, 7}
        monkeypatch.setattr(
            worker,
            "_one",
            lambda mailbox, uid, validity, report: MessageResult(uid, "", "processed" if uid in done else "retry", ""),
        )
        assert worker.backlog() == (0, 0.0)
        worker.run_once()
        assert worker.backlog() == (1, 0.0)  # 6 failed and waits for a retry
        clock[0] += 300
        worker.run_once()
        assert worker.backlog() == (1, 300.0)  # 6 is still the oldest; 7 came and went
        worker.run_once()
        assert worker.backlog() == (0, 0.0)  # gone from the mailbox
        worker.close()


def test_the_roots_odoo_client_records_each_call_on_the_roots_metrics(tmp_path: Path) -> None:
    from copilot.composition import open_root

    with open_root(Settings(data_dir=tmp_path)) as root:
        before = root.metrics.registry.get_sample_value(
            "copilot_odoo_request_duration_seconds_count",
            {"method": "search_read", "protocol": "jsonrpc", "outcome": "ok"},
        )
        root.odoo.client.search_read("purchase.order", [], ["name"], limit=1)
        after = root.metrics.registry.get_sample_value(
            "copilot_odoo_request_duration_seconds_count",
            {"method": "search_read", "protocol": "jsonrpc", "outcome": "ok"},
        )
    assert (after or 0) - (before or 0) == 1


def test_a_root_given_metrics_records_there(tmp_path: Path) -> None:
    from copilot.composition import new_metrics, open_root

    metrics = new_metrics()
    with open_root(Settings(data_dir=tmp_path), metrics=metrics) as root:
        assert root.metrics is metrics
        assert new_metrics().registry is not metrics.registry
