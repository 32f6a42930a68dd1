"""Scale-out end to end: a ``copilot serve`` app with ``COPILOT_REDIS_URL`` enqueues, a real Celery worker runs.

Real Redis (the broker) and real PostgreSQL (the shared ledgers), the Odoo sandbox, the deterministic
engine. The worker runs in this process (``celery.contrib.testing.worker.start_worker``) on the app
``create_celery`` builds from the same settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from channels.email.ledger import EmailLedger, message_key
from channels.http import create_app
from channels.http.webhook_events import EventLedger
from channels.worker import TaskQueue, worker_app
from channels.worker.names import QUEUES
from copilot.config import Settings
from copilot.email import parse_email
from copilot.guardrails.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from copilot.state import Database, DeadLetterStore
from copilot.state.tables import OutboxRow
from tests.integration.conftest import make_copilot_settings
from tests.servers.redis import RedisServer

pytestmark = pytest.mark.postgres

SECRET = "s" * 32
EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
SUPPLIER = (EMAILS / "04_p00009_partial_shipment.eml").read_bytes()


def wait_for(check: Callable[[], Any], *, timeout: float = 90.0) -> Any:
    """Poll ``check`` until it returns something truthy (fails the test after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"still not true after {timeout:.0f} s")


@pytest.fixture
def settings(postgres: Any, redis: RedisServer, tmp_path: Path) -> Settings:
    """PostgreSQL for every ledger, Redis as the broker, the sandbox Odoo, a webhook secret for n8n."""
    return make_copilot_settings(
        tmp_path / "data",
        database_url=postgres.create_database(),
        redis_url=redis.url(),
        webhook_secrets=f"n8n:{SECRET}",
        api_allow_anonymous=True,
        injection_embeddings=False,  # the rules alone: no model to load in each worker (the tests are about delivery)
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    yield database
    database.close()


@pytest.fixture
def worker(settings: Settings) -> Iterator[Any]:
    """A Celery worker on both queues, running in this process."""
    app = worker_app(settings)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=30):
        yield app
    from channels.worker.runtime import close_runtime

    close_runtime(app)


def signed(body: dict[str, Any], event_id: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = int(time.time())
    headers = {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(SECRET, stamp, raw),
        "X-Copilot-Event-Id": event_id,
        "Content-Type": "application/json",
    }
    return raw, headers


def test_a_replica_with_redis_accepts_a_webhook_and_a_worker_answers_it_once(
    settings: Settings, db: Database, worker: Any
) -> None:
    ledger = EventLedger(db)
    body, headers = signed({"type": "question", "text": "Is P00009 late?"}, "evt-1")
    with TestClient(create_app(settings)) as client:
        assert client.app.state.workers == []  # type: ignore[attr-defined] - no mail poller or executor thread
        ready = client.get("/readyz").json()
        assert {c["name"]: c["ok"] for c in ready["checks"]}["workers"] is True  # the queue answers
        accepted = client.post("/v1/webhooks/n8n", content=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
        again = client.post("/v1/webhooks/n8n", content=body, headers={**headers, "X-Copilot-Event-Id": "evt-1"})
        assert again.json()["status"] == "duplicate"
        record = wait_for(lambda: (r := ledger.get("n8n", "evt-1")) is not None and r.status != "accepted" and r)
        status = client.get(accepted.json()["status_url"]).json()
        wake_body, wake_headers = signed({"type": "approval.request.approved", "request_id": 7}, "evt-wake")
        woken = client.post("/v1/webhooks/n8n", content=wake_body, headers=wake_headers)
        assert woken.status_code == 200 and woken.json()["result"] == {"woken": True, "request_id": 7}
    assert record.status == "done", record.error
    assert "P00009" in json.dumps(record.result)  # the answer, from the sandbox's Odoo, through the facade
    assert status["status"] == "done"
    TaskQueue(settings, worker).webhook("n8n", "evt-1", body)  # a redelivery of the same task: not run again
    time.sleep(1.0)
    assert ledger.get("n8n", "evt-1").status == "done"  # type: ignore[union-attr]
    assert DeadLetterStore(db).list(channel="webhook") == []


def test_an_email_queued_twice_is_processed_once_by_the_worker(settings: Settings, db: Database, worker: Any) -> None:
    key = message_key(parse_email(SUPPLIER).message_id, SUPPLIER)
    queue = TaskQueue(settings, worker)
    queue.email(SUPPLIER, uid=1, uidvalidity=7, folder="INBOX")
    queue.email(SUPPLIER, uid=1, uidvalidity=7, folder="INBOX")  # a duplicate (two polls, a redelivery)
    ledger = EmailLedger(db)
    wait_for(lambda: ledger.status(key) == "done")
    time.sleep(1.0)  # the duplicate ran too (skipped)
    with db.session() as session:
        deliveries = session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.message_key == key))
    assert deliveries == 1  # the buyer's summary, recorded once
    assert ledger.counts() == {"done": 1}


