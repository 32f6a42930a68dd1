"""The exception digest through the Slack stand-in: one message per owner, and its buttons as Slack drives them.

The sink posts to the recording Web API stand-in (``tests/fakes/slack_api.py``); clicks are signed requests
to ``POST /slack/events`` of a FastAPI app (``mount_slack``) whose facade is a fake recording what it is asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from slack_sdk import WebClient

from channels.slack import digest, mount_slack
from channels.slack.notify import SlackUnavailable
from channels.slack.sink import SlackDigestSink, slack_digest_sink
from channels.slack.text import NO_ODOO_USER
from copilot.approvals import Decision, Mode, Proposal, RiskTier
from copilot.approvals.backends import RequestRecord
from copilot.approvals.schemas import DiffLine, Expedite, RequestState, Target
from copilot.citations import Citation
from copilot.config import Settings, load_settings
from copilot.controls.model import Delivery, Finding, TrackedException
from copilot.errors import AccessDenied
from copilot.identity import Actor
from copilot.service import ProposalOutcome
from copilot.state import Database, DeadLetterStore
from tests.fakes.slack_api import FakeSlackAPI, SlackUser
from tests.integration.test_slack_app import interaction_body, post

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-fake"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ROLES = {"admin@example.com": "manager", "agent@example.com": "customer_service"}


def expedite() -> Proposal:
    return Proposal(
        title="Expedite P00009",
        payload=Expedite(po_id=9, po_name="P00009", vendor_id=3, message="Please deliver P00009 sooner."),
        target=Target(model="purchase.order", id=9, display_name="P00009", write_date=None),
        diff=[DiffLine(field="Message to vendor", before="", after="Please deliver P00009 sooner.")],
        source="orders_at_risk",
    )


def delivery(key: str, owner: str, severity: str = "high", *, proposal: bool = False) -> Delivery:
    finding = Finding(
        control="late_po",
        key=key,
        severity=severity,  # type: ignore[arg-type]
        score=1.0,
        title=f"Late receipt {key}",
        reason="The receipt is 3 days late.",
        record=Citation(model="purchase.order", id=9, display_name="P00009"),
        evidence=[Citation(model="sale.order", id=24, display_name="S00024")],
        proposals=[expedite().model_dump(mode="json")] if proposal else [],
    )
    tracked = TrackedException(finding=finding, state="open", first_seen=NOW - timedelta(days=1), last_seen=NOW)
    return Delivery(change="new", owner=owner, exception=tracked)


class FakeFacade:
    """The facade's exception methods and ``propose``, recording who asked; ``manager`` may, others may not."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self.gate = threading.Event()
        self.gate.set()

    def actor_for(self, *, channel: str, external_id: str, email: str | None, name: str | None = None) -> Actor:
        return Actor(channel=channel, external_id=external_id, email=email, name=name, role=ROLES.get(email or ""))  # type: ignore[arg-type]

    def _allow(self, actor: Actor, what: str) -> None:
        if actor.role != "manager":
            raise AccessDenied(f"{actor.role} may not {what} exceptions")

    def acknowledge_exception(self, actor: Actor, control: str, key: str) -> TrackedException:
        self.gate.wait(10)
        self._allow(actor, "acknowledge")
        self.calls.append(("acknowledge", actor.external_id, (control, key)))
        finding = delivery(key, "#purchasing").exception.finding
        return TrackedException(
            finding=finding, state="acknowledged", first_seen=NOW, last_seen=NOW, acknowledged_by=actor.name
        )

    def snooze_exception(self, actor: Actor, control: str, key: str, until: datetime) -> TrackedException:
        self._allow(actor, "snooze")
        self.calls.append(("snooze", actor.external_id, (control, key, until)))
        finding = delivery(key, "#purchasing").exception.finding
        return TrackedException(finding=finding, state="snoozed", first_seen=NOW, last_seen=NOW, snoozed_until=until)

    def propose(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        self.calls.append(("propose", actor.external_id, (proposal.idempotency_key,)))
        decision = Decision(mode=Mode.APPROVAL, tier=RiskTier.LOW, reasons=[], approvers_needed=1, expires_at=NOW)
        request = RequestRecord(
            id=7,
            name="AR/0007",
            action_type="expedite",
            state=RequestState.PENDING,
            risk_tier=RiskTier.LOW,
            target_model="purchase.order",
            target_id=9,
            target_name="P00009",
            idempotency_key=proposal.idempotency_key,
            approvals_required=1,
            requested_by=actor.email,
            expires_at=None,
            execution_outcome=None,
            proposal=proposal,
            created=True,
        )
        return ProposalOutcome(decision=decision, request=request)


def settings_for(tmp_path: Path, api: FakeSlackAPI) -> Settings:
    return load_settings(
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api.url,
        odoo_url="https://erp.example.com",
        odoo_db="prod",
        odoo_password="x",
        slack_owner_channels={"buyer": "#purchasing-team", "manager": "C0MANAGERS"},
    )


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    users = [
        SlackUser("UADMIN", "admin@example.com", "Mitchell Admin"),
        SlackUser("UAGENT", "agent@example.com", "Joel Agent"),
        SlackUser("USTRANGER", "stranger@example.org", "Someone Else"),
    ]
    with FakeSlackAPI(users=users) as fake:
        yield fake


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield database
    database.close()


def sink_for(settings: Settings, api: FakeSlackAPI, db: Database, **kwargs: Any) -> SlackDigestSink:
    sink = slack_digest_sink(settings, WebClient(token=TOKEN, base_url=api.url), db=db)
    for name, value in kwargs.items():
        setattr(sink, name, value)
    return sink


# -- the sink --------------------------------------------------------------------------------------------------
def test_the_same_delivery_list_through_the_sink_posts_one_message_per_owner(
    tmp_path: Path, api: FakeSlackAPI, db: Database
) -> None:
    sink = sink_for(settings_for(tmp_path, api), api, db)
    deliveries = [
        delivery("a", "#purchasing", "critical"),
        delivery("b", "#purchasing", "low"),
        delivery("c", "buyer"),
        delivery("d", "C0123ABCD"),
        delivery("e", "manager"),
    ]
    owners: dict[str, list[Delivery]] = {}
    for item in deliveries:
        owners.setdefault(item.owner, []).append(item)
    for owner, items in owners.items():
        sink.deliver(owner, items)
    posted = api.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posted] == ["#purchasing", "#purchasing-team", "C0123ABCD", "C0MANAGERS"]
    first = json.dumps(posted[0].args["blocks"])
    assert "Late receipt a" in first and "Late receipt b" in first and "Late receipt c" not in first
    for owner, items in owners.items():  # the same deliveries again (a retry): nothing posted twice
        sink.deliver(owner, items)
    assert len(api.calls_to("chat.postMessage")) == 4
    assert not DeadLetterStore(db).list()


