"""Fixtures for the contract tests: running sandboxes (one per Odoo release); the LLM body matcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from odoo_sandbox import SandboxServer

#: The recorded transcripts (vcr cassettes) kept with the tests.
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "cassettes" / "odoo"


@pytest.fixture(scope="module")
def contract_sandboxes() -> Iterator[dict[str, SandboxServer]]:
    """One sandbox per Odoo release (18, 19) per test module, each started on first use."""
    servers: dict[str, SandboxServer] = {}

    class _Lazy(dict[str, SandboxServer]):
        def __missing__(self, release: str) -> SandboxServer:
            server = SandboxServer(odoo=release).start()  # type: ignore[arg-type]
            servers[release] = server
            self[release] = server
            return server

    try:
        yield _Lazy()
    finally:
        for server in servers.values():
            server.stop()


# -- vcr: LLM cassettes (tests/contract/test_llm_cassettes.py) ------------------------------------
def _json_or_raw(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def openai_json_body_matcher(r1: Any, r2: Any) -> None:
    """Match OpenAI-compatible requests on their parsed JSON body (key order and spacing aside)."""
    b1, b2 = _json_or_raw(r1.body), _json_or_raw(r2.body)
    if isinstance(b1, dict) and isinstance(b2, dict):
        differ = sorted(k for k in b1.keys() | b2.keys() if b1.get(k) != b2.get(k))
        assert not differ, f"request body differs in {differ}"
    assert b1 == b2


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the JSON body matcher of the LLM cassettes with vcrpy."""
    vcr.register_matcher("openai_json_body", openai_json_body_matcher)
