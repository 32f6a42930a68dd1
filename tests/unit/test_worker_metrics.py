"""Celery workers export metrics: pool processes record into prometheus_client's multiprocess files, the
worker's exporter registry (``copilot worker`` with ``COPILOT_WORKER_METRICS_PORT``) aggregates them with the
queue lengths. Socket-free: a pool process is a subprocess here; no HTTP server is started."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from channels.worker.names import QUEUES
from copilot.config import Settings
from copilot.observability.worker import prepare_multiprocess_dir, worker_registry

ROOT = Path(__file__).resolve().parents[2]

POOL_PROCESS = textwrap.dedent(
    """
    from copilot.composition import new_metrics
    metrics = new_metrics()
    metrics.executor_outcome("reschedule_receipt", "executed")
    metrics.approval_cycle_time("reschedule_receipt", 600.0)
    metrics.webhook("n8n", "helpdesk.ticket.created", "done")
    """
)


def _pool_process(directory: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", POOL_PROCESS], env=env, check=True, timeout=120)  # noqa: S603


def test_what_two_pool_processes_record_is_summed_by_the_workers_exporter(tmp_path: Path) -> None:
    directory = prepare_multiprocess_dir(tmp_path / "metrics")
    _pool_process(directory)
    _pool_process(directory)
    registry = worker_registry(Settings(data_dir=tmp_path), directory, QUEUES)
    get = registry.get_sample_value
    assert get("copilot_executor_outcomes_total", {"action_type": "reschedule_receipt", "result": "executed"}) == 2
    assert get("copilot_approval_cycle_seconds_count", {"action_type": "reschedule_receipt"}) == 2
    assert get("copilot_approval_cycle_seconds_sum", {"action_type": "reschedule_receipt"}) == 1200
    text = generate_latest(registry).decode()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"copilot_webhook_events", "copilot_queue_length"} <= names


def test_a_restarted_worker_starts_from_an_empty_directory(tmp_path: Path) -> None:
    directory = prepare_multiprocess_dir(tmp_path / "metrics")
    _pool_process(directory)
    again = prepare_multiprocess_dir(tmp_path / "metrics")
    assert again == directory and not list(directory.iterdir())


def test_the_worker_exporter_is_off_by_default() -> None:
    from copilot.observability.worker import start_worker_exporter

    assert Settings().worker_metrics_port is None
    assert start_worker_exporter(Settings()) is None


def test_a_webhook_event_a_worker_parks_is_counted_by_outcome(monkeypatch: Any) -> None:
    from types import SimpleNamespace

    import channels.worker.tasks as tasks
    from copilot.observability import CopilotMetrics

    parked: list[str] = []
    runtime = SimpleNamespace(
        metrics=CopilotMetrics(),
        lease=60.0,
        events=SimpleNamespace(start=lambda *a, **k: "claimed", finish=lambda *a, **k: None),
        deadletters=SimpleNamespace(park=lambda **k: parked.append(k["key"])),
    )
    monkeypatch.setattr(tasks, "_runtime", lambda task: runtime)
    task = SimpleNamespace(request=SimpleNamespace(id="t-1", retries=0))
    assert tasks.process_webhook(task, "n8n", "evt-1", "bm90IGpzb24=")["status"] == "parked"  # type: ignore[arg-type]
    assert parked == ["n8n:evt-1"]
    labels = {"source": "n8n", "type": "?", "outcome": "parked"}
    assert runtime.metrics.registry.get_sample_value("copilot_webhook_events_total", labels) == 1


def test_copilot_worker_starts_its_exporter_before_the_pool_and_forgets_a_pool_process_that_exits(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from celery.signals import worker_process_shutdown
    from typer.testing import CliRunner

    import channels.worker.tasks as tasks
    import copilot.observability.worker as worker_module
    from copilot.cli import app as cli

    events: list[str] = []

    class Exporter:
        def mark_dead(self, pid: int) -> None:
            events.append(f"dead {pid}")

    class App:
        def worker_main(self, argv: list[str]) -> None:
            events.append("pool")

    def start(settings: Settings, queues: Any) -> Exporter:
        events.append(f"exporter {settings.worker_metrics_port} {','.join(queues)}")
        return Exporter()

    def app(settings: Settings) -> App:
        events.append("app")
        return App()

    monkeypatch.setattr(worker_module, "start_worker_exporter", start)
    monkeypatch.setattr(tasks, "worker_app", app)
    monkeypatch.setenv("COPILOT_REDIS_URL", "redis://127.0.0.1:6399/0")
    monkeypatch.setenv("COPILOT_WORKER_METRICS_PORT", "9101")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    receivers = list(worker_process_shutdown.receivers)
    try:
        result = CliRunner().invoke(cli, ["worker", "--pool", "solo"])
        assert result.exit_code == 0, result.output
        assert events == ["exporter 9101 urgent,batch", "app", "pool"]
        worker_process_shutdown.send(sender=None, pid=4242, exitcode=0)
        assert events[-1] == "dead 4242"
    finally:
        worker_process_shutdown.receivers = receivers
