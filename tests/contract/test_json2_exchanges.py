"""The sandbox's ``odoo19`` flavour answers every recorded JSON-2 exchange as the real Odoo 19 did.

``tests/cassettes/odoo19/json2`` (a copy of ``shared/odoo-reference-19/json2``): each recorded request is sent
to the sandbox over HTTP as recorded (method, path, headers, body; the copilot's API key is the sandbox's),
and the answer must be the recorded one: status and content type; the exact result of a call; Odoo's error
``name``, ``message`` and ``arguments``; the HTML page of the 415. An unfiltered ``fields_get`` compares field
names and attribute keys (the values are the sandbox's, as for the 18 transcripts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from odoo_sandbox import SandboxServer

pytestmark = pytest.mark.contract

JSON2 = Path(__file__).resolve().parents[1] / "cassettes" / "odoo19" / "json2"
INVALID_KEY = "0" * 40


def _exchanges() -> list[Any]:
    index_file = JSON2 / "index.json"
    if not index_file.is_file():
        return [pytest.param(None, id="no-recording", marks=pytest.mark.skip(reason=f"no {index_file}"))]
    index = json.loads(index_file.read_text(encoding="utf-8"))
    return [
        pytest.param(json.loads((JSON2 / e["file"]).read_text(encoding="utf-8")), id=e["name"])
        for e in index["exchanges"]
    ]


@pytest.fixture(scope="module")
def odoo19() -> Iterator[SandboxServer]:
    """The ``odoo19`` sandbox on loopback (the recorded calls only read, or are refused)."""
    with SandboxServer(odoo="odoo19") as server:
        yield server


def _send(server: SandboxServer, request: dict[str, Any]) -> httpx.Response:
    copilot_key = next(u.api_key for u in server.users if u.login == "copilot")
    headers = {}
    for name, value in request["headers"].items():
        value = value.replace("<API_KEY>", str(copilot_key)).replace("<INVALID_KEY>", INVALID_KEY)
        headers[name] = value
    body = request["body"]
    content = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        built = client.build_request(request["method"], request["path"], headers=headers, content=content)
        if "Content-Type" not in headers:
            built.headers.pop("Content-Type", None)
        return client.send(built)


@pytest.mark.parametrize("exchange", _exchanges())
def test_json2_exchange_replays(odoo19: SandboxServer, exchange: dict[str, Any]) -> None:
    """Same status, content type and body as the real Odoo 19."""
    recorded = exchange["response"]
    response = _send(odoo19, exchange["request"])
    assert response.status_code == recorded["status"], response.text[:500]
    assert response.headers["Content-Type"] == recorded["headers"]["Content-Type"]
    want = recorded["body"]
    if isinstance(want, str):
        assert response.text == want
        return
    got = response.json()
    if recorded["status"] != 200:
        for key in ("name", "message", "arguments", "context"):
            assert got[key] == want[key], key
        assert got["debug"].startswith("Traceback")
        return
    if exchange["request"]["path"].endswith("/fields_get"):
        assert set(got) == set(want)
        for name, attrs in want.items():
            assert set(got[name]) >= set(attrs), name
        return
    assert got == want


def test_unauthorized_answers_name_the_bearer_scheme(odoo19: SandboxServer) -> None:
    """A 401 carries ``WWW-Authenticate: Bearer`` (README of the 19 reference)."""
    response = httpx.post(
        f"{odoo19.url}/json/2/purchase.order/search_count", json={"domain": []}, headers={"X-Odoo-Database": "demo19"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