def test_an_exception_that_worsens_is_posted_again_marked_worse(
    tmp_path: Path, api: FakeSlackAPI, db: Database
) -> None:
    sink = sink_for(settings_for(tmp_path, api), api, db)
    first = delivery("a", "#purchasing", "medium")
    sink.deliver("#purchasing", [first])
    worse = first.model_copy(deep=True)
    worse.change = "worsened"
    worse.exception.finding.severity = "critical"
    worse.exception.finding.score = 3.0
    worse.exception.sent_severity = "medium"
    sink.deliver("#purchasing", [worse])
    posted = api.calls_to("chat.postMessage")
    assert len(posted) == 2
    shown = json.dumps(posted[1].args["blocks"])
    assert "*worse* (was medium)" in shown and "Critical" in shown


def test_an_owner_role_without_a_channel_is_parked_not_dropped(tmp_path: Path, api: FakeSlackAPI, db: Database) -> None:
    sink = sink_for(settings_for(tmp_path, api), api, db)
    sink.deliver("evaluator", [delivery("a", "evaluator")])
    assert not api.calls_to("chat.postMessage")
    [letter] = DeadLetterStore(db).list()
    assert letter.channel == "slack" and "COPILOT_SLACK_OWNER_CHANNELS" in letter.reason
    stored = DeadLetterStore(db).get(letter.id)
    assert stored is not None and "Late receipt a" in stored.text


