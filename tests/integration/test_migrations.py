"""Schema migrations: a data dir written before them upgrades with no loss, and the models match the migrations.

The data dir of ``tests/fixtures/main-data-dir`` was written by the code before migrations (three SQLite
files: ``state.sqlite``, ``audit.sqlite``, ``http-idempotency.sqlite``, no ``alembic_version``), with
rows in every table. Opening it now must keep every row, byte for byte, move the audit trail and the
idempotency keys into ``state.sqlite`` (the audit chain and its anchors still verify) and leave the schema
at the newest revision.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import Column, Integer, MetaData
from typer.testing import CliRunner

from channels.email.ledger import EmailLedger
from channels.email.notify import Outbox
from channels.http.idempotency import IdempotencyStore
from channels.http.webhook_events import EventLedger
from channels.slack.state import SlackState
from copilot.audit import AuditEntry, AuditTrail
from copilot.config import Settings, load_settings
from copilot.state import Base, ConversationStore, Database, DeadLetterStore, Turn
from copilot.state.database import HEAD

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "main-data-dir"
FILES = ("state", "audit", "http-idempotency")
KEY = "k" * 40
#: When the fixture's rows were written (its ``at=`` and clocks).
T = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def old_data_dir(folder: Path) -> Path:
    """Rebuild the data dir the code before migrations wrote."""
    folder.mkdir(parents=True)
    for name in FILES:
        con = sqlite3.connect(folder / f"{name}.sqlite")
        con.executescript((FIXTURE / f"{name}.sql").read_text(encoding="utf-8"))
        con.close()
    shutil.copy(FIXTURE / "audit.anchors.jsonl", folder / "audit.anchors.jsonl")
    return folder


def tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file (but Alembic's), in primary-key order."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: con.execute(f'SELECT * FROM "{name}" ORDER BY 1, 2').fetchall()  # noqa: S608 - names from the file
            for name in names
            if name != "alembic_version"
        }
    finally:
        con.close()


#: Columns 0004 fills from the row's own time: (added column, column it copies).
HANDED_OVER = {"webhook_events": ("queued_at", "created_at"), "slack_seen": ("handed_at", "seen_at")}


def columns(path: Path, table: str) -> list[str]:
    """The column names of a table of a SQLite file, in order."""
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    finally:
        con.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=old_data_dir(tmp_path / "data"), audit_key=SecretStr(KEY))


def test_a_data_dir_written_before_migrations_upgrades_with_no_loss(settings: Settings) -> None:
    data = Path(settings.data_dir)
    before: dict[str, list[tuple[Any, ...]]] = {}
    for name in FILES:
        before |= tables(data / f"{name}.sqlite")
    assert all(before.values()), "the fixture has rows in every table"

    db = Database.from_settings(settings)
    assert db.current() == db.head()
    after = tables(data / "state.sqlite")
    for table, rows in before.items():
        width = len(rows[0])  # columns added by later migrations (0003's claims, 0004's hand-over) come last
        assert [row[:width] for row in after[table]] == rows, table  # every row, every column, as it was
        added = columns(data / "state.sqlite", table)[width:]
        for row in after[table]:
            values = dict(zip(added, row[width:], strict=True))
            handed = HANDED_OVER.get(table)  # an old event or Slack delivery was handed over when received
            if handed is not None:
                assert values.pop(handed[0]) == row[columns(data / "state.sqlite", table).index(handed[1])], table
            assert all(value is None for value in values.values()), table  # the others are empty
    db.close()
    assert not (data / "audit.sqlite").exists() and not (data / "http-idempotency.sqlite").exists()
    assert tables(data / "audit.sqlite.moved")["audit_records"] == before["audit_records"]  # kept as a backup

    again = Database.from_settings(settings)  # a restart: nothing is moved twice
    assert tables(data / "state.sqlite") == after
    again.close()


def test_a_data_dir_that_used_only_some_stores_gets_the_missing_tables(tmp_path: Path) -> None:
    folder = tmp_path / "cli-only"
    folder.mkdir()
    con = sqlite3.connect(folder / "state.sqlite")  # `copilot ask` alone made conversation_turns, nothing else
    con.executescript((FIXTURE / "state.sql").read_text(encoding="utf-8"))
    for name in list(tables(folder / "state.sqlite")):
        if name != "conversation_turns":
            con.execute(f'DROP TABLE "{name}"')
    con.commit()
    con.close()
    with Database.from_settings(load_settings(data_dir=folder)) as db:
        assert set(tables(folder / "state.sqlite")) == set(Base.metadata.tables)
        assert len(ConversationStore(db).last("slack:C1:1.0")) == 2
        letter = DeadLetterStore(db).park(channel="email", key="k", reason="r", error_type="E", payload=b"x")
        assert DeadLetterStore(db).get(letter.id) is not None


def test_audit_records_left_in_the_write_ahead_log_of_a_crashed_process_are_moved_too(tmp_path: Path) -> None:
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    writer = sqlite3.connect(tmp_path / "audit.sqlite")
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # everything stays in audit.sqlite-wal
    writer.executescript((FIXTURE / "audit.sql").read_text(encoding="utf-8"))
    for suffix in ("", "-wal", "-shm"):  # the files as a killed process leaves them
        shutil.copy(tmp_path / f"audit.sqlite{suffix}", crashed / f"audit.sqlite{suffix}")
    writer.close()
    assert (crashed / "audit.sqlite-wal").stat().st_size > 0
    settings = load_settings(data_dir=crashed, audit_key=SecretStr(KEY))
    with Database.from_settings(settings) as db:
        trail = AuditTrail.from_settings(settings, db)
        assert trail.count() == 3 and trail.verify(stored_anchor=False).ok


def test_the_upgraded_stores_read_the_old_rows(settings: Settings) -> None:
    with Database.from_settings(settings) as db:
        turns = ConversationStore(db).last("slack:C1:1.0")
        assert [t.question for t in turns] == ["late POs?", "and its vendor?"]
        assert turns[0].entities.purchase_orders == ["P00010"] and turns[0].created_at == T
        letters = DeadLetterStore(db).list(status=None)
        assert {(x.channel, x.status) for x in letters} == {("email", "parked"), ("slack", "replayed")}
        email = DeadLetterStore(db).find("email", "mid:<a@x>")
        assert email is not None and DeadLetterStore(db).get(email.id).payload == b"\xffraw mail"  # type: ignore[union-attr]
        ledger = EmailLedger(db)
        assert ledger.status("mid:<a@x>") == "done" and ledger.attempts("mid:<b@x>") == 1
        assert [d.target for d in Outbox(db).entries()] == ["slack:C_PURCHASING"]
        assert SlackState(db).first_time("event:Ev1", now=T + timedelta(minutes=5)) is False  # still a retry
        event = EventLedger(db).get("n8n", "evt-1")
        assert event is not None and event.status == "done" and event.result == {"ok": True}
        stored = IdempotencyStore(db, clock=lambda: T.timestamp() + 60).begin("client-a", "key-1", "f" * 64)
        assert stored is not None and (stored.status_code, stored.body) == (200, b'{"answer": "ok"}')

        trail = AuditTrail.from_settings(settings, db)
        report = trail.verify()  # the moved chain, checked against the anchor the old code signed
        assert report.ok and report.records == 3 and report.anchors, report.summary()
        trail.append(AuditEntry(actor="slack:U9", channel="slack", skill="answer", input_text="q"))
        assert trail.verify().ok and trail.count() == 4
        trail.close()


def test_several_processes_opening_a_new_data_dir_at_once_migrate_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Database.open(url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Database(url) as db:
        assert db.current() == db.head()


def test_databases_migrated_on_several_threads_at_once_all_reach_head(tmp_path: Path) -> None:
    """Alembic keeps the running migration in module globals: two at once in one process must take turns."""
    urls = [f"sqlite:///{tmp_path / f'db{i}' / 'state.sqlite'}" for i in range(4)]

    def migrate(i: int) -> str | None:
        with Database.open(urls[i]) as db:
            return db.current()

    results: list[str | None] = [None] * len(urls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = migrate(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(urls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and results == [HEAD] * len(urls)


def test_a_database_file_named_like_an_old_one_is_not_moved_into_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    with Database.open(url) as db:
        ConversationStore(db).append("cli:a", Turn(question="q", intent="late_pos"))
    with Database.open(url) as again:
        assert len(ConversationStore(again).last("cli:a")) == 1
    assert not (tmp_path / "audit.sqlite.moved").exists()


def test_head_names_the_newest_migration(database: Database) -> None:
    assert database.head() == HEAD == database.current()


def test_the_models_and_the_migrations_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"the models differ from the migrations (add a migration): {diff}"


def test_a_model_change_without_a_migration_is_found(database: Database) -> None:
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["dead_letters"].append_column(Column("priority", Integer, nullable=True))
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    assert [(d[0], d[3].name) for d in diff] == [("add_column", "priority")]


def test_copilot_db_current_and_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.cli import app

    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "fresh"))
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0 and "not migrated" in before.output, before.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and f"{HEAD} (head)" in upgraded.output, upgraded.output
    after = runner.invoke(app, ["db", "current"])
    assert after.exit_code == 0 and f"{HEAD} (head)" in after.output and "state.sqlite" in after.output
