"""Inbound webhooks: HMAC signature and timestamp window, deduplication, body limit, each event type."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from channels.http.routes.webhooks import MAX_WEBHOOK_BODY
from channels.http.webhook_events import parse_webhook_secrets
from copilot.config import Settings
from copilot.errors import ConfigError
from copilot.guardrails.signatures import sign

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
N8N_SECRET = "n8n-secret-0123456789abcdefghij"
ODOO_SECRET = "odoo-secret-0123456789abcdefghi"
READER = "reader-token-0123456789abcdefgh"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("webhooks"),
        webhook_secrets=SecretStr(f"n8n:{N8N_SECRET};odoo:{ODOO_SECRET}"),
        api_tokens=SecretStr(f"reader:{READER}:read"),
        rate_limit_per_minute=1000,
    )
    with TestClient(create_app(settings)) as client:
        yield client


_counter = iter(range(1, 1_000_000))


def post(
    api: TestClient,
    event: dict[str, Any] | bytes,
    *,
    source: str = "n8n",
    secret: str = N8N_SECRET,
    event_id: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> Any:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    sent = {"Content-Type": "application/json", "X-Copilot-Event-Id": event_id or f"evt-{next(_counter)}"}
    if signed:
        sent |= {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(secret, ts, body)}
    return api.post(f"/v1/webhooks/{source}", content=body, headers=sent | (headers or {}))


def outcome(api: TestClient, response: Any) -> dict[str, Any]:
    """The event's recorded outcome (after a 202, read at its status URL)."""
    url = response.json()["status_url"]
    got = api.get(url, headers={"Authorization": f"Bearer {READER}"})
    assert got.status_code == 200, got.text
    return got.json()  # type: ignore[no-any-return]


