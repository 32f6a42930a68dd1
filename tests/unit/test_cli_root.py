"""Every ``copilot`` command takes its Odoo session, database, stores and models from one composition root.

The CLI is given a root of recorded parts (``app(obj=root)``); building any part outside it (an Odoo session,
a sandbox, a database, an embedding model, another root) fails the test.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.composition import Root, open_root
from copilot.config import Settings
from copilot.odoo.session import OdooSession
from copilot.state import Database
from tests.unit.test_skill_protocol import RecordedOdoo


class RecordedOdooWithApprovals(RecordedOdoo):
    """The recorded Odoo with the approval addon's model."""

    approval_model = "copilot.approval.request"


def _refuse(*_: Any, **__: Any) -> Any:
    raise AssertionError("a part was built outside the command's root")


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Root]:
    """A root of recorded parts: an Odoo that records its calls, an in-memory database, a hash embedder."""
    from tests.unit.test_retrieval import HashEmbedder

    settings = Settings(data_dir=tmp_path / "data", injection_embeddings=False)
    session = OdooSession(
        client=RecordedOdooWithApprovals(),  # type: ignore[arg-type]
        label="recorded",
        sandbox=True,
        as_of=datetime(2026, 11, 24, tzinfo=UTC),
    )
    with Database.open() as db, open_root(settings, db=db, odoo=session, embedder=HashEmbedder()) as opened:
        yield opened


@pytest.fixture(autouse=True)
def nothing_outside_the_root(root: Root, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening an Odoo session, a sandbox, a database, an embedder or another root fails the test."""
    from copilot.retrieval.embeddings import LocalEmbedder

    for name, module in list(sys.modules.items()):
        if module is None or not (
            name.startswith("copilot.cli") or name in ("copilot.service", "copilot.odoo.session")
        ):
            continue
        for attr in ("odoo_session", "open_root"):
            if hasattr(module, attr):
                monkeypatch.setattr(module, attr, _refuse)
    monkeypatch.setattr(Database, "__init__", _refuse)
    monkeypatch.setattr(LocalEmbedder, "__init__", _refuse)


def _invoke(root: Root, args: list[str]) -> Any:
    result = CliRunner().invoke(app, args, obj=root)
    if result.exc_info is not None and isinstance(result.exception, AssertionError):
        import traceback

        traceback.print_exception(*result.exc_info)
    assert not isinstance(result.exception, AssertionError), result.exception
    return result


@pytest.mark.parametrize(
    ("args", "model"),
    [
        (["odoo", "late", "--json"], "purchase.order"),
        (["odoo", "po", "P00009", "--json"], "purchase.order"),
        (["odoo", "partner", "Deco", "--json"], "res.partner"),
        (["odoo", "stock", "FURN_8888", "--json"], "stock.quant"),
        (["approvals", "list", "--json"], None),
        (["approvals", "show", "1", "--json"], None),
        (["triage", "train", "--json"], None),
        (["triage", "report", "--json"], None),
    ],
)
def test_odoo_commands_read_the_roots_odoo(root: Root, args: list[str], model: str | None) -> None:
    _invoke(root, args)
    calls = root.odoo.client.calls  # type: ignore[attr-defined]
    assert calls, "the command never read the root's Odoo"
    if model is not None:
        assert model in {m for _, m in calls}


def test_db_current_reports_the_roots_database(root: Root) -> None:
    result = _invoke(root, ["db", "current", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["database"] == root.db.label


def test_deadletters_list_and_show_read_the_roots_store(root: Root) -> None:
    letter = root.deadletters.park(
        channel="email", key="uid:7", reason="unreadable", error_type="EmailParseError", payload=b"x"
    )
    listed = _invoke(root, ["deadletters", "list", "--json"])
    assert [x["id"] for x in json.loads(listed.stdout)] == [letter.id]
    shown = _invoke(root, ["deadletters", "show", str(letter.id), "--json"])
    assert json.loads(shown.stdout)["key"] == "uid:7"


def test_audit_show_reads_the_roots_trail(root: Root) -> None:
    result = _invoke(root, ["audit", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_kb_index_and_search_embed_with_the_roots_embedder(root: Root, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nA damaged chair is returned within 30 days.\n", encoding="utf-8")
    indexed = _invoke(root, ["index", str(docs), "--json"])
    assert indexed.exit_code == 0, indexed.output
    found = _invoke(root, ["kb", "search", "damaged chair", "--json"])
    assert found.exit_code == 0, found.output
    assert "damaged chair" in json.loads(found.stdout)[0]["text"]
    assert root.vector_store().where.endswith(str(root.settings.data_dir / "chroma"))


def test_a_command_given_no_root_opens_one_and_closes_it(monkeypatch: pytest.MonkeyPatch, root: Root) -> None:
    import copilot.cli._root as cli_root

    opened: list[Root] = []

    def recording_open_root(settings: Settings, **_: Any) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def cm() -> Iterator[Root]:
            opened.append(root)
            yield root

        return cm()

    monkeypatch.setattr(cli_root, "open_root", recording_open_root)
    result = CliRunner().invoke(app, ["odoo", "late", "--json"])
    assert result.exit_code == 0, result.output
    assert opened == [root]  # one root for the command
