"""Observability on standard tools: HTTP metrics from prometheus-fastapi-instrumentator on the app's own
registry (route templates only), LLM cost from the price table, Celery queue lengths read from Redis at
scrape time. Socket-free: the app runs in-process without its lifespan; Redis is a fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from channels.http import create_app
from copilot.config import Settings

READER = "reader-token-0123456789abcdef"


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path, api_tokens=SecretStr(f"reader:{READER}:read"), **kw)  # type: ignore[arg-type]


def _samples(text: str, name: str) -> list[Any]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def test_http_metrics_come_from_the_instrumentator_on_the_apps_own_registry(tmp_path: Path) -> None:
    from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware

    app = create_app(_settings(tmp_path))
    assert PrometheusInstrumentatorMiddleware in [m.cls for m in app.user_middleware]
    client = TestClient(app, client=("127.0.0.1", 50000))
    before = REGISTRY.get_sample_value("http_requests_total") or 0
    client.get("/healthz")
    assert REGISTRY.get_sample_value("copilot_http_requests_total", {"route": "/healthz"}) is None
    assert (REGISTRY.get_sample_value("http_requests_total") or 0) == before  # nothing on the global registry
    text = client.get("/metrics").text
    ok = [s for s in _samples(text, "copilot_http_requests_total") if s.labels["route"] == "/healthz"]
    assert [(s.labels["method"], s.labels["status"], s.value) for s in ok] == [("GET", "200", 1.0)]


def test_http_requests_are_labelled_by_route_template_never_by_raw_path(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))  # no lifespan: /v1 routes fail (500), their labels are what counts
    client = TestClient(app, client=("127.0.0.1", 50000), raise_server_exceptions=False)
    reader = {"Authorization": f"Bearer {READER}"}
    client.get("/v1/proposals/987654", headers=reader)
    client.post("/v1/webhooks/n8n-source-4242", content=b"{}")
    client.get("/nowhere-31337")
    client.get("/v1/proposals/987654/", headers=reader, follow_redirects=False)  # trailing slash: a redirect
    text = client.get("/metrics").text
    routes = {s.labels["route"] for s in _samples(text, "copilot_http_requests_total")}
    assert {"/v1/proposals/{request_id}", "/v1/webhooks/{source}", "unmatched"} <= routes
    for raw in ("987654", "4242", "31337"):
        assert raw not in text, f"a raw path reached the labels: {sorted(routes)}"
    latency = {s.labels["route"] for s in _samples(text, "copilot_http_request_duration_seconds_count")}
    assert latency == routes


def test_llm_cost_is_tokens_times_the_models_price_and_zero_for_an_unpriced_local_model() -> None:
    from copilot.config import LLMPrice
    from copilot.observability import CopilotMetrics

    prices = {"gpt-test": LLMPrice(prompt=2.5, completion=10.0)}  # USD per million tokens
    metrics = CopilotMetrics(CollectorRegistry(), llm_prices=prices)
    metrics.llm_call("gpt-test", "ok", 1.2, 1_000_000, 200_000)
    metrics.llm_call("llama3.1:8b", "ok", 3.0, 5_000, 500)
    get = metrics.registry.get_sample_value
    assert get("copilot_llm_cost_usd_total", {"model": "gpt-test"}) == 2.5 + 2.0
    assert get("copilot_llm_cost_usd_total", {"model": "llama3.1:8b"}) == 0
    assert get("copilot_llm_tokens_total", {"model": "llama3.1:8b", "kind": "prompt"}) == 5_000


def test_the_price_table_is_read_from_the_environment() -> None:
    import os
    from unittest import mock

    env = {"COPILOT_LLM_PRICES": '{"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}'}
    with mock.patch.dict(os.environ, env):
        settings = Settings()
    assert settings.llm_prices["gpt-4o-mini"].completion == 0.6


def test_the_composition_roots_metrics_and_the_apps_use_the_price_table(tmp_path: Path) -> None:
    from copilot.composition import open_root
    from copilot.config import LLMPrice

    price = LLMPrice(prompt=1.0, completion=3.0)
    settings = _settings(tmp_path, llm_prices={"gpt-test": price})
    with open_root(settings) as root:
        root.metrics.llm_call("gpt-test", "ok", 0.5, 1_000_000, 1_000_000)
        assert root.metrics.registry.get_sample_value("copilot_llm_cost_usd_total", {"model": "gpt-test"}) == 4.0
    assert create_app(settings).state.metrics.price("gpt-test") == price


class _FakeRedis:
    """kombu's Redis lists: a queue and its priority sub-lists (``name\\x06\\x163``...), oldest message last."""

    def __init__(self, lists: dict[str, list[bytes]], *, fail: bool = False) -> None:
        self.lists = lists
        self.fail = fail

    def llen(self, key: str) -> int:
        if self.fail:
            raise ConnectionError("redis is down")
        return len(self.lists.get(key, []))

    def lindex(self, key: str, index: int) -> bytes | None:
        items = self.lists.get(key, [])
        return items[index] if items else None