def test_slack_away_is_retried_then_parked_and_raised(tmp_path: Path, api: FakeSlackAPI, db: Database) -> None:
    pauses: list[float] = []
    sink = sink_for(settings_for(tmp_path, api), api, db, sleep=pauses.append)
    api.fail_methods["chat.postMessage"] = "ratelimited"
    with pytest.raises(SlackUnavailable):
        sink.deliver("#purchasing", [delivery("a", "#purchasing")])
    assert len(api.calls_to("chat.postMessage")) == sink.attempts == 3 and pauses == [1.0, 2.0]
    [letter] = DeadLetterStore(db).list()
    assert "ratelimited" in letter.reason
    del api.fail_methods["chat.postMessage"]  # back: the next run's delivery goes through
    sink.deliver("#purchasing", [delivery("a", "#purchasing")])
    assert len(api.calls_to("chat.postMessage")) == 4


def test_a_channel_slack_refuses_is_parked_without_retrying(tmp_path: Path, api: FakeSlackAPI, db: Database) -> None:
    sink = sink_for(settings_for(tmp_path, api), api, db, sleep=lambda s: None)
    api.fail_methods["chat.postMessage"] = "channel_not_found"
    sink.deliver("#gone", [delivery("a", "#gone")])
    assert len(api.calls_to("chat.postMessage")) == 1
    [letter] = DeadLetterStore(db).list()
    assert "channel_not_found" in letter.reason


# -- the buttons -------------------------------------------------------------------------------------------------
@pytest.fixture
def slack(tmp_path: Path, api: FakeSlackAPI, db: Database) -> Iterator[tuple[TestClient, FakeFacade, dict[str, Any]]]:
    """The app with the Slack route on a fake facade, and one digest posted to #purchasing."""
    settings = settings_for(tmp_path, api)
    facade = FakeFacade()
    sink_for(settings, api, db).deliver(
        "#purchasing", [delivery("a", "#purchasing", proposal=True), delivery("b", "#purchasing")]
    )
    message = api.calls_to("chat.postMessage")[0].args
    app = FastAPI()
    channel = mount_slack(app, settings, lambda: facade, db=db)  # type: ignore[arg-type, return-value]
    with TestClient(app) as client:
        yield client, facade, message
    channel.close()


def click(api: FakeSlackAPI, message: dict[str, Any], action_id: str, key: str, *, user: str, trigger: str) -> str:
    """A click on one exception's button of the posted digest, as Slack posts it."""
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            ref = digest.ExceptionRef.parse(element.get("value"))
            if element.get("action_id") == action_id and ref is not None and ref.key == key:
                action = {**element, "block_id": block["block_id"], "action_ts": "1700000300.000100"}
                break
        else:
            continue
        break
    else:
        raise AssertionError(f"no {action_id} button for {key}")
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000001.000100", "channel_id": "C1", "is_ephemeral": False},
        "trigger_id": trigger,
        "team": {"id": "T1", "domain": "acme"},
        "channel": {"id": "C1", "name": "purchasing"},
        "message": {"type": "message", "ts": "1700000001.000100", "text": message["text"], "blocks": message["blocks"]},
        "response_url": api.response_url(trigger.replace(".", "")),
        "actions": [action],
    }
    return interaction_body(payload)


def buttons_of(blocks: list[dict[str, Any]], key: str) -> list[str]:
    ids = []
    for block in blocks:
        for element in block.get("elements") or []:
            ref = digest.ExceptionRef.parse(element.get("value"))
            if ref is not None and ref.key == key:
                ids.append(element["action_id"])
    return ids


