"""Integration fixtures: real servers on loopback (Dovecot IMAP, Redis, aiosmtpd SMTP) and one Copilot per module.

Without Dovecot (or Redis) installed the tests that need it are skipped, unless ``COPILOT_REQUIRE_SERVICES=1`` (CI sets
it): then a missing server fails the run instead of hiding the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from copilot.config import Settings, load_settings
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.state import ConversationStore, Database
from tests.servers.dovecot import DovecotServer, dovecot_binary
from tests.servers.redis import RedisServer, redis_binary
from tests.servers.smtp import SmtpCapture

INTERNAL_DOMAIN = "yourcompany.example.com"
COPILOT_ADDRESS = f"copilot@{INTERNAL_DOMAIN}"
SUPPORT_CHANNEL = "C_SUPPORT"
BUYER_CHANNEL = "C_PURCHASING"


#: Read at import: the test-isolation fixture clears every COPILOT_* variable before each test.
SERVICES_REQUIRED = os.environ.get("COPILOT_REQUIRE_SERVICES", "").strip() == "1"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot IMAP server on 127.0.0.1 for the session (each test takes its own mailbox user)."""
    if dovecot_binary() is None:
        message = "dovecot is not installed (apt-get install dovecot-imapd)"
        if SERVICES_REQUIRED:
            pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    with DovecotServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway Redis on 127.0.0.1 for the session (no persistence); ``redis`` empties it for each test."""
    if redis_binary() is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if SERVICES_REQUIRED:
            pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied: no queue or counter of another test is left."""
    redis_server.flush()
    return redis_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpCapture]:
    """An SMTP server on 127.0.0.1 that keeps every message it receives."""
    with SmtpCapture() as server:
        yield server


def make_copilot_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of the shared Copilot: sandbox Odoo, deterministic engine, a generous rate limit."""
    values: dict[str, Any] = {"data_dir": data_dir, "rate_limit_per_minute": 10_000, "_env_file": None}
    return load_settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def copilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copilot]:
    """One Copilot on one sandbox for the module (the embedding model loads once)."""
    settings = make_copilot_settings(tmp_path_factory.mktemp("copilot"))
    with odoo_session(settings) as odoo:
        conversations = ConversationStore(Database.open())
        copilot = Copilot(settings, odoo, conversations=conversations)
        copilot.triager  # noqa: B018 - load it now, once
        yield copilot
        conversations.close()


def imap(settings: Settings) -> IMAPClient:
    """A second IMAP connection to the test mailbox, to deliver messages and read their flags."""
    client = IMAPClient(settings.imap_host or "", port=settings.imap_port, ssl=False, timeout=10)
    client.login(settings.imap_user or "", settings.imap_password.get_secret_value() if settings.imap_password else "")
    client.select_folder(settings.imap_folder)
    return client


def deliver(settings: Settings, *messages: bytes) -> list[int]:
    """APPEND ``messages`` to the mailbox (unread, as a mail server delivers them); returns their UIDs."""
    client = imap(settings)
    try:
        before = set(client.search(["ALL"]))
        for raw in messages:
            client.append(settings.imap_folder, raw)
        return sorted(set(client.search(["ALL"])) - before)
    finally:
        client.logout()


def flags(settings: Settings) -> dict[int, set[bytes]]:
    """Each message's flags by UID."""
    client = imap(settings)
    try:
        uids = client.search(["ALL"])
        return {uid: set(data[b"FLAGS"]) for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}
    finally:
        client.logout()