def _message(queued_at: float | None) -> bytes:
    headers = {"task": "copilot.email.process"} | ({"copilot_queued_at": queued_at} if queued_at else {})
    return json.dumps({"body": "e30=", "headers": headers, "properties": {}}).encode()


def test_celery_queue_lengths_and_the_oldest_tasks_age_are_read_from_redis_at_scrape_time() -> None:
    from prometheus_client import generate_latest

    from copilot.observability.queues import CeleryQueueCollector

    lists = {
        "urgent": [_message(1000.0), _message(700.0)],  # pushed left: the oldest is last
        "urgent\x06\x163": [_message(None)],  # a task some other producer queued: counted, not aged
        "batch": [],
    }
    registry = CollectorRegistry()
    registry.register(CeleryQueueCollector(lambda: _FakeRedis(lists), ["urgent", "batch"], now=lambda: 1000.0))
    text = generate_latest(registry).decode()
    assert {s.labels["queue"]: s.value for s in _samples(text, "copilot_queue_length")} == {"urgent": 3, "batch": 0}
    ages = {s.labels["queue"]: s.value for s in _samples(text, "copilot_queue_oldest_age_seconds")}
    assert ages == {"urgent": 300.0, "batch": 0.0}
    assert {s.value for s in _samples(text, "copilot_queue_broker_up")} == {1.0}
    lists["batch"].append(_message(990.0))
    assert registry.get_sample_value("copilot_queue_length", {"queue": "batch"}) == 1
    assert registry.get_sample_value("copilot_queue_oldest_age_seconds", {"queue": "batch"}) == 10


def test_an_unreachable_broker_is_reported_not_raised() -> None:
    from copilot.observability.queues import CeleryQueueCollector

    registry = CollectorRegistry()
    registry.register(CeleryQueueCollector(lambda: _FakeRedis({}, fail=True), ["urgent", "batch"]))
    assert registry.get_sample_value("copilot_queue_broker_up") == 0
    assert registry.get_sample_value("copilot_queue_length", {"queue": "urgent"}) is None


def test_every_queued_task_is_stamped_with_when_it_was_queued(tmp_path: Path) -> None:
    from channels.worker.enqueue import TaskQueue

    sent: list[dict[str, Any]] = []

    class Celery:
        def send_task(self, name: str, **options: Any) -> Any:
            sent.append(options)
            return type("Result", (), {"id": "t"})()

    queue = TaskQueue(_settings(tmp_path), celery=Celery())
    queue.email(b"Subject: x\r\n\r\nbody", uid=1)
    queue.wake_executor()
    assert [set(o["headers"]) for o in sent] == [{"copilot_queued_at"}, {"copilot_queued_at"}]
    assert all(isinstance(o["headers"]["copilot_queued_at"], float) for o in sent)
