"""Live tests run against a real Odoo 18 or 19 when COPILOT_ODOO_URL (and the credentials) are set."""

from __future__ import annotations

import os

import httpx
import pytest

from copilot.config import Settings, load_settings
from copilot.odoo import OdooClient


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/live is a live test, and may reach the configured Odoo host."""
    for item in items:
        if "tests/live/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.live)
            item.add_marker(pytest.mark.enable_socket)


@pytest.fixture(scope="session")
def live_settings() -> Settings:
    """Settings from the environment; skips the test when no Odoo URL is configured."""
    if not os.environ.get("COPILOT_ODOO_URL"):
        pytest.skip("live Odoo not configured: set COPILOT_ODOO_URL, COPILOT_ODOO_DB and the copilot's credentials")
    return load_settings()


@pytest.fixture
def live_client(live_settings: Settings) -> OdooClient:
    """A client of the configured copilot user on the real Odoo."""
    return OdooClient.from_settings(live_settings)


@pytest.fixture(scope="session")
def live_series(live_settings: Settings) -> int:
    """The live Odoo's major version (18, 19), from ``/web/webclient/version_info`` (a route of both series)."""
    url = f"{str(live_settings.odoo_url).rstrip('/')}/web/webclient/version_info"
    response = httpx.post(url, json={"jsonrpc": "2.0", "method": "call", "params": {}}, timeout=30)
    response.raise_for_status()
    return int(response.json()["result"]["server_version_info"][0])
