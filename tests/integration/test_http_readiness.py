"""``/readyz``: every dependency checked concurrently and quickly; required failures are 503, the LLM only degrades."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from copilot.config import Settings

ALL_CHECKS = {"odoo", "database", "data_dir", "chroma", "llm", "workers"}


class _Models(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint's ``GET /v1/models``: 200 for the right key, 401 otherwise."""

    def do_GET(self) -> None:
        ok = self.path == "/v1/models" and self.headers.get("Authorization") == "Bearer right-key"
        body = json.dumps({"data": [{"id": "local-model"}]} if ok else {"error": "no"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _ready(settings: Settings) -> tuple[int, dict[str, Any], float]:
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        response = client.get("/readyz")
        return response.status_code, response.json(), time.monotonic() - started


def test_defaults_are_ready_with_every_check(tmp_path: Path) -> None:
    status, body, seconds = _ready(Settings(data_dir=tmp_path))
    assert status == 200 and body["status"] == "ready", body
    checks = {c["name"]: c for c in body["checks"]}
    assert set(checks) == ALL_CHECKS and all(c["ok"] for c in checks.values())
    assert "sandbox" in checks["odoo"]["detail"] and checks["chroma"]["detail"] == "embedded store answered"
    assert checks["llm"]["detail"].startswith("not configured") and body["failing"] == body["degraded"] == []
    assert seconds < 2.0


def test_a_reachable_llm_is_checked_with_its_key(tmp_path: Path, llm_url: str) -> None:
    settings = Settings(data_dir=tmp_path, llm_base_url=llm_url, llm_model="local-model", llm_api_key="right-key")
    status, body, _ = _ready(settings)
    llm = next(c for c in body["checks"] if c["name"] == "llm")
    assert status == 200 and llm["ok"] and "local-model" in llm["detail"]


def test_a_refused_llm_key_degrades_but_stays_ready(tmp_path: Path, llm_url: str) -> None:
    settings = Settings(data_dir=tmp_path, llm_base_url=llm_url, llm_model="local-model", llm_api_key="wrong-key")
    status, body, _ = _ready(settings)
    llm = next(c for c in body["checks"] if c["name"] == "llm")
    assert status == 200 and body["status"] == "ready" and body["degraded"] == ["llm"]
    assert not llm["ok"] and "refused the API key" in llm["detail"]


def test_chroma_and_llm_down_answer_503_within_two_seconds(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        chroma_url="http://127.0.0.1:9",  # nothing listens on the discard port
        llm_base_url="http://127.0.0.1:9/v1",
        llm_model="m",
    )
    status, body, seconds = _ready(settings)
    assert status == 503 and body["status"] == "not_ready"
    assert body["failing"] == ["chroma"] and body["degraded"] == ["llm"]
    assert body["error"] == {"type": "not_ready", "message": "failing checks: chroma"}
    assert seconds < 2.0


def test_an_unhealthy_worker_makes_the_service_not_ready(tmp_path: Path) -> None:
    class Stuck:
        name = "email"

        def healthy(self) -> bool:
            return False

    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        client.app.state.workers = [Stuck()]  # type: ignore[attr-defined]
        response = client.get("/readyz")
        client.app.state.workers = []  # type: ignore[attr-defined]
    assert response.status_code == 503 and response.json()["failing"] == ["workers"]
    workers = next(c for c in response.json()["checks"] if c["name"] == "workers")
    assert workers["detail"] == "not healthy: email"


def test_a_hanging_odoo_fails_the_check_within_its_timeout(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        settings = Settings(
            data_dir=tmp_path,
            odoo_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            odoo_db="prod",
            odoo_password=SecretStr("x"),
            odoo_retries=0,
            odoo_timeout=30,
        )
        status, body, seconds = _ready(settings)
    finally:
        silent.close()
    odoo = next(c for c in body["checks"] if c["name"] == "odoo")
    assert status == 503 and body["failing"] == ["odoo"] and odoo["detail"] == "no answer within 1.5 s"
    assert seconds < 2.0


def test_chroma_and_the_embedding_model_are_opened_before_the_service_is_ready(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        state: Any = client.app.state  # type: ignore[attr-defined]
        assert state.chroma_client is not None  # opened by the start-up, not by the first probe
        assert state.copilot.components.embedder.load_seconds is not None  # the root's embedder, loaded


def test_a_probe_never_opens_chroma_itself(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        state: Any = client.app.state  # type: ignore[attr-defined]
        opened, state.chroma_client = state.chroma_client, None  # as if the start-up had failed to open it
        response = client.get("/readyz")
        assert state.chroma_client is None
        state.chroma_client = opened
    chroma = next(c for c in response.json()["checks"] if c["name"] == "chroma")
    assert response.status_code == 503 and response.json()["failing"] == ["chroma"]
    assert chroma["detail"].startswith("not opened at start-up")


def test_concurrent_probes_right_after_start_up_are_all_ready(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        answers: list[int] = []
        probes = [threading.Thread(target=lambda: answers.append(client.get("/readyz").status_code)) for _ in range(4)]
        for probe in probes:
            probe.start()
        for probe in probes:
            probe.join(timeout=10)
    assert answers == [200, 200, 200, 200]
