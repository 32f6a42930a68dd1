"""Migration 0005 (the controls' exceptions and runs): a database at 0004 upgrades with every row kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot.controls.model import ControlRun, Finding, TrackedException
from copilot.controls.store import ExceptionStore
from copilot.state import ConversationStore, Database, DeadLetterStore, Turn
from copilot.state.database import HEAD

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}  # noqa: S608
    finally:
        con.close()


def test_a_database_at_0004_upgrades_to_0005_with_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    db = Database(f"sqlite:///{path}")
    db.upgrade("0004")
    assert db.current() == "0004"
    ConversationStore(db).append("cli:alice", Turn(question="late POs?", intent="late_pos", answer="P00009"), at=T)
    DeadLetterStore(db).park(
        channel="email", key="k1", reason="unreadable", error_type="EmailParseError", payload=b"raw", summary="x"
    )
    db.close()
    before = dump(path)
    assert "control_exceptions" not in before and before["conversation_turns"] and before["dead_letters"]

    upgraded = Database.open(f"sqlite:///{path}")
    assert upgraded.current() == HEAD == "0005"
    after = dump(path)
    for table, rows in before.items():
        if table != "alembic_version":
            assert after[table] == rows, table  # every row, every column, as it was
    assert after["control_exceptions"] == [] and after["control_runs"] == []

    store = ExceptionStore(upgraded)  # the new tables work
    finding = Finding(control="late_pos", key="purchase.order:9", severity="high", score=0.4, title="P00009",
                      reason="late")  # fmt: skip
    store.save([TrackedException(finding=finding, state="open", first_seen=T, last_seen=T)])
    store.record_run(ControlRun(control="late_pos", ran_at=T, duration_s=0.1, findings=[finding]))
    assert store.get("late_pos", "purchase.order:9") is not None
    assert store.last_runs()["late_pos"].findings == 1
    upgraded.close()


def test_the_exception_store_on_sqlite_and_postgresql(database: Database) -> None:
    store = ExceptionStore(database)
    rows = [
        TrackedException(
            finding=Finding(control=c, key=k, severity=s, score=sc, title=k, reason="r"),  # type: ignore[arg-type]
            state=state,  # type: ignore[arg-type]
            first_seen=T.replace(hour=h),
            last_seen=T,
        )
        for c, k, s, sc, state, h in [
            ("late_pos", "purchase.order:9", "high", 0.4, "open", 9),
            ("late_pos", "purchase.order:5", "critical", 1.2, "open", 8),
            ("late_pos", "purchase.order:7", "medium", 0.1, "acknowledged", 7),
            ("credit_hold", "sale.order:1", "high", 0.5, "open", 10),
        ]
    ]
    store.save(rows)
    assert [e.finding.key for e in store.search(state="open", control="late_pos")] == [
        "purchase.order:5",
        "purchase.order:9",
    ]
    assert [e.finding.key for e in store.search(state=None, severity="medium")] == ["purchase.order:7"]
    assert store.counts() == {("late_pos", "high"): 1, ("late_pos", "critical"): 1, ("credit_hold", "high"): 1}
    assert store.oldest() == {"late_pos": T.replace(hour=8), "credit_hold": T.replace(hour=10)}
    store.save([rows[0].model_copy(update={"state": "closed", "closed_at": T})])
    assert store.get("late_pos", "purchase.order:9").closed_at == T  # type: ignore[union-attr]
    for ran_at in (T, T.replace(hour=12)):
        store.record_run(ControlRun(control="late_pos", ran_at=ran_at, duration_s=0.2, findings=[rows[1].finding]))
    assert store.last_runs()["late_pos"].ran_at == T.replace(hour=12)


def test_only_the_latest_runs_of_each_control_are_kept(database: Database) -> None:
    store = ExceptionStore(database)
    store.keep_runs = 3
    for hour in range(5):
        store.record_run(ControlRun(control="late_pos", ran_at=T.replace(hour=hour), duration_s=0.1, findings=[]))
    store.record_run(ControlRun(control="credit_hold", ran_at=T, duration_s=0.1, findings=[]))
    assert store.run_count("late_pos") == 3 and store.run_count("credit_hold") == 1
    assert store.last_runs()["late_pos"].ran_at == T.replace(hour=4)
