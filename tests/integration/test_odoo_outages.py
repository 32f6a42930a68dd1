"""Odoo outages on the wire (sandbox fault injection): retried when transient, a clear error, never a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from copilot.errors import OdooUnavailable
from odoo_sandbox import SandboxServer
from tests.conftest import make_client


@pytest.fixture
def flaky() -> Iterator[SandboxServer]:
    """A sandbox of its own: faults injected here must not leak into other tests."""
    with SandboxServer() as server:
        yield server


@pytest.mark.parametrize("mode", ["close", "http503"])
def test_transient_failures_are_retried(flaky: SandboxServer, mode: str) -> None:
    client = make_client(flaky, odoo_retries=3)
    client.search_count("purchase.order", [])  # logged in
    flaky.fail_next(2, mode=mode)  # type: ignore[arg-type]
    assert client.search_count("purchase.order", [("state", "=", "purchase")]) == 10


def test_a_stalled_odoo_times_out_into_odoo_unavailable(flaky: SandboxServer) -> None:
    client = make_client(flaky, odoo_retries=1, odoo_timeout=0.3)
    flaky.fail_next(10, mode="delay", delay=5)
    start = time.monotonic()
    with pytest.raises(OdooUnavailable, match="after 2 attempt"):
        client.search_count("purchase.order", [])
    assert time.monotonic() - start < 4  # two timeouts of 0.3 s plus backoff, not the 5 s stall


def test_an_outage_longer_than_the_retries_is_reported(flaky: SandboxServer) -> None:
    client = make_client(flaky, odoo_retries=2)
    client.search_count("purchase.order", [])
    flaky.fail_next(10, mode="http503")
    with pytest.raises(OdooUnavailable, match="after 3 attempt"):
        client.search_count("purchase.order", [])