def test_a_failing_webhook_event_is_parked_with_its_reason(settings: Settings, db: Database, worker: Any) -> None:
    ledger = EventLedger(db)
    body, _ = signed({"type": "helpdesk.ticket.created", "ticket_id": 999999}, "evt-bad")  # no such ticket
    assert ledger.claim("n8n", "evt-bad", "sig-bad", "helpdesk.ticket.created")
    TaskQueue(settings, worker).webhook("n8n", "evt-bad", body)
    record = wait_for(lambda: (r := ledger.get("n8n", "evt-bad")) is not None and r.status != "accepted" and r)
    assert record.status == "failed"
    (letter,) = DeadLetterStore(db).list(channel="webhook")
    assert letter.key == "n8n:evt-bad" and "999999" in letter.reason
    assert DeadLetterStore(db).get(letter.id).payload == body  # type: ignore[union-attr] - replayable


def test_slack_mentions_are_acked_by_two_replicas_and_answered_once_by_a_worker(
    settings: Settings, db: Database, slack_api: Any, worker: Any
) -> None:
    from channels.serve import create_app as create_serve_app  # the app of `copilot serve`: with the Slack route
    from channels.slack.state import SlackState
    from tests.integration.test_slack_app import SECRET as SLACK_SECRET
    from tests.integration.test_slack_app import TOKEN, event_body, post, texts

    slack_settings = settings.model_copy(
        update={"slack_bot_token": SecretStr(TOKEN), "slack_signing_secret": SecretStr(SLACK_SECRET)}
    )
    slack_settings = slack_settings.model_copy(update={"slack_api_url": slack_api.url})
    worker.copilot_settings = slack_settings  # the worker's Slack client posts to the stand-in too
    mention = {
        "type": "app_mention",
        "user": "UADMIN",
        "text": "<@UBOT> what's the status of P00012?",
        "ts": "1700000100.000200",
        "channel": "C1",
        "event_ts": "1700000100.000200",
    }
    body = event_body(mention, "Ev0001")
    with TestClient(create_serve_app(slack_settings)) as one, TestClient(create_serve_app(slack_settings)) as two:
        started = time.monotonic()
        assert post(one, body, form=False).status_code == 200
        assert post(two, body, form=False, headers={"X-Slack-Retry-Num": "1"}).status_code == 200  # a retry
        acked = time.monotonic() - started
        posted = slack_api.wait_for("chat.postMessage", timeout=90)
        time.sleep(1.0)  # a second answer would have arrived by now
    assert acked < 3.0  # both acknowledged at once; the answer came from the worker
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert posted[0].args["thread_ts"] == "1700000100.000200" and "P00012" in texts(posted[0].args["blocks"])
    assert SlackState(db).seen("answered:Ev0001")  # by the worker's task, not by a replica


def test_a_slack_mention_whose_replica_died_before_queueing_it_is_answered_once_after_slacks_retry(
    settings: Settings, db: Database, slack_api: Any, worker: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from channels.serve import create_app as create_serve_app
    from channels.slack.state import HANDOVER_GRACE, SlackState
    from tests.integration.test_slack_app import SECRET as SLACK_SECRET
    from tests.integration.test_slack_app import TOKEN, event_body, post

    slack_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(TOKEN),
            "slack_signing_secret": SecretStr(SLACK_SECRET),
            "slack_api_url": slack_api.url,
        }
    )
    worker.copilot_settings = slack_settings
    mention = {
        "type": "app_mention",
        "user": "UADMIN",
        "text": "<@UBOT> what's the status of P00012?",
        "ts": "1700000200.000300",
        "channel": "C1",
        "event_ts": "1700000200.000300",
    }
    body = event_body(mention, "Ev0009")
    died = datetime.now(UTC) - HANDOVER_GRACE - timedelta(seconds=50)
    assert SlackState(db).first_time("event:Ev0009", now=died)  # replica 1 deduped it, then died: no ack
    with TestClient(create_serve_app(slack_settings)) as two:
        assert post(two, body, form=False, headers={"X-Slack-Retry-Num": "2"}).status_code == 200  # a minute later
        assert post(two, body, form=False, headers={"X-Slack-Retry-Num": "3"}).status_code == 200  # then a duplicate
        slack_api.wait_for("chat.postMessage", timeout=90)
        time.sleep(1.0)  # a second answer would have arrived by now
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # answered exactly once


