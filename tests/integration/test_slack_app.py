"""The Slack app as Slack drives it: requests signed exactly as Slack signs them, answers through the Web API.

Requests go to ``POST /slack/events`` of a FastAPI app (``mount_slack``) through Starlette's TestClient;
the Slack Web API and the ``response_url`` hooks are the recording stand-in (``tests/fakes/slack_api.py``);
Odoo is the sandbox. The signature is computed here from Slack's documented recipe (``v0:{ts}:{body}``,
HMAC-SHA256 with the signing secret), not with the SDK under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from channels.slack import mount_slack
from channels.slack.app import NO_ODOO_USER
from copilot.service import Copilot
from copilot.state import ConversationStore, Database, DeadLetterStore
from tests.fakes.slack_api import FakeSlackAPI
from tests.integration.conftest import make_copilot_settings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-fake"
REPO = Path(__file__).resolve().parents[2]
EMAILS = REPO / "tests" / "fixtures" / "emails"
SLOW = 90.0  # the first draft or summary loads the embedding model


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signing: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def command_body(api: FakeSlackAPI, text: str, *, user: str = "UADMIN", trigger: str = "13345224609.738474920") -> str:
    """A ``/copilot`` invocation as Slack posts it (form-encoded)."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "purchasing",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/copilot",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": api.response_url(trigger.replace(".", "")),
            "trigger_id": trigger,
        }
    )


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API callback as Slack posts it (JSON)."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_700_000_100,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """An interaction (shortcut, button) as Slack posts it: a form with one ``payload`` JSON field."""
    return urlencode({"payload": json.dumps(payload)})


def post(client: TestClient, body: str, *, form: bool = True, headers: dict[str, str] | None = None) -> Any:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return client.post(
        "/slack/events", content=body, headers={"Content-Type": content_type, **sign(body), **(headers or {})}
    )


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn/plain text in ``blocks``, joined: what a person reads."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        for element in block.get("elements") or []:
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else str(text or ""))
        accessory = block.get("accessory") or {}
        if accessory.get("text"):
            out.append(accessory["text"]["text"])
    return "\n".join(out)


def email_file(name: str, *, subject: str | None = None) -> dict[str, Any]:
    """A supplier email as Slack shares one it received (a file in ``mode: email``)."""
    msg = message_from_bytes((EMAILS / name).read_bytes())
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    sender_name, sender = parseaddr(str(msg["From"]))
    return {
        "id": "F0EMAIL1",
        "mode": "email",
        "filetype": "email",
        "created": 1_763_719_200,
        "subject": subject if subject is not None else str(msg["Subject"]),
        "from": [{"address": sender, "name": sender_name, "original": str(msg["From"])}],
        "to": [{"address": "purchasing@yourcompany.example.com", "name": "", "original": ""}],
        "plain_text": part.get_payload(decode=True).decode("utf-8"),
    }


@pytest.fixture
def slack(slack_api: FakeSlackAPI, copilot: Copilot, tmp_path: Path) -> Iterator[tuple[TestClient, FakeSlackAPI]]:
    """The FastAPI app with the Slack route, on the module's Copilot (sandbox Odoo, deterministic engine)."""
    settings = make_copilot_settings(
        tmp_path / "slack",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack_api.url,
    )
    # Slack answers on worker threads: a file-backed conversation store (the in-memory one is one connection)
    conversations = ConversationStore.from_settings(settings)
    app = FastAPI()
    app.state.copilot = Copilot(settings, copilot.odoo, conversations=conversations, components=copilot.components)
    channel = mount_slack(app, settings, db=conversations.db)
    with TestClient(app) as client:
        yield client, slack_api
    channel.close()
    conversations.close()


# -- ack fast, answer later ------------------------------------------------------------------------------
def test_slash_command_is_acked_within_3s_and_the_answer_arrives_later(slack: Any) -> None:
    client, api = slack
    body = command_body(api, "ask what's the status of P00012?")
    started = time.perf_counter()
    response = post(client, body)
    ack_seconds = time.perf_counter() - started
    print(f"\n/copilot ack latency: {ack_seconds * 1000:.0f} ms")
    assert response.status_code == 200 and ack_seconds < 3.0
    assert "Working on it" in response.json()["text"]
    answer = api.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral"
    shown = texts(answer["blocks"])
    assert "P00012" in shown and "Ready Mat" in shown and "Sources:" in shown
    assert [c.args["user"] for c in api.calls_to("users.info")] == ["UADMIN"]


