"""The HTTP API on the embedded sandbox: probes, each /v1 route, auth, idempotency, errors, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from copilot.approvals import proposals_from_supplier_email
from copilot.config import Settings
from copilot.email import parse_email
from copilot.skills.supplier_email import summarize_supplier_email

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
OPS = "ops-token-0123456789abcdefghij"
READER = "reader-token-0123456789abcdefgh"
ASKER = "asker-token-0123456789abcdefghi"
TOKENS = f"ops:{OPS}:*; reader:{READER}:read ;asker:{ASKER}:ask"


class ApiSettings(Settings):
    """Settings with the API fields (until copilot/config.py has them)."""

    api_tokens: SecretStr | None = None
    api_allow_anonymous: bool = False


def auth(token: str = OPS, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> ApiSettings:
    folder = tmp_path_factory.mktemp("http")
    policy = folder / "policy.yaml"
    policy.write_text("version: 1\nactions:\n  reschedule_receipt:\n    mode: approval\n", encoding="utf-8")
    return ApiSettings(data_dir=folder / "data", policy_file=policy, api_tokens=SecretStr(TOKENS))


@pytest.fixture(scope="module")
def api(settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


# -- probes and OpenAPI -----------------------------------------------------------------------------
def test_healthz_and_readyz(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = {c["name"]: c for c in ready.json()["checks"]}
    assert ready.json()["status"] == "ready"
    assert set(checks) == {"odoo", "database", "data_dir", "chroma", "llm", "workers"}
    assert all(c["ok"] for c in checks.values()) and "deterministic" in checks["llm"]["detail"]
    assert checks["workers"]["detail"] == "none configured" and not checks["llm"]["required"]


def test_openapi_lists_the_routes_with_tags_and_bearer_auth(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["info"]["title"] == "Odoo Ops Copilot API" and spec["info"]["version"]
    assert {
        "/healthz",
        "/readyz",
        "/v1/supplier-emails/summarize",
        "/v1/issues/classify",
        "/v1/drafts",
        "/v1/questions",
        "/v1/proposals",
        "/v1/proposals/{request_id}",
    } <= set(spec["paths"])
    assert {t["name"] for t in spec["tags"]} >= {"health", "proposals", "questions"}
    post = spec["paths"]["/v1/proposals"]["post"]
    assert post["tags"] == ["proposals"] and post["security"] == [{"HTTPBearer": []}]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


# -- the skills -------------------------------------------------------------------------------------
def test_summarize_a_raw_supplier_email(api: TestClient) -> None:
    raw = (EMAILS / "02_p00002_new_ship_date.eml").read_text(encoding="utf-8")
    response = api.post("/v1/supplier-emails/summarize", json={"raw": raw}, headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert "P00002" in response.text and body["changes"]


def test_summarize_subject_from_and_body(api: TestClient) -> None:
    mail = parse_email((EMAILS / "02_p00002_new_ship_date.eml").read_bytes())
    response = api.post(
        "/v1/supplier-emails/summarize",
        json={"subject": mail.subject, "from": mail.from_address, "body": mail.text},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    assert "P00002" in response.text and response.json()["changes"]


def test_classify_an_issue(api: TestClient) -> None:
    response = api.post(
        "/v1/issues/classify", json={"subject": "Damaged", "body": "three chairs arrived broken"}, headers=auth()
    )
    assert response.status_code == 200, response.text
    assert response.json()["mode"]


def test_draft_a_reply(api: TestClient) -> None:
    response = api.post(
        "/v1/drafts", json={"message": "Where is S00024?", "customer": "Gemini Furniture"}, headers=auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["body"] and "S00024" in response.text and body["citations"]


def test_a_draft_for_a_ticket_reads_the_tickets_subject(api: TestClient) -> None:
    """HT00011 is "ETA for 10 Corner Desks - S00024": over HTTP too, the ticket says which order is meant."""
    response = api.post("/v1/drafts", json={"message": "Any news on the desks?", "ticket_id": 11}, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["orders"] == ["S00024"], response.json()["body"]


def test_ask_a_question_in_a_thread(api: TestClient) -> None:
    response = api.post(
        "/v1/questions", json={"question": "which Wood Corner orders are late?", "thread": "t1"}, headers=auth(ASKER)
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["text"] and any(c["model"] == "purchase.order" for c in answer["citations"])


def _delay_proposal(api: TestClient) -> dict[str, Any]:
    client = api.app.state.odoo.client  # type: ignore[attr-defined]
    mail = parse_email((EMAILS / "02_p00002_new_ship_date.eml").read_bytes())
    summary = summarize_supplier_email(mail, client=client)
    [proposal] = proposals_from_supplier_email(summary, client, on_behalf_of="buyer@example.com")
    return proposal.model_dump(mode="json")


def test_create_list_and_get_proposals(api: TestClient) -> None:
    proposal = _delay_proposal(api)
    created = api.post("/v1/proposals", json=proposal, headers=auth())
    assert created.status_code == 201, created.text
    request = created.json()["request"]
    assert request["created"] and request["state"] == "pending" and created.json()["decision"]["mode"] == "approval"
    again = api.post("/v1/proposals", json=proposal, headers=auth())
    assert again.status_code == 200 and again.json()["request"]["id"] == request["id"]
    assert again.json()["request"]["created"] is False

    listed = api.get("/v1/proposals", params={"state": "pending"}, headers=auth(READER))
    assert listed.status_code == 200 and request["id"] in [r["id"] for r in listed.json()["data"]]
    assert listed.json()["count"] == len(listed.json()["data"])
    one = api.get(f"/v1/proposals/{request['id']}", headers=auth(READER))
    assert one.status_code == 200 and one.json()["idempotency_key"] == request["idempotency_key"]


def test_an_advisory_proposal_is_refused_with_409(api: TestClient) -> None:
    proposal = {
        "title": "Expedite P00002",
        "payload": {"action_type": "expedite", "po_id": 2, "po_name": "P00002", "vendor_id": 11,
                    "message": "Please ship P00002 as soon as you can."},
        "target": {"model": "purchase.order", "id": 2, "display_name": "P00002", "write_date": None},
        "diff": [], "source": "test",
    }  # fmt: skip
    response = api.post("/v1/proposals", json=proposal, headers=auth())
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "advisory" and "advisory" in response.json()["error"]["message"]


# -- auth -------------------------------------------------------------------------------------------
def test_no_or_bad_token_is_401_with_a_challenge(api: TestClient) -> None:
    for headers in ({}, auth("not-a-valid-token-at-all-000000"), {"Authorization": "Basic abc"}):
        response = api.get("/v1/proposals", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["type"] == "unauthorized"


def test_a_missing_scope_is_403_naming_it(api: TestClient) -> None:
    response = api.post("/v1/drafts", json={"message": "Where is S00024?"}, headers=auth(READER))
    assert response.status_code == 403
    assert response.json()["error"] == {"type": "insufficient_scope", "message": "this token lacks the scope 'draft'"}
    assert api.post("/v1/questions", json={"question": "late POs?"}, headers=auth(READER)).status_code == 403
    assert api.get("/v1/proposals", headers=auth(ASKER)).status_code == 403
    assert api.get("/v1/proposals", headers=auth(READER)).status_code == 200


# -- idempotency ------------------------------------------------------------------------------------
def test_an_idempotency_key_replays_the_first_response(api: TestClient) -> None:
    body = {"question": "which Wood Corner orders are late?"}
    first = api.post("/v1/questions", json=body, headers=auth(ASKER, **{"Idempotency-Key": "k-1"}))
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    second = api.post("/v1/questions", json=body, headers=auth(ASKER, **{"Idempotency-Key": "k-1"}))
    assert second.status_code == 200 and second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    other_client = api.post("/v1/questions", json=body, headers=auth(OPS, **{"Idempotency-Key": "k-1"}))
    assert "idempotent-replayed" not in other_client.headers  # keys are per client


def test_an_idempotency_key_with_another_body_is_422(api: TestClient) -> None:
    headers = auth(ASKER, **{"Idempotency-Key": "k-2"})
    assert api.post("/v1/questions", json={"question": "P00002 status?"}, headers=headers).status_code == 200
    response = api.post("/v1/questions", json={"question": "P00003 status?"}, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["type"] == "idempotency_key_reused"


def test_a_created_proposal_is_replayed_with_its_201(api: TestClient) -> None:
    proposal = _delay_proposal(api)
    proposal["title"] = "Reschedule (replayed)"
    proposal["payload"]["new_date"] = "2026-12-24T10:00:00"
    headers = auth(**{"Idempotency-Key": "proposal-1"})
    first = api.post("/v1/proposals", json=proposal, headers=headers)
    replay = api.post("/v1/proposals", json=proposal, headers=headers)
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"


def test_a_failed_request_does_not_burn_its_key(api: TestClient) -> None:
    headers = auth(**{"Idempotency-Key": "k-404"})
    assert api.get("/v1/proposals/999999", headers=headers).status_code == 404  # GET: key ignored
    assert api.post("/v1/issues/classify", json={"ticket_id": 999999}, headers=headers).status_code == 404
    again = api.post("/v1/issues/classify", json={"ticket_id": 999999}, headers=headers)
    assert again.status_code == 404 and "idempotent-replayed" not in again.headers


# -- errors -----------------------------------------------------------------------------------------
def test_a_bad_body_is_422_with_the_details(api: TestClient) -> None:
    response = api.post("/v1/drafts", json={"subject": "no message"}, headers=auth())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "validation_error" and error["message"].startswith("message")
    assert error["detail"][0]["loc"] == ["body", "message"]
    both = api.post("/v1/supplier-emails/summarize", json={"raw": "x", "body": "y"}, headers=auth())
    assert both.status_code == 422 and "not both" in both.json()["error"]["message"]


def test_unknown_records_are_404(api: TestClient) -> None:
    missing = api.get("/v1/proposals/999999", headers=auth())
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found" and "999999" in missing.json()["error"]["message"]
    ticket = api.post("/v1/issues/classify", json={"ticket_id": 424242}, headers=auth())
    assert ticket.status_code == 404 and "424242" in ticket.json()["error"]["message"]
