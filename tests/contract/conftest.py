"""Fixtures for the contract tests: a running sandbox (skipped without the recorded reference)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.sandbox import SandboxServer

#: The recorded transcripts (vcr cassettes) kept with the tests.
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "cassettes" / "odoo"


@pytest.fixture(scope="module")
def contract_sandbox() -> Iterator[SandboxServer]:
    """One sandbox per test module (the recorded scenarios only read, or are denied)."""
    if not (TRANSCRIPTS / "index.json").is_file():
        pytest.skip(f"the recorded Odoo transcripts are not available at {TRANSCRIPTS}")
    with SandboxServer() as server:
        yield server
