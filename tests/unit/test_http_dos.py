"""Denial of service over HTTP: body size limits before authentication, skills under a time budget off the
event loop, and /healthz answering while a hostile email is read."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from channels.serve import create_app as serve_app
from copilot.config import Settings
from copilot.guardrails.signatures import sign

OPS = "ops-token-0123456789abcdefghij"
N8N_SECRET = "n8n-secret-0123456789abcdefghij"


def _settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp,
        "api_tokens": SecretStr(f"ops:{OPS}:*"),
        "webhook_secrets": SecretStr(f"n8n:{N8N_SECRET}"),
        "rate_limit_per_minute": 1000,
    }
    return Settings(**(values | overrides))


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPS}"}


# -- request bodies -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/supplier-emails/summarize", "/v1/proposals", "/v1/webhooks/n8n"])
def test_a_declared_oversized_body_is_refused_before_authentication(tmp_path: Path, path: str) -> None:
    """Content-Length over the limit: 413 at once, without a token (not 401 after reading it all)."""
    app = create_app(_settings(tmp_path, http_max_body_bytes=64_000))
    client = TestClient(app)  # no lifespan: nothing past the middleware may run
    response = client.post(path, content=b"x" * 100_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["type"] == "payload_too_large"


def test_a_chunked_body_is_counted_while_it_streams(tmp_path: Path) -> None:
    """No Content-Length: the stream is cut at the limit; the rest of a 12.8 MB upload is never read."""
    app = create_app(_settings(tmp_path, http_max_body_bytes=1_000_000))
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(200):
            sent += 1
            yield b"x" * 64_000

    async def upload() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.post("/v1/supplier-emails/summarize", content=chunks())

    response = asyncio.run(upload())
    assert response.status_code == 413, response.text
    assert response.json()["error"]["type"] == "payload_too_large"
    assert sent <= 20, f"{sent} chunks of 64 KB were read for a 1 MB limit"


def test_slack_events_have_their_own_limit(tmp_path: Path) -> None:
    """/slack/events refuses an oversized body with 413 before it checks the signature (401)."""
    settings = _settings(
        tmp_path,
        slack_signing_secret=SecretStr("slack-signing-secret-0123456789"),
        slack_bot_token=SecretStr("xoxb-test"),
        slack_api_url="http://127.0.0.1:9/api/",
        slack_max_body_bytes=10_000,
    )
    with TestClient(serve_app(settings)) as client:
        assert client.post("/slack/events", content=b"command=/copilot").status_code == 401  # small: signature
        big = client.post("/slack/events", content=b"x" * 20_000)
        assert big.status_code == 413 and big.json()["error"]["type"] == "payload_too_large"


def test_bodies_under_the_limit_still_work(tmp_path: Path) -> None:
    """An ordinary summarize request goes through the limit untouched."""
    with TestClient(create_app(_settings(tmp_path))) as client:
        response = client.post(
            "/v1/supplier-emails/summarize",
            json={"subject": "P00008", "from": "a@b.example", "body": "We confirm P00008 as ordered."},
            headers=_auth(),
        )
        assert response.status_code == 200, response.text


# -- skills under a time budget -----------------------------------------------------------------------
@pytest.fixture
def slow_api(tmp_path: Path) -> Iterator[TestClient]:
    """The API with a 0.5 s skill budget, one skill at a time, and a supplier email that takes 2 s to read
    (asked directly, or as a webhook event's ingestion)."""
    app = create_app(_settings(tmp_path, http_skill_timeout=0.5, http_max_concurrent_skills=1))
    with TestClient(app) as client:
        copilot = app.state.copilot
        real = {name: getattr(copilot, name) for name in ("summarize", "ingest_supplier_email")}

        def slow(name: str) -> Any:
            def run(*args: Any, **kwargs: Any) -> Any:
                time.sleep(2.0)
                return real[name](*args, **kwargs)

            return run

        for name in real:
            setattr(copilot, name, slow(name))
        yield client
        for name, method in real.items():
            setattr(copilot, name, method)


def _summarize(client: TestClient) -> httpx.Response:
    return client.post(
        "/v1/supplier-emails/summarize",
        json={"subject": "P00008", "from": "a@b.example", "body": "We confirm P00008."},
        headers=_auth(),
    )


def test_a_skill_past_its_budget_gets_504_and_healthz_keeps_answering(slow_api: TestClient) -> None:
    """The caller gets 504 with the reason after the budget; /healthz answers meanwhile."""
    result: dict[str, Any] = {}
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: result.setdefault("response", _summarize(slow_api)))
    worker.start()
    time.sleep(0.1)
    health = time.perf_counter()
    assert slow_api.get("/healthz").status_code == 200
    assert time.perf_counter() - health < 0.4
    worker.join(5)
    response = result["response"]
    assert response.status_code == 504, response.text
    assert response.json()["error"]["type"] == "skill_timeout"
    assert "COPILOT_HTTP_SKILL_TIMEOUT" in response.json()["error"]["message"]
    assert time.perf_counter() - started < 1.8  # answered at the budget, not when the skill ended


def test_every_slot_busy_gives_503_with_retry_after(slow_api: TestClient) -> None:
    """One slot, taken by a slow skill: the next call is refused at once with Retry-After."""
    first = threading.Thread(target=lambda: _summarize(slow_api))
    first.start()
    time.sleep(0.2)
    second = _summarize(slow_api)
    first.join(5)
    assert second.status_code == 503, second.text
    assert second.json()["error"]["type"] == "busy" and second.headers["Retry-After"]


def test_a_webhook_event_past_its_budget_is_parked(slow_api: TestClient) -> None:
    """A supplier email event that runs too long is recorded as failed and parked for a replay."""
    raw = "From: a@b.example\nSubject: P00008\n\nWe confirm P00008."
    body = json.dumps({"type": "supplier_email.received", "raw": raw}).encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Copilot-Event-Id": "evt-slow-1",
        "X-Copilot-Timestamp": str(ts),
        "X-Copilot-Signature": sign(N8N_SECRET, ts, body),
    }
    response = slow_api.post("/v1/webhooks/n8n", content=body, headers=headers)
    assert response.status_code == 202, response.text  # TestClient runs the background task before returning
    state = slow_api.app.state  # type: ignore[attr-defined]
    letters = state.deadletters.list(channel="webhook")
    assert [letter.key for letter in letters] == ["n8n:evt-slow-1"]
    assert "SkillTimeout" in letters[0].reason


# -- /healthz while a hostile email is read -----------------------------------------------------------
def test_healthz_answers_while_a_hostile_email_is_summarized(tmp_path: Path) -> None:
    """A 12 KB email of '1 x ' lines and digit runs (it stalled the old service for over 10 s)."""
    hostile = ("1 x " * 1_500 + "@\n") + "1" * 6_000
    with TestClient(create_app(_settings(tmp_path))) as client:
        client.get("/healthz")
        result: dict[str, Any] = {}

        def post() -> None:
            result["response"] = client.post(
                "/v1/supplier-emails/summarize",
                json={"subject": "P00008", "from": "a@b.example", "body": hostile},
                headers=_auth(),
            )

        worker = threading.Thread(target=post)
        worker.start()
        gaps = []  # between successive answers: a stall of the process anywhere in the loop shows here
        previous = time.perf_counter()
        while worker.is_alive():
            assert client.get("/healthz").status_code == 200
            now = time.perf_counter()
            gaps.append(now - previous)
            previous = now
            time.sleep(0.02)
        worker.join()
    assert result["response"].status_code == 200, result["response"].text
    assert max(gaps) < 1.0, f"/healthz went {max(gaps):.2f} s without an answer"
