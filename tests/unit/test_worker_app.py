"""The Celery application built from the settings: queues, late acknowledgement, the beat schedule, the CLI.

Building the app opens no connection (Celery connects when a worker starts or a task is sent): no socket here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channels.worker import BATCH, URGENT, create_celery
from channels.worker.celery_app import beat_schedule
from channels.worker.names import EMAIL_TASK, EXECUTOR_TASK, MAIL_POLL_TASK, REINDEX_TASK, SLACK_TASK, WEBHOOK_TASK
from channels.worker.tasks import backoff, worker_app
from copilot.cli import app as cli
from copilot.config import Settings, load_settings
from copilot.errors import ConfigError

REDIS = "redis://127.0.0.1:6399/0"


def settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(data_dir=tmp_path, redis_url=REDIS, _env_file=None, **overrides)


def test_urgent_events_and_batch_work_go_to_separate_queues(tmp_path: Path) -> None:
    celery = worker_app(settings(tmp_path))
    queue = {name: celery.amqp.router.route({}, name)["queue"].name for name in celery.tasks if name.startswith("co")}
    assert {queue[n] for n in (EMAIL_TASK, WEBHOOK_TASK, SLACK_TASK)} == {URGENT}
    assert {queue[n] for n in (MAIL_POLL_TASK, REINDEX_TASK, EXECUTOR_TASK)} == {BATCH}


def test_a_task_is_acknowledged_only_once_done_and_given_back_when_its_worker_dies(tmp_path: Path) -> None:
    celery = worker_app(settings(tmp_path, task_time_limit=40))
    conf = celery.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == 40 and conf.broker_transport_options["visibility_timeout"] == 100
    assert all(celery.tasks[name].acks_late for name in (EMAIL_TASK, WEBHOOK_TASK, SLACK_TASK))
    assert conf.broker_url == REDIS


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    assert [backoff(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_beat_polls_the_mailbox_at_its_interval_and_the_executor_only_on_a_real_odoo(tmp_path: Path) -> None:
    def settings(tmp_path: Path, **overrides: object) -> Settings:  # the controls' entries: test_controls_scheduler
        return load_settings(data_dir=tmp_path, redis_url=REDIS, _env_file=None, controls_scheduler=False, **overrides)

    assert beat_schedule(settings(tmp_path)) == {}
    mail = beat_schedule(settings(tmp_path, imap_host="imap.example.com", imap_poll_interval=20))
    (entry,) = mail.values()
    assert entry["task"] == MAIL_POLL_TASK and entry["schedule"] == timedelta(seconds=20)
    sandbox = beat_schedule(settings(tmp_path, executor_password="x" * 12))
    assert sandbox == {}  # the executor never acts on the sandbox
    real = beat_schedule(
        settings(
            tmp_path,
            executor_password="x" * 12,
            odoo_url="https://odoo.example.com",
            odoo_db="prod",
            odoo_password="y" * 12,
        )
    )
    assert [e["task"] for e in real.values()] == [EXECUTOR_TASK]


def test_workers_need_redis(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COPILOT_REDIS_URL"):
        create_celery(load_settings(data_dir=tmp_path, _env_file=None))
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2 and "COPILOT_REDIS_URL" in result.output


def test_worker_refuses_an_unknown_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_REDIS_URL", REDIS)
    result = CliRunner().invoke(cli, ["worker", "--queues", "urgent,fast"])
    assert result.exit_code == 2 and "urgent, batch" in result.output


class _RecordingCelery:
    """Records what ``send_task`` was given (no broker)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def send_task(self, name: str, **options: object) -> object:
        self.sent.append({"name": name, **options})
        return type("Result", (), {"id": "task-1"})()


def test_a_queued_task_shows_no_message_content_in_its_headers_and_skips_the_costly_repr(tmp_path: Path) -> None:
    from channels.worker.enqueue import TaskQueue

    celery = _RecordingCelery()
    queue = TaskQueue(settings(tmp_path), celery=celery)
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> IBAN DE89370400440532013000 please"}
    queue.slack("mention", {"type": "event_callback", "event_id": "Ev1", "event": event})
    queue.email(b"From: a@example.com\r\nSubject: secret plans\r\n\r\nbody", uid=7, uidvalidity=3, folder="INBOX")
    queue.webhook("bench", "evt-1", b'{"type": "question", "text": "what about my salary?"}')
    shown = [str(sent["argsrepr"]) + str(sent["kwargsrepr"]) for sent in celery.sent]
    assert shown[0] == "('mention', <Slack event Ev1>){}"  # what a monitor (Flower, logs) shows of the task
    assert "7" in shown[1] and "secret" not in shown[1] and "RnJvbT" not in shown[1]  # no raw email, not even base64
    assert "evt-1" in shown[2] and "salary" not in shown[2]
