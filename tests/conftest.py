"""Shared fixtures: isolated settings, the Odoo sandbox, an allow-listed client, and the vcr config."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.config import Settings, get_settings, load_settings
from copilot.odoo import OdooClient
from copilot.state import Database

REPO = Path(__file__).resolve().parents[1]
ODOO_CASSETTES = REPO / "tests" / "cassettes" / "odoo"
#: Read at import: the test-isolation fixture clears every COPILOT_* variable before each test.
SERVICES_REQUIRED = os.environ.get("COPILOT_REQUIRE_SERVICES", "").strip() == "1"


@pytest.fixture(autouse=True)
def _isolated_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's COPILOT_* variables or .env leak into a test (live tests excepted); data goes to a temp dir."""
    import os

    if request.node.get_closest_marker("live"):
        return
    for name in list(os.environ):
        if name.startswith("COPILOT_") and name != "COPILOT_LIVE":
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """One Odoo sandbox for the session (read-only tests share it)."""
    from odoo_sandbox import SandboxServer

    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the session (each test takes its own database).

    Skipped when PostgreSQL is not installed, unless ``COPILOT_REQUIRE_SERVICES=1`` (CI): then it fails.
    """
    from tests.servers.postgres import PostgresServer, postgres_bin

    if postgres_bin() is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if SERVICES_REQUIRED:
            pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The project's database, migrated: a SQLite file, then a fresh PostgreSQL database (store tests run on both)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    db = Database.open(url)
    yield db
    db.close()


def make_client(server: Any, login: str = "copilot", password: str = "copilot", **overrides: Any) -> OdooClient:
    """An ``OdooClient`` logged in to ``server`` as ``login``."""
    settings = load_settings(odoo_login=login, odoo_password=password, odoo_backoff=0.01, **overrides)
    return OdooClient.from_settings(settings, url=server.url, db=server.db)


@pytest.fixture
def odoo(sandbox: Any) -> OdooClient:
    """A fresh client of the copilot user on the session sandbox."""
    return make_client(sandbox)


# -- vcr (pytest-recording) ------------------------------------------------------------------------
def _jsonrpc_params(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return body
    data.pop("id", None)  # odoorpc sends a random JSON-RPC id
    return data


def jsonrpc_body_matcher(r1: Any, r2: Any) -> None:
    """Match JSON-RPC requests on their body without the random ``id``."""
    assert _jsonrpc_params(r1.body) == _jsonrpc_params(r2.body)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the JSON-RPC matcher with vcrpy."""
    vcr.register_matcher("jsonrpc_body", jsonrpc_body_matcher)


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """Replay only; match on method, URI and JSON body; never store cookies or auth headers."""
    return {
        "record_mode": "none",
        "match_on": ["method", "uri", "jsonrpc_body"],
        "filter_headers": ["authorization", "cookie", "set-cookie", "x-api-key"],
        "decode_compressed_response": True,
    }


# -- Slack's Web API, stood in for by a recording local server -----------------------------------------
@pytest.fixture
def slack_api() -> Iterator[Any]:
    """A recording stand-in for Slack's Web API whose members match the sandbox's Odoo users by email.

    UADMIN is Mitchell Admin (the POs' buyer; Purchase administrator, so role manager), UBUYER Marc Demo
    (Purchase user: buyer), USTRANGER has no Odoo user (no role: allowed nothing).
    """
    from tests.fakes.slack_api import FakeSlackAPI, SlackUser

    users = [
        SlackUser("UADMIN", "admin@yourcompany.example.com", "Mitchell Admin"),
        SlackUser("UBUYER", "mark.brown23@example.com", "Marc Demo"),
        SlackUser("USTRANGER", "stranger@example.org", "Someone Else"),
    ]
    with FakeSlackAPI(users=users) as api:
        yield api