def test_a_replayed_event_or_command_never_gets_a_second_answer(slack: Any) -> None:
    client, api = slack
    mention = {
        "type": "app_mention",
        "user": "UADMIN",
        "text": "<@UBOT> what's the status of P00012?",
        "ts": "1700000100.000200",
        "channel": "C1",
        "event_ts": "1700000100.000200",
    }
    body = event_body(mention, "Ev0001")
    assert post(client, body, form=False).status_code == 200
    retry = post(client, body, form=False, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    command = command_body(api, "status P00012", trigger="111.222")
    assert post(client, command).status_code == 200
    assert post(client, command).status_code == 200  # the same trigger id again
    posted = api.wait_for("chat.postMessage")
    api.wait_for("response_url")
    time.sleep(1.0)  # a second answer would have arrived by now
    assert len(api.calls_to("chat.postMessage")) == 1 and len(api.calls_to("response_url")) == 1
    assert posted[0].args["channel"] == "C1" and posted[0].args["thread_ts"] == "1700000100.000200"
    assert "P00012" in texts(posted[0].args["blocks"])


def test_a_follow_up_in_the_thread_or_a_dm_uses_the_thread(slack: Any) -> None:
    client, api = slack
    first = {"type": "message", "channel_type": "im", "user": "UADMIN", "channel": "D1", "ts": "1700000200.000100"}
    post(client, event_body({**first, "text": "what's the status of P00009?"}, "Ev0010"), form=False)
    api.wait_for("chat.postMessage")
    follow = {**first, "ts": "1700000201.000100", "thread_ts": "1700000200.000100", "text": "what did they last say?"}
    post(client, event_body(follow, "Ev0011"), form=False)
    replies = api.wait_for("chat.postMessage", 2, timeout=SLOW)
    assert {r.args["thread_ts"] for r in replies} == {"1700000200.000100"}
    assert "P00009" in texts(replies[1].args["blocks"])  # "they" resolved from the thread
    bot_echo = {**first, "ts": "1700000202.000100", "bot_id": "B1", "text": "an answer"}
    post(client, event_body(bot_echo, "Ev0012"), form=False)
    time.sleep(0.5)
    assert len(api.calls_to("chat.postMessage")) == 2


# -- verification ----------------------------------------------------------------------------------------
def test_unsigned_stale_and_tampered_requests_get_401_and_a_log_line_without_content(
    slack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, api = slack
    body = command_body(api, "ask secret question about P00012")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    caplog.set_level(logging.DEBUG)
    unsigned = client.post("/slack/events", content=body, headers=form)
    stale = client.post("/slack/events", content=body, headers={**form, **sign(body, timestamp=int(time.time()) - 301)})
    tampered_body = body.replace("P00012", "P00013")
    tampered = client.post("/slack/events", content=tampered_body, headers={**form, **sign(body)})
    wrong_secret = client.post("/slack/events", content=body, headers={**form, **sign(body, secret="not-it")})
    assert [r.status_code for r in (unsigned, stale, tampered, wrong_secret)] == [401, 401, 401, 401]
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "401" in r.getMessage()]
    assert len(refusals) == 4
    assert "unsigned" in refusals[0] and "stale" in refusals[1] and "signature mismatch" in refusals[2]
    assert "secret question" not in caplog.text  # the request's content never reaches the log
    time.sleep(0.3)
    assert api.calls == []  # nothing ran


def test_url_verification_answers_the_challenge(slack: Any) -> None:
    client, _ = slack
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    response = post(client, body, form=False)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


# -- identity and roles ----------------------------------------------------------------------------------
def test_a_slack_user_without_an_odoo_user_is_told_so_and_gets_nothing_else(slack: Any) -> None:
    client, api = slack
    post(client, command_body(api, "ask which Wood Corner orders are late?", user="USTRANGER"))
    reply = api.wait_for("response_url")[0].args
    assert texts(reply["blocks"]) == NO_ODOO_USER
    time.sleep(0.3)
    assert [c.method for c in api.calls] == ["auth.test", "users.info", "response_url"]


def test_a_buyer_may_not_draft_customer_replies(slack: Any) -> None:
    client, api = slack
    post(client, command_body(api, "draft Where is my order S00024?", user="UBUYER"))
    shown = texts(api.wait_for("response_url")[0].args["blocks"])
    assert "role doesn't allow" in shown and "buyer role cannot use 'draft'" in shown


# -- shortcuts and buttons -------------------------------------------------------------------------------
def _shortcut(api: FakeSlackAPI, callback: str, message: dict[str, Any], *, user: str, trigger: str) -> str:
    return interaction_body(
        {
            "type": "message_action",
            "token": "legacy",
            "action_ts": "1700000300.000001",
            "team": {"id": "T1", "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1", "name": user.lower()},
            "channel": {"id": "C1", "name": "purchasing"},
            "is_enterprise_install": False,
            "callback_id": callback,
            "trigger_id": trigger,
            "message_ts": message["ts"],
            "message": message,
            "response_url": api.response_url(trigger.replace(".", "")),
        }
    )


def test_a_buyers_propose_click_creates_an_approval_request_in_odoo(
    slack_api: FakeSlackAPI, copilot: Copilot, tmp_path: Path
) -> None:
    settings = make_copilot_settings(
        tmp_path / "slack",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack_api.url,
        policy_file=REPO / "policy.example.yaml",
    )
    with_policy = Copilot(settings, copilot.odoo, conversations=copilot.conversations, components=copilot.components)
    app = FastAPI()
    app.state.copilot = with_policy
    state_db = Database.from_settings(settings)
    channel = mount_slack(app, settings, db=state_db)
    client = TestClient(app)
    message = {
        "type": "message",
        "user": "UBUYER",
        "ts": "1700000300.000100",
        "text": "",
        "files": [email_file("02_p00002_new_ship_date.eml")],
    }
    post(client, _shortcut(slack_api, "summarize_supplier_email", message, user="UBUYER", trigger="300.1"))
    summary = slack_api.wait_for("response_url", timeout=SLOW)[0].args
    shown = texts(summary["blocks"])
    assert "P00002" in shown and "Propose this action" in shown
    button_block = next(
        b for b in summary["blocks"] if (b.get("accessory") or {}).get("action_id") == "copilot_propose"
    )
    button = button_block["accessory"]
    key = json.loads(button["value"])["proposal_key"]
    assert with_policy.policy is not None and not [r for r in with_policy.backend.search() if r.idempotency_key == key]

    click = {
        "type": "block_actions",
        "user": {"id": "UBUYER", "username": "ubuyer", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "message", "message_ts": "1700000301.000100", "channel_id": "C1", "is_ephemeral": True},
        "trigger_id": "301.1",
        "team": {"id": "T1", "domain": "acme"},
        "channel": {"id": "C1", "name": "purchasing"},
        "response_url": slack_api.response_url("click1"),
        "actions": [{**button, "block_id": button_block["block_id"], "type": "button", "action_ts": "1700000302.1"}],
    }
    assert post(client, interaction_body(click)).status_code == 200
    outcome = slack_api.wait_for("response_url", 2, timeout=SLOW)[1].args
    requests = [r for r in with_policy.backend.search() if r.idempotency_key == key]
    assert len(requests) == 1 and requests[0].state.value == "pending"
    assert requests[0].proposal is not None and requests[0].proposal.on_behalf_of == "mark.brown23@example.com"
    assert f"#{requests[0].id}" in texts(outcome["blocks"])
    channel.close()
    state_db.close()


def test_mrkdwn_in_a_shared_email_cannot_forge_links_or_mentions(slack: Any) -> None:
    client, api = slack
    evil = "<!channel> P00002 <https://evil.example/pay|click here> <@UADMIN>"
    message = {
        "type": "message",
        "user": "UADMIN",
        "ts": "1700000400.000100",
        "text": "",
        "files": [email_file("02_p00002_new_ship_date.eml", subject=evil)],
    }
    post(client, _shortcut(api, "summarize_supplier_email", message, user="UADMIN", trigger="400.1"))
    shown = texts(api.wait_for("response_url", timeout=SLOW)[0].args["blocks"])
    assert "&lt;!channel&gt;" in shown and "&lt;https://evil.example/pay|click here&gt;" in shown
    assert "<!channel>" not in shown and "<https://evil" not in shown and "<@UADMIN>" not in shown


def test_a_pasted_supplier_email_has_no_verified_sender_and_no_proposal(slack: Any) -> None:
    client, api = slack
    pasted = (
        "---------- Forwarded message ---------\nFrom: Ron Gibson <ron.gibson76@example.com>\n"
        "Subject: P00008\n\nWe have to adjust the price of [FURN_8900] Drawer Black from $280.80 to $312.50 "
        "per dozen for P00008."
    )
    message = {"type": "message", "user": "UADMIN", "ts": "1700000450.000100", "text": pasted}
    post(client, _shortcut(api, "summarize_supplier_email", message, user="UADMIN", trigger="450.1"))
    shown = texts(api.wait_for("response_url", timeout=SLOW)[0].args["blocks"])
    assert "P00008" in shown and "no verified sender" in shown and "_unverified_" in shown
    assert "Propose this action" not in shown


def test_draft_a_reply_shortcut_prepares_a_draft_that_is_not_sent(slack: Any) -> None:
    client, api = slack
    message = {
        "type": "message",
        "user": "UADMIN",
        "ts": "1700000500.000100",
        "text": "Hi, where is my order S00024? Gemini Furniture",
    }
    post(client, _shortcut(api, "draft_reply", message, user="UADMIN", trigger="500.1"))
    reply = api.wait_for("response_url", timeout=SLOW)[0].args
    shown = texts(reply["blocks"])
    assert reply["response_type"] == "ephemeral" and "Draft reply" in shown and "not sent" in shown
    assert not api.calls_to("chat.postMessage")  # nothing goes to the customer or the channel


def test_status_of_a_sale_order_shows_where_it_stands(slack: Any) -> None:
    client, api = slack
    post(client, command_body(api, 'status S00024 --customer "Gemini Furniture"', trigger="600.1"))
    shown = texts(api.wait_for("response_url", timeout=SLOW)[0].args["blocks"])
    assert "S00024" in shown and "Corner Desk Right Sit" in shown and "WH/IN/00014" in shown


def test_staff_get_a_sale_orders_deliveries_without_naming_the_customer_but_a_buyer_does_not(slack: Any) -> None:
    client, api = slack
    post(client, command_body(api, "status S00024", trigger="650.1"))  # UADMIN: a manager
    shown = texts(api.wait_for("response_url", timeout=SLOW)[0].args["blocks"])
    assert "S00024" in shown and "Gemini Furniture" in shown and "Corner Desk Right Sit" in shown and "short" in shown
    post(client, command_body(api, "status S00024", user="UBUYER", trigger="650.2"))
    refused = texts(api.wait_for("response_url", count=2, timeout=SLOW)[1].args["blocks"])
    assert "does not see sale orders" in refused and "Corner Desk" not in refused


def test_a_failure_gets_an_apology_and_is_parked_as_a_dead_letter(
    slack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, api = slack
    copilot: Copilot = client.app.state.copilot

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Odoo fell over")

    monkeypatch.setattr(copilot, "ask", broken)
    post(client, command_body(api, "ask what's late?", trigger="700.1"))
    shown = texts(api.wait_for("response_url")[0].args["blocks"])
    assert "Sorry, something went wrong" in shown and "Odoo fell over" not in shown
    store = DeadLetterStore.from_settings(make_copilot_settings(tmp_path / "slack"))
    letter = store.find("slack", "trigger:700.1")
    store.close()
    assert letter is not None and "Odoo fell over" in letter.reason and letter.error_type == "RuntimeError"


def test_a_replica_asks_the_bots_identity_once_at_start_not_in_its_first_requests(
    slack_api: FakeSlackAPI, copilot: Copilot, tmp_path: Path
) -> None:
    from channels.slack.app import SlackChannel

    settings = make_copilot_settings(
        tmp_path / "replica", slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack_api.url
    )
    conversations = ConversationStore.from_settings(settings)
    queued: list[str] = []
    channel = SlackChannel(
        settings,
        lambda: copilot,
        db=conversations.db,
        enqueue=lambda kind, body: queued.append(body["event_id"]),
        verify_token=True,  # what mount_slack does on a replica with COPILOT_REDIS_URL
    )
    app = FastAPI()
    app.add_api_route("/slack/events", _route(channel), methods=["POST"])
    try:
        with TestClient(app) as client:
            _first_requests_wait_on_no_auth_test(client, slack_api)
        assert len(queued) == 8
    finally:
        channel.close()
        conversations.close()


def _route(channel: Any) -> Any:
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

    async def route(request: Request) -> Any:
        body = await request.body()
        return to_starlette_response(channel.bolt.dispatch(to_bolt_request(request, body)))

    return route


def _first_requests_wait_on_no_auth_test(client: TestClient, api: FakeSlackAPI) -> None:
    assert len(api.calls_to("auth.test")) == 1  # at start-up, before any request
    from concurrent.futures import ThreadPoolExecutor

    mentions = [
        event_body(
            {"type": "app_mention", "user": "UADMIN", "text": "<@UBOT> hi", "channel": "C9", "ts": f"1.{n}"}, f"EvA{n}"
        )
        for n in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: post(client, body, form=False).status_code, mentions))
    assert statuses == [200] * 8
    assert len(api.calls_to("auth.test")) == 1  # no request waited on Slack's auth.test before its ack
