"""The facade, the triage skill, the mail worker and the Slack channel build no client, model or database of
their own: whoever assembles the process gives them the composition root's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.composition import Components, open_root
from copilot.config import Settings
from copilot.odoo.session import OdooSession
from copilot.state import Database
from tests.unit.test_skill_protocol import RecordedOdoo


def _refuse(*_: Any, **__: Any) -> Any:
    raise AssertionError("built a part of its own instead of the root's")


@pytest.fixture
def no_own_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a database or building an embedding model or components fails the test."""
    import copilot.composition
    from copilot.retrieval.embeddings import LocalEmbedder

    monkeypatch.setattr(Database, "from_settings", classmethod(_refuse))
    monkeypatch.setattr(LocalEmbedder, "__init__", _refuse)
    monkeypatch.setattr(copilot.composition.Components, "__init__", _refuse)


def _session() -> OdooSession:
    return OdooSession(
        client=RecordedOdoo(),  # type: ignore[arg-type]
        label="recorded",
        sandbox=True,
        as_of=datetime(2026, 11, 24, tzinfo=UTC),
    )


def test_the_facade_needs_the_roots_components(tmp_path: Path) -> None:
    from copilot.service import Copilot

    settings = Settings(data_dir=tmp_path, injection_embeddings=False)
    with pytest.raises(TypeError, match="components"):
        Copilot(settings, _session())  # type: ignore[call-arg]
    components = Components(settings)
    assert Copilot(settings, _session(), components=components).components is components


def test_the_triage_skill_uses_the_embedder_and_detector_it_is_given(tmp_path: Path) -> None:
    from copilot.skills.triage import load_triager
    from tests.unit.test_retrieval import HashEmbedder

    settings = Settings(data_dir=tmp_path, injection_embeddings=False)
    root = Components(settings, embedder=HashEmbedder())
    with pytest.raises(TypeError, match=r"embedder|injection"):
        load_triager(None, settings, odoo="none", database="none")  # type: ignore[call-arg]
    triager = load_triager(
        None, settings, odoo="none", database="none", embedder=root.embedder, injection=root.injection
    )
    assert triager.embedder is root.embedder and triager.injection is root.injection


def test_a_mail_worker_given_no_database_opens_none(tmp_path: Path, no_own_parts: None) -> None:
    from channels.email import MailWorker

    settings = Settings(data_dir=tmp_path, imap_user="copilot@example.com")
    with pytest.raises(ValueError, match="database"):
        MailWorker(settings, SimpleNamespace(db=None, settings=settings))  # type: ignore[arg-type]


def test_a_mail_worker_keeps_the_roots_database_open(tmp_path: Path) -> None:
    from channels.email import MailWorker

    settings = Settings(data_dir=tmp_path, imap_user="copilot@example.com")
    with Database.open() as db, open_root(settings, db=db, odoo=_session()) as root:
        worker = MailWorker(settings, SimpleNamespace(db=None, settings=settings), db=root.db)  # type: ignore[arg-type]
        assert worker.db is db and worker.ledger.db is db and worker.deadletters.db is db
        worker.close()
        db.ping()  # the root's owner closes it, not the worker


def test_the_slack_channel_needs_the_roots_database(tmp_path: Path, no_own_parts: None) -> None:
    from pydantic import SecretStr

    from channels.slack.app import SlackChannel

    settings = Settings(data_dir=tmp_path, slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("s"))
    with pytest.raises(TypeError, match="db"):
        SlackChannel(settings, lambda: None)  # type: ignore[call-arg, arg-type, return-value]