# -- authentication ---------------------------------------------------------------------------------
def test_a_signed_question_is_accepted_and_answered(api: TestClient) -> None:
    response = post(api, {"type": "question", "text": "which Wood Corner orders are late?"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "accepted" and body["type"] == "question"
    assert body["status_url"] == f"/v1/webhooks/n8n/events/{body['event_id']}"
    done = outcome(api, response)
    assert done["status"] == "done" and "P00006" in done["result"]["text"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", "missing signature"),
        ("stale", "stale timestamp"),
        ("from the future", "stale timestamp"),
        ("tampered body", "bad signature"),
        ("another source's secret", "bad signature"),
        ("unknown source", "unknown source"),
        ("timestamp not a number", "bad timestamp"),
    ],
)
def test_bad_signatures_are_401_and_logged_without_the_body(
    api: TestClient, caplog: pytest.LogCaptureFixture, case: str, reason: str
) -> None:
    event = {"type": "question", "text": "secret-question-text"}
    now = int(time.time())
    with caplog.at_level(logging.WARNING, logger="channels.http.webhooks"):
        if case == "unsigned":
            response = post(api, event, signed=False)
        elif case == "stale":
            response = post(api, event, timestamp=now - 301)
        elif case == "from the future":
            response = post(api, event, timestamp=now + 301)
        elif case == "tampered body":
            body = json.dumps(event).encode()
            headers = {"X-Copilot-Timestamp": str(now), "X-Copilot-Signature": sign(N8N_SECRET, now, body)}
            tampered = json.dumps({**event, "text": "another question"}).encode()
            response = post(api, tampered, signed=False, headers=headers)
        elif case == "another source's secret":
            response = post(api, event, secret=ODOO_SECRET)
        elif case == "unknown source":
            response = post(api, event, source="zapier", secret=N8N_SECRET)
        else:
            headers = {"X-Copilot-Timestamp": "yesterday", "X-Copilot-Signature": sign(N8N_SECRET, "yesterday", b"")}
            response = post(api, event, signed=False, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == {"type": "unauthorized", "message": "invalid or missing webhook signature"}
    [record] = [r for r in caplog.records if r.name == "channels.http.webhooks"]
    source = "zapier" if case == "unknown source" else "n8n"
    assert record.levelno == logging.WARNING and source in record.getMessage() and reason in record.getMessage()
    assert "secret-question-text" not in caplog.text and N8N_SECRET not in caplog.text


# -- deduplication ----------------------------------------------------------------------------------
def test_a_replayed_event_id_is_a_duplicate_and_does_nothing(api: TestClient) -> None:
    event = {"type": "approval.request.approved", "request_id": 7}
    first = post(api, event, event_id="approval-7")
    assert first.status_code == 200 and first.json()["status"] == "done"
    again = post(api, event, event_id="approval-7")  # a sender's retry: new timestamp, same event
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "event_id": "approval-7", "type": event["type"], "result": None,
                            "status_url": None}  # fmt: skip


def test_the_same_signed_request_under_another_event_id_is_a_duplicate(api: TestClient) -> None:
    body = json.dumps({"type": "approval.request.approved", "request_id": 8}).encode()
    ts = int(time.time())
    signed = {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(N8N_SECRET, ts, body)}
    assert post(api, body, signed=False, headers=signed, event_id="a-8").json()["status"] == "done"
    replay = post(api, body, signed=False, headers=signed, event_id="b-8")  # captured and replayed
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"


def test_event_ids_are_per_source(api: TestClient) -> None:
    event = {"type": "approval.request.approved", "request_id": 9}
    assert post(api, event, event_id="shared-id").json()["status"] == "done"
    other = post(api, event, event_id="shared-id", source="odoo", secret=ODOO_SECRET)
    assert other.json()["status"] == "done"


# -- limits and validation --------------------------------------------------------------------------
def test_a_body_over_1_mb_is_413(api: TestClient) -> None:
    big = {"type": "question", "text": "x", "padding": "y" * MAX_WEBHOOK_BODY}
    response = post(api, big)
    assert response.status_code == 413 and response.json()["error"]["type"] == "payload_too_large"


def test_an_unknown_event_type_is_422_and_not_recorded(api: TestClient) -> None:
    response = post(api, {"type": "invoice.paid", "invoice_id": 3}, event_id="unknown-1")
    assert response.status_code == 422 and response.json()["error"]["type"] == "validation_error"
    fixed = post(api, {"type": "approval.request.approved", "request_id": 3}, event_id="unknown-1")
    assert fixed.json()["status"] == "done"  # the refused call did not burn its event id


def test_missing_event_id_or_not_json_is_400(api: TestClient) -> None:
    body = b'{"type": "question", "text": "hi"}'
    ts = int(time.time())
    headers = {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(N8N_SECRET, ts, body)}
    response = api.post("/v1/webhooks/n8n", content=body, headers=headers)
    assert response.status_code == 400 and "X-Copilot-Event-Id" in response.json()["error"]["message"]
    assert post(api, b"{not json").status_code == 400


# -- the events -------------------------------------------------------------------------------------
def test_a_supplier_email_is_ingested_like_the_shared_mailbox_does(api: TestClient) -> None:
    raw = (EMAILS / "02_p00002_new_ship_date.eml").read_text(encoding="utf-8")
    response = post(api, {"type": "supplier_email.received", "raw": raw})
    assert response.status_code == 202, response.text
    done = outcome(api, response)
    assert done["status"] == "done" and done["type"] == "supplier_email.received"
    result = done["result"]
    assert "P00002" in json.dumps(result["summary"]) and result["summary"]["changes"]
    assert result["supplier"] is True and "proposals" in result and "recipients" in result


def test_a_carrier_status_is_reported_honestly_when_odoo_keeps_no_tracking_numbers(api: TestClient) -> None:
    event = {"type": "carrier.status", "tracking_number": "1Z999AA10123456784", "status": "delayed"}
    response = post(api, event | {"carrier": "ups", "estimated_delivery": "2026-12-12"})
    assert response.status_code == 202, response.text
    done = outcome(api, response)
    assert done["status"] == "done", done
    result = done["result"]  # the sandbox has no Delivery app: no carrier_tracking_ref on transfers
    assert result["tracked_in_odoo"] is False and result["transfers"] == [] and result["attention"] is True
    assert "no transfer could be matched" in result["summary"]


def test_a_created_ticket_is_classified(api: TestClient) -> None:
    response = post(api, {"type": "helpdesk.ticket.created", "ticket_id": 1})
    assert response.status_code == 202, response.text
    done = outcome(api, response)
    assert done["status"] == "done" and done["result"]["mode"]


def test_a_failing_event_is_recorded_and_parked(api: TestClient) -> None:
    response = post(api, {"type": "helpdesk.ticket.created", "ticket_id": 987654}, event_id="ticket-987654")
    assert response.status_code == 202
    failed = outcome(api, response)
    assert failed["status"] == "failed" and "987654" in failed["error"]
    letters = api.app.state.deadletters.list(channel="webhook")  # type: ignore[attr-defined]
    [letter] = [x for x in letters if x.key == "n8n:ticket-987654"]
    assert letter.error_type == "OdooNotFound" and letter.summary == "n8n helpdesk.ticket.created"
    assert b"987654" in (api.app.state.deadletters.get(letter.id).payload or b"")  # type: ignore[attr-defined]


def test_an_approval_wakes_the_executor_worker(api: TestClient) -> None:
    class Executor:
        name = "executor"
        woken = 0

        def wake(self) -> None:
            Executor.woken += 1

        def healthy(self) -> bool:
            return True

    state = api.app.state  # type: ignore[attr-defined]
    without = post(api, {"type": "approval.request.approved", "request_id": 12})
    assert without.json()["result"]["woken"] is False  # no executor in this process: it polls
    state.workers = [Executor()]
    try:
        response = post(api, {"type": "approval.request.approved", "request_id": 13})
    finally:
        state.workers = []
    assert response.status_code == 200 and response.json()["result"] == {"woken": True, "request_id": 13}
    assert Executor.woken == 1


def test_the_status_url_needs_a_token_and_knows_unknown_events(api: TestClient) -> None:
    assert api.get("/v1/webhooks/n8n/events/nope").status_code == 401
    missing = api.get("/v1/webhooks/n8n/events/nope", headers={"Authorization": f"Bearer {READER}"})
    assert missing.status_code == 404


# -- configuration and the spec ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("n8n", "not source:secret"),
        ("n8n:short", "shorter than"),
        (f"n8n:{N8N_SECRET};n8n:{ODOO_SECRET}", "appears twice"),
        (f"bad source:{N8N_SECRET}", "invalid source name"),
    ],
)
def test_bad_webhook_secrets_fail_at_start_without_showing_them(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        parse_webhook_secrets(SecretStr(value))
    assert str(info.value).startswith("COPILOT_WEBHOOK_SECRETS") and N8N_SECRET not in str(info.value)


def test_without_secrets_every_webhook_is_refused(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert post(client, {"type": "question", "text": "hi"}).status_code == 401


def test_openapi_documents_the_webhook_and_its_events(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    post_op = spec["paths"]["/v1/webhooks/{source}"]["post"]
    assert post_op["tags"] == ["webhooks"] and "HMAC-SHA256" in post_op["description"]
    headers = {p["name"] for p in post_op["parameters"] if p["in"] == "header"}
    assert headers == {"X-Copilot-Timestamp", "X-Copilot-Signature", "X-Copilot-Event-Id"}
    assert {"200", "202", "401", "413", "422"} <= set(post_op["responses"])
    schema = post_op["requestBody"]["content"]["application/json"]["schema"]
    events = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(events["discriminator"]["mapping"]) == {
        "helpdesk.ticket.created",
        "approval.request.approved",
        "supplier_email.received",
        "question",
        "purchase.order.date_changed",
        "carrier.status",
    }
    for ref in events["discriminator"]["mapping"].values():  # every $ref resolves inside the spec
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
    assert "/v1/webhooks/{source}/events/{event_id}" in spec["paths"] and "/metrics" in spec["paths"]


def test_the_whole_spec_is_valid_json_schema_with_resolvable_refs(api: TestClient) -> None:
    from jsonschema import Draft202012Validator

    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    components = spec["components"]["schemas"]
    for schema in components.values():
        Draft202012Validator.check_schema(schema)

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in set(refs(spec)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components, ref
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


# -- scale-out: the hand-over to the work queue -------------------------------------------------
class RecordingQueue:
    """A stand-in for ``TaskQueue``: records what a replica queued."""

    def __init__(self) -> None:
        self.queued: list[str] = []

    def webhook(self, source: str, event_id: str, body: bytes) -> str:
        self.queued.append(event_id)
        return f"task-{len(self.queued)}"


def test_a_replica_that_died_before_queueing_an_event_leaves_it_to_the_senders_retry(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secrets=SecretStr(f"n8n:{N8N_SECRET}"), rate_limit_per_minute=1000)
    event = {"type": "question", "text": "which Wood Corner orders are late?"}
    with TestClient(create_app(settings)) as api:
        queue = RecordingQueue()
        api.app.state.task_queue = queue  # type: ignore[attr-defined]
        ledger = api.app.state.webhook_events  # type: ignore[attr-defined]
        ledger.grace = 1.0

        ok = post(api, event, event_id="evt-ok")
        assert ok.status_code == 202 and queue.queued == ["evt-ok"]
        assert ledger.get("n8n", "evt-ok").queued_at is not None  # recorded once queued

        assert ledger.claim("n8n", "evt-lost", "sha256=first", "question")  # a replica claimed it, then died
        assert post(api, event, event_id="evt-lost").json()["status"] == "duplicate"  # within the grace
        time.sleep(1.1)
        assert post(api, event, event_id="evt-ok").json()["status"] == "duplicate"  # queued: stays a duplicate
        retry = post(api, event, event_id="evt-lost")  # the sender's next retry takes it over
        assert retry.status_code == 202 and retry.json()["status"] == "accepted"
        assert queue.queued == ["evt-ok", "evt-lost"]
        assert post(api, event, event_id="evt-lost").json()["status"] == "duplicate"  # and queues it once
        assert queue.queued == ["evt-ok", "evt-lost"]
