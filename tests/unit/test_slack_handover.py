"""Slack deliveries on a work queue: queued before the ack, and taken over by Slack's retry if never handed over.

The dedupe middleware is called directly (no HTTP, no Slack API): what matters is its order of work and
what the shared ``slack_seen`` row says afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt import BoltRequest, BoltResponse

from channels.slack.app import QUEUED, SlackChannel
from channels.slack.state import HANDOVER_GRACE
from copilot.config import Settings
from copilot.state import Database


class Replica:
    """One replica's Slack channel with a recording queue, and the order in which it queued and acked."""

    def __init__(self, tmp_path: Path, *, queue: bool = True, queue_up: bool = True) -> None:
        settings = Settings(data_dir=tmp_path, slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("s"))
        self.db = Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}")
        self.order: list[str] = []
        self.queue_up = queue_up
        self.channel = SlackChannel(settings, lambda: None, db=self.db, enqueue=self._enqueue if queue else None)  # type: ignore[arg-type, return-value]

    def _enqueue(self, kind: str, body: dict[str, Any]) -> str:
        if not self.queue_up:
            raise ConnectionError("Redis away")
        self.order.append(f"queued {kind} {body.get('event_id')}")
        return "task-1"

    def deliver(self, body: dict[str, Any], *, retry: int = 0) -> BoltRequest:
        """Run the dedupe middleware on one delivery; the ack (its response, or the listeners') is recorded."""
        headers = {"content-type": ["application/json"]} | ({"x-slack-retry-num": [str(retry)]} if retry else {})
        request = BoltRequest(body=json.dumps(body), headers=headers, mode="http")

        acked = f"acked {body.get('event_id') or body.get('trigger_id')}"

        def listeners() -> BoltResponse:  # the listeners ack a delivery this replica answers itself
            self.order.append(acked)
            return BoltResponse(status=200, body="")

        response = self.channel._dedupe(request, BoltResponse(status=200, body=""), listeners)
        assert response.status == 200
        if request.context.get(QUEUED):  # queued: the middleware's own response is the ack
            self.order.append(acked)
        return request

    def close(self) -> None:
        self.channel.close()
        self.db.close()


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Replica]:
    one = Replica(tmp_path)
    yield one
    one.close()


def mention(event_id: str) -> dict[str, Any]:
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> status of P00012?", "channel": "C1", "ts": "1.2"}
    return {"type": "event_callback", "event_id": event_id, "event": event}


def test_a_mention_is_queued_before_slack_gets_its_ack_and_its_retry_is_a_duplicate(replica: Replica) -> None:
    request = replica.deliver(mention("Ev1"))
    assert replica.order == ["queued mention Ev1", "acked Ev1"]
    assert request.context[QUEUED]  # the lazy listener does not queue or answer it again
    replica.deliver(mention("Ev1"), retry=1)
    assert replica.order == ["queued mention Ev1", "acked Ev1"]
    later = datetime.now(UTC) + HANDOVER_GRACE + timedelta(minutes=1)
    assert not replica.channel.state.first_time("event:Ev1", now=later)  # handed over: a duplicate for good


def test_slacks_retry_takes_over_a_delivery_whose_replica_died_before_queueing_it(replica: Replica) -> None:
    died = datetime.now(UTC) - HANDOVER_GRACE - timedelta(seconds=50)
    assert replica.channel.state.first_time("event:Ev2", now=died)  # seen by a replica that then died: no ack
    replica.deliver(mention("Ev2"), retry=1)  # Slack's retry a minute later
    assert replica.order == ["queued mention Ev2", "acked Ev2"]
    replica.deliver(mention("Ev2"), retry=2)
    assert replica.order == ["queued mention Ev2", "acked Ev2"]  # once


def test_a_retry_while_the_first_delivery_may_still_be_queueing_is_a_duplicate(replica: Replica) -> None:
    assert replica.channel.state.first_time("event:Ev3", now=datetime.now(UTC) - timedelta(seconds=1))
    replica.deliver(mention("Ev3"), retry=1)
    assert replica.order == []


def test_with_the_queue_away_the_replica_acks_and_answers_itself_and_a_retry_is_a_duplicate(tmp_path: Path) -> None:
    replica = Replica(tmp_path, queue_up=False)
    try:
        request = replica.deliver(mention("Ev4"))
        assert replica.order == ["acked Ev4"] and not request.context.get(QUEUED)  # the lazy listener answers
        later = datetime.now(UTC) + HANDOVER_GRACE + timedelta(seconds=1)
        assert not replica.channel.state.first_time("event:Ev4", now=later)
    finally:
        replica.close()


def test_without_a_queue_a_command_is_handed_over_once_acked(tmp_path: Path) -> None:
    replica = Replica(tmp_path, queue=False)
    try:
        command = {"command": "/copilot", "text": "ask hi", "user_id": "U1", "trigger_id": "T1"}
        replica.deliver(command)
        assert replica.order == ["acked T1"]
        later = datetime.now(UTC) + HANDOVER_GRACE + timedelta(seconds=1)
        assert not replica.channel.state.first_time("trigger:T1", now=later)
    finally:
        replica.close()


def test_a_queued_mention_is_claimed_queued_and_marked_handed_over_in_one_database_transaction(
    replica: Replica,
) -> None:
    from sqlalchemy import event

    transactions: list[str] = []
    event.listen(replica.db.engine, "begin", lambda _conn: transactions.append("begin"))
    replica.deliver(mention("Ev5"))
    assert replica.order == ["queued mention Ev5", "acked Ev5"]
    assert transactions == ["begin"]  # the ack waits on one commit, not one per step
    later = datetime.now(UTC) + HANDOVER_GRACE + timedelta(minutes=1)
    assert not replica.channel.state.first_time("event:Ev5", now=later)  # handed over in that same commit
