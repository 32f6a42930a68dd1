"""``copilot serve`` as a real process with only the defaults: it answers, then stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from copilot.guardrails.signatures import sign
from tests.servers.output import ProcessOutput

TOKEN = "ops-token-0123456789abcdefghij"
SECRET = "n8n-secret-0123456789abcdefghij"
COPILOT = Path(sys.executable).with_name("copilot")


def _request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    method = "POST" if data else "GET"
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _serve(tmp_path: Path, **settings: str) -> tuple[subprocess.Popen[str], ProcessOutput]:
    """``copilot serve --port 0`` with only defaults plus ``settings`` (COPILOT_* values), and its stderr."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # a checkout on the path runs its own code
        "HOME": str(tmp_path),
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
        "COPILOT_API_TOKENS": f"ops:{TOKEN}:*",
        **settings,
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(COPILOT), "serve", "--port", "0"],
        cwd=tmp_path,  # no .env from the repository
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, ProcessOutput(process.stderr)


@pytest.mark.skipif(not COPILOT.exists(), reason="the copilot command is not installed next to this Python")
def test_serve_with_defaults_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process, stderr = _serve(tmp_path, COPILOT_WEBHOOK_SECRETS=f"n8n:{SECRET}")
    try:
        base = "http://" + stderr.wait_for(r"listening on http://(127\.0\.0\.1:\d+)", 60).group(1)
        stderr.wait_for(r"HTTP API ready on embedded Odoo sandbox", 60)

        assert _request(f"{base}/healthz") == (200, {"status": "ok"})
        status, ready = _request(f"{base}/readyz")
        assert status == 200 and ready["status"] == "ready", ready
        assert {c["name"] for c in ready["checks"]} == {"odoo", "database", "data_dir", "chroma", "llm", "workers"}

        question = json.dumps({"question": "which Wood Corner orders are late?"}).encode()
        status, answer = _request(
            f"{base}/v1/questions",
            data=question,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert status == 200 and "P00006" in answer["text"]

        body = json.dumps({"type": "approval.request.approved", "request_id": 1}).encode()
        ts = int(time.time())
        signed = {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(SECRET, ts, body)}
        headers = {"Content-Type": "application/json", "X-Copilot-Event-Id": "evt-1"}
        assert _request(f"{base}/v1/webhooks/n8n", data=body, headers=headers | signed)[0] == 200
        assert _request(f"{base}/v1/webhooks/n8n", data=body, headers=headers)[0] == 401  # unsigned

        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = process.wait(timeout=15)
        seconds = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = stderr.join()
    assert code == 0, log
    assert seconds < 5, log
    assert "webhook from 'n8n' refused: missing signature" in log
    assert log.index("HTTP API stopping") < log.index("HTTP API stopped cleanly") < log.index("copilot serve: stopped")
    assert "Traceback" not in log


@pytest.mark.skipif(not COPILOT.exists(), reason="the copilot command is not installed next to this Python")
def test_readyz_is_200_for_concurrent_probes_as_soon_as_the_log_says_ready(tmp_path: Path) -> None:
    process, stderr = _serve(tmp_path)
    try:
        base = "http://" + stderr.wait_for(r"listening on http://(127\.0\.0\.1:\d+)", 60).group(1)
        stderr.wait_for(r"HTTP API ready on", 90)
        answers: list[tuple[int, Any]] = []
        probes = [threading.Thread(target=lambda: answers.append(_request(f"{base}/readyz"))) for _ in range(2)]
        for probe in probes:
            probe.start()
        for probe in probes:
            probe.join(timeout=30)
        assert [status for status, _ in answers] == [200, 200], answers
        chroma = [next(c for c in body["checks"] if c["name"] == "chroma") for _, body in answers]
        assert all(c["detail"] == "embedded store answered" for c in chroma), chroma
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log = stderr.join()
    assert "Traceback" not in log
