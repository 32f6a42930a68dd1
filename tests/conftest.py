"""Shared fixtures: isolated settings, the Odoo sandbox, an allow-listed client, and the vcr config."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from copilot.config import Settings, get_settings, load_settings
from copilot.odoo import OdooClient
from copilot.state import Database

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 in their environment, and Rich fixes a console's
# size at creation when both are set (the CLI's console is built when a test module imports copilot.cli): it
# would ignore a test's own COLUMNS (CliRunner's env).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

REPO = Path(__file__).resolve().parents[1]
ODOO_CASSETTES = REPO / "tests" / "cassettes" / "odoo"
#: Read at import: the test-isolation fixture clears every COPILOT_* variable before each test.
SERVICES_REQUIRED = os.environ.get("COPILOT_REQUIRE_SERVICES", "").strip() == "1"


#: Test directories whose tests run with sockets disabled (pytest-socket): only in-process doubles there.
SOCKET_FREE = (REPO / "tests" / "unit", REPO / "tests" / "docs")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--part NAME``: print "NAME: N tests in X s" at the end (``make test`` runs unit, then integration)."""
    parser.addoption("--part", default=None, help="name of this part of the suite, for its one-line summary")


_STARTED = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note when the run started (collection included), for ``--part``'s summary."""
    session.config.stash[_STARTED] = time.monotonic()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """With ``--part``, one line: how many tests ran (passed, failed, errors, skipped) and the wall time."""
    part = config.getoption("--part")
    if not part:
        return
    counts = {k: len(terminalreporter.stats.get(k, [])) for k in ("passed", "failed", "error", "skipped")}
    seconds = time.monotonic() - config.stash.get(_STARTED, time.monotonic())
    ran = counts["passed"] + counts["failed"] + counts["error"]
    detail = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "passed")
    terminalreporter.write_line(f"{part}: {ran} tests in {seconds:.0f} s" + (f" ({detail})" if detail else ""))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unit tests are socket-free: no network, not even loopback (integration, contract, e2e and live may use it)."""
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in SOCKET_FREE):
            item.add_marker(pytest.mark.disable_socket)


@pytest.fixture(scope="session", autouse=True)
def _one_embedding_model_per_run() -> Iterator[None]:
    """The local embedding model's weights load once per test run, and each distinct text is embedded once.

    Each composition root (every CLI command a test invokes, every ``Copilot``, every injection detector) builds
    its own embedder, as in production; here they share the loaded, read-only model and its (deterministic)
    vectors, which saves ~4 s per root and the re-embedding of the same attack library and sample knowledge base.
    Each embedder still loads (shared), announces its load (``on_load``) and records ``load_seconds`` before its
    first vectors, so what the tests observe is unchanged.
    """
    import numpy as np

    from copilot.retrieval.embeddings import LocalEmbedder

    load, embed = LocalEmbedder._load, LocalEmbedder.embed
    loaded: list[Any] = []
    vectors: dict[str, Any] = {}
    lock = threading.Lock()

    def shared_load(self: LocalEmbedder) -> Any:
        with lock:
            if not loaded:
                loaded.append(load(self))
                return loaded[0]
        if self.on_load is not None:
            self.on_load(self.info)
        self.load_seconds = 0.0
        return loaded[0]

    def cached_embed(self: LocalEmbedder, texts: Any) -> Any:
        if not texts:
            return embed(self, texts)
        self.load()  # as the real embed: the model is loaded (and announced) before any vector
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:
            fresh = embed(self, missing)
            with lock:
                vectors.update(zip(missing, fresh, strict=True))
        return np.stack([vectors[t] for t in texts])

    patch = pytest.MonkeyPatch()
    patch.setattr(LocalEmbedder, "_load", shared_load)
    patch.setattr(LocalEmbedder, "embed", cached_embed)
    yield
    patch.undo()


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
    """One Odoo sandbox for the session, served on loopback (read-only tests share it; unit tests get theirs
    in-process, tests/unit/conftest.py)."""
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


@contextmanager
def in_process_sandbox(**options: Any) -> Iterator[Any]:
    """A ``SandboxServer(**options)`` never started: clients reach it in-process (no port); released on exit."""
    from odoo_sandbox import SandboxServer

    server = SandboxServer(**options)
    try:
        yield server
    finally:
        server.stop()


def make_client(server: Any, login: str = "copilot", password: str = "copilot", **overrides: Any) -> OdooClient:
    """An ``OdooClient`` logged in to ``server`` as ``login``: over HTTP when it is serving, else in-process."""
    settings = load_settings(odoo_login=login, odoo_password=password, odoo_backoff=0.01, **overrides)
    if server.serving:
        return OdooClient.from_settings(settings, url=server.url, db=server.db)
    from odoo_sandbox import SandboxTransport

    transport = SandboxTransport(server, login=login, secret=password, timeout=settings.odoo_timeout)
    return OdooClient(
        transport,
        approval_model=settings.approval_model,
        retries=settings.odoo_retries,
        backoff=settings.odoo_backoff,
        description="sandbox (in-process)",
    )


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
