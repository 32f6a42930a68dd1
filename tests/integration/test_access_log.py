"""uvicorn's access log at INFO with the log redaction installed: every request is logged without a
"Logging error", and a query string (a bearer token in ``?access_token=``) never reaches the log."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from uvicorn.logging import AccessFormatter

from channels.http import create_app
from copilot.config import Settings
from copilot.guardrails.log_redaction import PiiRedactingFilter, install_log_redaction, uninstall_log_redaction

TOKEN = "reader-token-0123456789abcdefgh"
SECRET = "SECRETbearer0123456789abcdefXYZ"


@pytest.fixture
def clean_uvicorn_logging() -> Iterator[None]:
    yield
    uninstall_log_redaction()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_real_uvicorn_access_log_at_info_has_no_logging_error_and_no_query_string(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], clean_uvicorn_logging: None
) -> None:
    settings = Settings(data_dir=tmp_path, api_tokens=SecretStr(f"reader:{TOKEN}:read"), log_level="INFO")
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get("/healthz")
            client.get(f"/v1/proposals?access_token={SECRET}&to=jane.doe@customer.example")
            client.get("/v1/proposals", headers={"Authorization": f"Bearer {TOKEN}"}, params={"state": "x"})
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    out, err = capfd.readouterr()
    logged = out + err
    assert "Logging error" not in logged
    assert SECRET not in logged and "jane.doe@customer.example" not in logged and "access_token" not in logged
    assert '"GET /healthz HTTP/1.1" 200' in logged
    assert '"GET /v1/proposals HTTP/1.1" 401' in logged  # the path, without its query string


def _access_record(path: str) -> logging.LogRecord:
    """A record exactly as uvicorn's protocols log one: the arguments are a tuple the formatter unpacks."""
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:51000", "GET", path, "1.1", 200), None,
    )  # fmt: skip


def test_an_access_record_keeps_its_arguments_and_loses_its_query_string() -> None:
    record = _access_record(f"/v1/ask?access_token={SECRET}")
    assert PiiRedactingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '203.0.113.9:51000 - "GET /v1/ask HTTP/1.1" 200 OK'


def test_other_records_are_still_redacted_and_still_format(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    install_log_redaction()
    try:
        log = logging.getLogger("copilot.test")
        log.info("mail from %s, %d lines, %.1f s", "jane.doe@customer.example", 12, 0.25)
        log.info("data %(who)s", {"who": "call +1 (941) 284-4875"})
        log.info("broken %d", "not a number")
    finally:
        uninstall_log_redaction()
    text = caplog.text
    assert "jane.doe@customer.example" not in text and "284-4875" not in text
    assert "12 lines, 0.2 s" in text or "12 lines, 0.3 s" in text
    assert "broken %d" in text