def test_acknowledge_is_acked_at_once_then_done_as_the_clicker_and_the_message_says_who(
    slack: Any, api: FakeSlackAPI
) -> None:
    client, facade, message = slack
    facade.gate.clear()  # the facade is slow: the ack must not wait for it
    started = time.perf_counter()
    response = post(client, click(api, message, digest.ACK_ACTION_ID, "a", user="UADMIN", trigger="1.1"))
    acked = time.perf_counter() - started
    assert response.status_code == 200 and acked < 3.0 and not facade.calls
    facade.gate.set()
    [update] = api.wait_for("chat.update")
    assert facade.calls == [("acknowledge", "UADMIN", ("late_po", "a"))]
    assert update.args["channel"] == "C1" and update.args["ts"] == "1700000001.000100"
    shown = json.dumps(update.args["blocks"])
    assert "Acknowledged by Mitchell Admin" in shown
    assert buttons_of(update.args["blocks"], "a") == [] and digest.ACK_ACTION_ID in buttons_of(
        update.args["blocks"], "b"
    )
    assert not api.calls_to("response_url")


def test_snooze_snoozes_for_a_day_as_the_clicker_and_the_message_says_until_when(slack: Any, api: FakeSlackAPI) -> None:
    client, facade, message = slack
    before = datetime.now(UTC)
    post(client, click(api, message, digest.SNOOZE_ACTION_ID, "b", user="UADMIN", trigger="2.1"))
    [update] = api.wait_for("chat.update")
    [(verb, who, (control, key, until))] = facade.calls
    assert (verb, who, control, key) == ("snooze", "UADMIN", "late_po", "b")
    assert timedelta(hours=23) < until - before < timedelta(hours=25)
    assert f"Snoozed by Mitchell Admin until {until:%Y-%m-%d %H:%M} UTC" in json.dumps(update.args["blocks"])
    assert buttons_of(update.args["blocks"], "b") == []


def test_propose_submits_the_findings_first_proposal_as_the_clicker(slack: Any, api: FakeSlackAPI) -> None:
    client, facade, message = slack
    post(client, click(api, message, digest.PROPOSE_ACTION_ID, "a", user="UADMIN", trigger="3.1"))
    [update] = api.wait_for("chat.update")
    assert facade.calls == [("propose", "UADMIN", (expedite().idempotency_key,))]
    shown = json.dumps(update.args["blocks"])
    assert "Proposed by Mitchell Admin: approval request AR/0007 (pending" in shown
    assert buttons_of(update.args["blocks"], "a") == [digest.SNOOZE_ACTION_ID, digest.ACK_ACTION_ID]


def test_two_clicks_on_one_digest_both_stay_visible(slack: Any, api: FakeSlackAPI) -> None:
    client, _facade, message = slack
    post(client, click(api, message, digest.ACK_ACTION_ID, "a", user="UADMIN", trigger="4.1"))
    api.wait_for("chat.update")
    post(client, click(api, message, digest.ACK_ACTION_ID, "b", user="UADMIN", trigger="4.2"))  # the old blocks
    updates = api.wait_for("chat.update", 2)
    shown = json.dumps(updates[-1].args["blocks"])
    assert shown.count("Acknowledged by Mitchell Admin") == 2


@pytest.mark.parametrize(
    ("user", "refusal"),
    [("USTRANGER", NO_ODOO_USER), ("UAGENT", "Your Odoo role doesn't allow this: customer_service may not")],
)
def test_a_user_without_the_role_gets_an_ephemeral_refusal_and_the_digest_is_unchanged(
    slack: Any, api: FakeSlackAPI, user: str, refusal: str
) -> None:
    client, facade, message = slack
    post(client, click(api, message, digest.ACK_ACTION_ID, "a", user=user, trigger="5.1"))
    [answer] = api.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral" and answer.args["replace_original"] is False
    assert refusal in answer.args["text"]
    time.sleep(0.3)
    assert not api.calls_to("chat.update") and not facade.calls


def test_a_digest_that_cannot_be_updated_tells_the_clicker_and_is_parked(
    slack: Any, api: FakeSlackAPI, db: Database
) -> None:
    client, facade, message = slack
    api.fail_methods["chat.update"] = "message_not_found"
    post(client, click(api, message, digest.ACK_ACTION_ID, "a", user="UADMIN", trigger="6.1"))
    [answer] = api.wait_for("response_url")
    assert "Done, but I could not update the digest message." in answer.args["text"]
    assert facade.calls == [("acknowledge", "UADMIN", ("late_po", "a"))]
    [letter] = DeadLetterStore(db).list()
    assert letter.channel == "slack" and "acknowledge button" in letter.reason
