"""Conversation state: turns keyed by thread (SQLite and PostgreSQL), oldest first, isolated per thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from copilot.config import load_settings
from copilot.state import STATE_FILE, ConversationStore, Database, Entities, Turn, default_url
from copilot.tools.schemas import Ref

AZURE = Ref(id=15, name="Azure Interior")


def turn(question: str, *pos: str) -> Turn:
    return Turn(question=question, intent="po_status", entities=Entities(purchase_orders=list(pos)), answer="...")


def test_append_and_last_keep_order_and_limit(database: Database) -> None:
    store = ConversationStore(database)
    start = datetime(2026, 11, 26, 9, tzinfo=UTC)
    for i in range(5):
        stored = store.append(
            "slack:C123:1700000000.123", turn(f"q{i}", f"P0000{i + 1}"), at=start + timedelta(minutes=i)
        )
        assert stored.id is not None and stored.thread == "slack:C123:1700000000.123"
    last = store.last("slack:C123:1700000000.123", 3)
    assert [t.question for t in last] == ["q2", "q3", "q4"]  # the most recent three, oldest first
    assert last[-1].entities.purchase_orders == ["P00005"]
    assert last[-1].created_at == start + timedelta(minutes=4) and last[-1].created_at.tzinfo is not None
    assert store.last("slack:C123:1700000000.123", 0) == []


def test_threads_are_isolated_and_can_be_cleared(database: Database) -> None:
    store = ConversationStore(database)
    store.append("cli:alice", turn("a", "P00010"))
    store.append("cli:bob", turn("b", "P00009"))
    assert [t.question for t in store.last("cli:alice")] == ["a"]
    assert store.last("cli:nobody") == []
    assert store.clear("cli:alice") == 1
    assert store.last("cli:alice") == [] and len(store.last("cli:bob")) == 1


def test_entities_round_trip_with_vendors_and_products(database: Database) -> None:
    store = ConversationStore(database)
    entities = Entities(
        purchase_orders=["P00010"], vendors=[AZURE], products=[Ref(id=6, name="[FURN_8888] Office Lamp")]
    )
    store.append("cli:x", Turn(question="q", intent="late_pos", entities=entities, answer="a", engine="llm:m"))
    (back,) = store.last("cli:x")
    assert back.entities == entities and back.engine == "llm:m" and back.intent == "late_pos"


def test_the_sqlite_file_lives_in_the_data_dir_and_survives_a_restart(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    assert default_url(settings) == f"sqlite:///{tmp_path / 'data' / STATE_FILE}"
    first = ConversationStore.from_settings(settings)
    first.append("cli:alice", turn("what about P00010?", "P00010"))
    first.close()
    again = ConversationStore.from_settings(settings)
    assert [t.entities.purchase_orders for t in again.last("cli:alice")] == [["P00010"]]
    assert (tmp_path / "data" / STATE_FILE).is_file()
    again.close()


@pytest.mark.parametrize("thread", ["", "   ", "x" * 201])
def test_bad_thread_keys_are_refused(thread: str) -> None:
    with pytest.raises(ValueError, match="thread"):
        ConversationStore(Database.open()).append(thread, turn("q"))