def test_the_mailbox_poll_queues_each_new_message_once_and_the_worker_flags_it_done(
    settings: Settings, db: Database, dovecot: Any, redis: RedisServer
) -> None:
    from channels.worker.names import MAIL_POLL_TASK
    from channels.worker.runtime import close_runtime
    from tests.integration.conftest import deliver, flags

    user = dovecot.new_user()
    mail_settings = settings.model_copy(
        update={
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_tls": "none",
            "imap_user": user.login,
            "imap_password": SecretStr(user.password),
        }
    )
    others = [(EMAILS / name).read_bytes() for name in ("03_p00008_price_change.eml", "02_p00002_new_ship_date.eml")]
    uids = deliver(mail_settings, SUPPLIER, *others)
    app = worker_app(mail_settings)
    app.send_task(MAIL_POLL_TASK)
    app.send_task(MAIL_POLL_TASK)  # a second poll before the first messages are done: nothing queued twice
    ledger = EmailLedger(db)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=30):
        wait_for(lambda: ledger.counts() == {"done": 3})
        done = wait_for(lambda: (f := flags(mail_settings)) and all(b"\\Seen" in f[uid] for uid in uids) and f)
        app.send_task(MAIL_POLL_TASK)  # nothing left to do
        time.sleep(1.0)
    close_runtime(app)
    assert set(done) == set(uids)
    assert ledger.counts() == {"done": 3}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 3  # each message delivered once


def test_with_redis_away_a_webhook_gets_503_and_its_retry_is_not_a_duplicate(tmp_path: Path) -> None:
    from tests.servers.dovecot import free_port

    settings = make_copilot_settings(
        tmp_path / "data", redis_url=f"redis://127.0.0.1:{free_port()}/0", webhook_secrets=f"n8n:{SECRET}"
    )
    body, headers = signed({"type": "question", "text": "Is P00009 late?"}, "evt-away")
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        refused = client.post("/v1/webhooks/n8n", content=body, headers=headers)
        assert time.monotonic() - started < 5  # the sender is not kept waiting
        assert refused.status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "workers" in ready.json()["failing"]
        assert EventLedger(client.app.state.db).get("n8n", "evt-away") is None  # type: ignore[attr-defined]


def test_an_event_whose_replica_died_before_queueing_it_is_run_once_after_the_senders_retry(
    settings: Settings, db: Database, worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import channels.http.routes.webhooks as webhooks

    runs: list[str] = []
    real_run_event = webhooks.run_event

    def counting_run_event(copilot: Any, source: str, event: Any, **kwargs: Any) -> Any:
        runs.append(source)
        return real_run_event(copilot, source, event, **kwargs)

    monkeypatch.setattr(webhooks, "run_event", counting_run_event)
    ledger = EventLedger(db)
    body, headers = signed({"type": "question", "text": "Is P00009 late?"}, "evt-lost")
    with TestClient(create_app(settings)) as replica_two:
        replica_two.app.state.webhook_events.grace = 1.0  # type: ignore[attr-defined]
        assert ledger.claim("n8n", "evt-lost", headers[SIGNATURE_HEADER], "question")  # replica 1 died here
        retry_body, retry_headers = signed({"type": "question", "text": "Is P00009 late?"}, "evt-lost")
        early = replica_two.post("/v1/webhooks/n8n", content=retry_body, headers=retry_headers)
        assert early.json()["status"] == "duplicate"  # within the grace period: a plain duplicate
        time.sleep(1.2)
        taken = replica_two.post("/v1/webhooks/n8n", content=retry_body, headers=retry_headers)
        assert taken.status_code == 202, taken.text  # the sender's retry takes the event over
        record = wait_for(lambda: (r := ledger.get("n8n", "evt-lost")) is not None and r.status != "accepted" and r)
        time.sleep(1.2)
        late = replica_two.post("/v1/webhooks/n8n", content=retry_body, headers=retry_headers)
        assert late.json()["status"] == "duplicate"  # finished: a retry of it is a duplicate
    assert record.status == "done", record.error
    assert "P00009" in json.dumps(record.result)
    TaskQueue(settings, worker).webhook("n8n", "evt-lost", body)  # a stray copy of the task: not run again
    time.sleep(1.0)
    assert runs == ["n8n"]  # processed exactly once
