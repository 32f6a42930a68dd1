"""Exactly-once across processes on a real PostgreSQL: several workers reach for the same email, event or key.

Each "worker" has its own ``Database`` (its own connection pool, as a separate process would) and all
start at the same instant (a barrier); the database must let exactly one of them through.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from channels.email.ledger import EmailLedger
from channels.email.router import Outcome
from channels.email.worker import MailWorker
from channels.http.idempotency import IdempotencyInProgress, IdempotencyStore
from channels.http.webhook_events import QUEUE_GRACE_SECONDS, EventLedger
from channels.slack.state import HANDOVER_GRACE, SlackState
from copilot.config import load_settings
from copilot.state import Database
from tests.concurrency import race

pytestmark = pytest.mark.postgres

WORKERS = 6
WHERE = {"folder": "INBOX", "uidvalidity": 7, "uid": 1}
SUPPLIER = (Path(__file__).resolve().parents[1] / "fixtures" / "emails" / "04_p00009_partial_shipment.eml").read_bytes()


@pytest.fixture
def databases(postgres: Any) -> Iterator[list[Database]]:
    """One migrated PostgreSQL database opened by ``WORKERS`` separate pools (one per simulated process)."""
    url = postgres.create_database()
    dbs = [Database.open(url) for _ in range(WORKERS)]
    yield dbs
    for db in dbs:
        db.close()


def test_of_several_workers_claiming_the_same_email_exactly_one_wins(databases: list[Database]) -> None:
    ledgers = [EmailLedger(db) for db in databases]
    results = race(WORKERS, lambda i: ledgers[i].claim("mid:<a@x>", owner=f"task-{i}", lease=60, **WHERE))
    assert results.count("claimed") == 1 and results.count("busy") == WORKERS - 1
    winner = f"task-{results.index('claimed')}"
    ledgers[0].finish("mid:<a@x>", status="done", kind="supplier", outcome="posted", **WHERE)
    again = race(WORKERS, lambda i: ledgers[i].claim("mid:<a@x>", owner=winner, lease=60, **WHERE))
    assert again == ["done"] * WORKERS  # finished: never processed again, not even by its own redelivery


def test_a_claim_is_taken_back_by_its_own_redelivery_at_once_and_by_others_after_its_lease(
    databases: list[Database],
) -> None:
    ledger = EmailLedger(databases[0])
    now = time.time()
    assert ledger.claim("mid:<b@x>", owner="task-1", lease=30, now=now, **WHERE) == "claimed"
    assert ledger.claim("mid:<b@x>", owner="task-2", lease=30, now=now + 1, **WHERE) == "busy"
    assert ledger.claim("mid:<b@x>", owner="task-1", lease=30, now=now + 2, **WHERE) == "claimed"  # redelivered
    assert ledger.claim("mid:<b@x>", owner="task-2", lease=30, now=now + 40, **WHERE) == "claimed"  # task-1 died
    assert ledger.claim("mid:<b@x>", owner="task-1", lease=30, now=now + 41, **WHERE) == "busy"


def test_two_mail_workers_on_the_same_message_route_it_once(databases: list[Database], tmp_path: Path) -> None:
    """Two processes given the same email at once (a poll's duplicate, a redelivery): one routes it."""
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    routed: list[int] = []

    def slow_route(i: int) -> Callable[..., Outcome]:
        def route(key: str, email: Any) -> Outcome:
            routed.append(i)
            time.sleep(0.3)  # long enough for the other worker to arrive while this one works
            return Outcome("supplier", "posted")

        return route

    workers = [MailWorker(settings, SimpleNamespace(db=db)) for db in databases[:2]]  # type: ignore[arg-type]
    for i, worker in enumerate(workers):
        worker.router.route = slow_route(i)  # type: ignore[method-assign]
    results = race(2, lambda i: workers[i].process(SUPPLIER, **WHERE))
    assert len(routed) == 1
    assert sorted(r.status for r in results) == ["deferred", "processed"]
    assert workers[0].ledger.status(results[0].key) == "done"
    assert workers[1].process(SUPPLIER, **WHERE).status == "skipped" and len(routed) == 1


def test_a_webhook_event_is_accepted_by_one_replica_and_run_by_one_worker(databases: list[Database]) -> None:
    ledgers = [EventLedger(db) for db in databases]
    accepted = race(WORKERS, lambda i: ledgers[i].claim("n8n", "evt-1", f"sha256=sig-{i}", "question.asked"))
    assert accepted.count(True) == 1  # the others answer "duplicate"
    started = race(WORKERS, lambda i: ledgers[i].start("n8n", "evt-1", owner=f"task-{i}", lease=60))
    assert started.count("claimed") == 1 and started.count("busy") == WORKERS - 1
    owner = f"task-{started.index('claimed')}"
    assert ledgers[1].start("n8n", "evt-1", owner=owner, lease=60) == "claimed"  # its redelivery takes it back
    ledgers[2].finish("n8n", "evt-1", result={"answer": "late"})
    assert ledgers[3].start("n8n", "evt-1", owner=owner, lease=60) == "done"
    assert ledgers[4].start("n8n", "evt-unknown", owner=owner, lease=60) == "unknown"


def test_concurrent_requests_with_one_idempotency_key_run_once(databases: list[Database]) -> None:
    stores = [IdempotencyStore(db) for db in databases]

    def begin(i: int) -> str:
        try:
            return "run" if stores[i].begin("client", "key-1", "print") is None else "replayed"
        except IdempotencyInProgress:
            return "409"

    results = race(WORKERS, begin)
    assert results.count("run") == 1 and results.count("409") == WORKERS - 1


def test_a_slack_delivery_seen_by_several_replicas_is_answered_once(databases: list[Database]) -> None:
    states = [SlackState(db) for db in databases]
    assert race(WORKERS, lambda i: states[i].first_time("event:Ev42")).count(True) == 1


def test_the_audit_chain_stays_whole_when_several_processes_append_at_once(databases: list[Database]) -> None:
    from copilot.audit.trail import AuditTrail
    from tests.unit.test_audit import entry

    trails = [AuditTrail(db, key="k" * 32) for db in databases]
    race(WORKERS, lambda i: [trails[i].append(entry(i * 10 + n)) for n in range(5)])
    report = trails[0].verify(stored_anchor=False)
    assert report.ok, report
    assert trails[0].count() == WORKERS * 5


def test_an_event_whose_replica_died_before_queueing_it_is_taken_over_by_one_replica_and_run_once(
    databases: list[Database],
) -> None:
    clock = {"now": time.time()}
    ledgers = [EventLedger(db, clock=lambda: clock["now"]) for db in databases]
    assert ledgers[0].claim("n8n", "evt-lost", "sha256=first", "question")  # replica 0 dies before queueing it
    assert ledgers[0].claim("n8n", "evt-dup", "sha256=dup", "question")
    ledgers[0].mark_queued("n8n", "evt-dup")
    clock["now"] += 1
    early = race(WORKERS, lambda i: ledgers[i].claim("n8n", "evt-lost", f"sha256=early-{i}", "question"))
    assert early == [False] * WORKERS  # within the grace period: duplicates, as before

    clock["now"] += QUEUE_GRACE_SECONDS
    retried = race(WORKERS, lambda i: ledgers[i].claim("n8n", "evt-lost", f"sha256=retry-{i}", "question"))
    assert retried.count(True) == 1  # every replica got the sender's retry at once: one takes it over
    winner = ledgers[retried.index(True)]
    winner.mark_queued("n8n", "evt-lost")
    queued = race(WORKERS, lambda i: ledgers[i].claim("n8n", "evt-dup", f"sha256=dup-{i}", "question"))
    assert queued == [False] * WORKERS  # a retry of a queued event stays a duplicate

    started = race(WORKERS, lambda i: ledgers[i].start("n8n", "evt-lost", owner=f"task-{i}", lease=60))
    assert started.count("claimed") == 1  # the queued task (and any stray copy): run once
    winner.finish("n8n", "evt-lost", result={"text": "answered"})
    clock["now"] += 10 * QUEUE_GRACE_SECONDS
    finished = race(WORKERS, lambda i: ledgers[i].claim("n8n", "evt-lost", f"sha256=late-{i}", "question"))
    assert finished == [False] * WORKERS  # a retry of a finished event is a duplicate
    record = ledgers[0].get("n8n", "evt-lost")
    assert record is not None and record.status == "done" and record.result == {"text": "answered"}


def test_a_slack_delivery_whose_replica_died_before_queueing_it_is_taken_over_by_one_replica(
    databases: list[Database],
) -> None:
    states = [SlackState(db) for db in databases]
    died = datetime.now(UTC) - HANDOVER_GRACE - timedelta(seconds=50)
    assert states[0].first_time("event:Ev77", now=died)  # seen, never queued: no ack, Slack retries
    assert states[0].first_time("event:Ev78", now=died)
    states[0].handed("event:Ev78", now=died)
    assert race(WORKERS, lambda i: states[i].first_time("event:Ev77")).count(True) == 1
    assert race(WORKERS, lambda i: states[i].first_time("event:Ev78")) == [False] * WORKERS
