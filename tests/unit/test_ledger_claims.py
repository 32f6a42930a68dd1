"""Claims on the embedded SQLite database (the single-process default): the same rules as on PostgreSQL.

The races themselves, with several processes on a real PostgreSQL, are in tests/integration/test_claims.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.email.ledger import EmailLedger
from channels.http.webhook_events import QUEUE_GRACE_SECONDS, EventLedger
from channels.slack.state import HANDOVER_GRACE, SEEN_TTL, SlackState
from copilot.state import Database

WHERE = {"folder": "INBOX", "uidvalidity": 7, "uid": 3}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield database
    database.close()


def test_an_email_claim_excludes_others_until_finished_failed_or_expired(db: Database) -> None:
    ledger = EmailLedger(db)
    assert ledger.claim("mid:<a@x>", owner="A", lease=60, now=1000, **WHERE) == "claimed"
    assert ledger.claim("mid:<a@x>", owner="B", lease=60, now=1001, **WHERE) == "busy"
    assert ledger.record_failure("mid:<a@x>", error="Odoo away", **WHERE) == 1  # released for the retry
    assert ledger.claim("mid:<a@x>", owner="B", lease=60, now=1002, **WHERE) == "claimed"
    ledger.release("mid:<a@x>", owner="A")  # not A's any more: nothing changes
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1003, **WHERE) == "busy"
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1063, **WHERE) == "claimed"  # B's lease ran out
    ledger.finish("mid:<a@x>", status="parked", outcome="gave up", **WHERE)
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1064, **WHERE) == "parked"
    assert ledger.attempts("mid:<a@x>") == 1 and ledger.uid_status("INBOX", 7, 3) == "parked"


def test_a_webhook_event_runs_only_while_accepted(db: Database) -> None:
    ledger = EventLedger(db, clock=lambda: 1000.0)
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "unknown"
    assert ledger.claim("n8n", "e1", "sha256=x", "question")
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "claimed"
    assert ledger.start("n8n", "e1", owner="U", lease=60) == "busy"
    ledger.finish("n8n", "e1", error="OdooNotFound: no ticket")
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "failed"
    record = ledger.get("n8n", "e1")
    assert record is not None and record.status == "failed"


class Clock:
    """A settable clock for the ledger (Unix seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_retry_of_an_event_its_replica_never_queued_takes_it_over_after_the_grace_period(db: Database) -> None:
    clock = Clock(1000.0)
    ledger = EventLedger(db, clock=clock)
    assert ledger.claim("n8n", "e1", "sha256=first", "question")  # the replica dies before queueing it
    clock.now += 1
    assert not ledger.claim("n8n", "e1", "sha256=retry-1", "question")  # within the grace: a duplicate
    clock.now = 1000.0 + QUEUE_GRACE_SECONDS + 1
    assert ledger.claim("n8n", "e1", "sha256=retry-2", "question")  # taken over: this replica queues it
    assert not ledger.claim("n8n", "e1", "sha256=retry-3", "question")  # one taker only
    ledger.mark_queued("n8n", "e1")
    clock.now += 10 * QUEUE_GRACE_SECONDS
    assert not ledger.claim("n8n", "e1", "sha256=retry-4", "question")  # queued now: a duplicate for good
    record = ledger.get("n8n", "e1")
    assert record is not None and record.status == "accepted" and record.queued_at == 1000.0 + QUEUE_GRACE_SECONDS + 1
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "claimed"  # and a worker runs it, once


def test_a_retry_of_a_queued_started_or_finished_event_stays_a_duplicate(db: Database) -> None:
    clock = Clock(1000.0)
    ledger = EventLedger(db, clock=clock)
    for event_id in ("queued", "started", "done", "failed"):
        assert ledger.claim("n8n", event_id, f"sha256={event_id}", "question")
    ledger.mark_queued("n8n", "queued")
    assert ledger.start("n8n", "started", owner="T", lease=60) == "claimed"  # queued, its mark lost with the replica
    ledger.finish("n8n", "done", result={"text": "ok"})
    ledger.finish("n8n", "failed", error="OdooNotFound: no ticket")
    clock.now += QUEUE_GRACE_SECONDS + 1
    for event_id in ("queued", "started", "done", "failed"):
        assert not ledger.claim("n8n", event_id, f"sha256={event_id}-retry", "question"), event_id
    clock.now += 120  # the worker's lease ran out: its task's redelivery resumes it, not the sender's retry
    assert not ledger.claim("n8n", "started", "sha256=started-late", "question")


def test_a_slack_delivery_never_handed_over_is_taken_over_by_a_later_retry(db: Database) -> None:
    state = SlackState(db)
    seen = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert state.first_time("event:Ev1", now=seen)  # the replica dies before queueing it
    assert not state.first_time("event:Ev1", now=seen + timedelta(seconds=1))  # Slack's quick retry: too soon
    late = seen + HANDOVER_GRACE + timedelta(seconds=50)  # Slack's retry a minute later
    assert state.first_time("event:Ev1", now=late)
    assert not state.first_time("event:Ev1", now=late)  # one taker only
    state.handed("event:Ev1", now=late)
    assert not state.first_time("event:Ev1", now=late + timedelta(minutes=5))  # handed over: a duplicate


def test_a_slack_delivery_handed_over_or_a_workers_marker_stays_a_duplicate(db: Database) -> None:
    state = SlackState(db)
    seen = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert state.first_time("event:Ev2", now=seen)
    state.handed("event:Ev2", now=seen)
    assert state.first_time("answered:Ev2", now=seen, handed=True)
    for key in ("event:Ev2", "answered:Ev2"):
        assert not state.first_time(key, now=seen + timedelta(minutes=5)), key
    assert state.first_time("event:Ev2", now=seen + SEEN_TTL + timedelta(seconds=1))  # forgotten after the TTL
