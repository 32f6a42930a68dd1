"""Conversation threads: the turns of each thread, so a follow-up can say "it" or "that PO"."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from copilot.state.database import Store
from copilot.state.schemas import MAX_THREAD_CHARS, Entities, Turn
from copilot.state.tables import TurnRow

__all__ = ["ConversationStore", "TurnRow"]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps no time zone


def _turn(row: TurnRow) -> Turn:
    return Turn(
        id=row.id,
        thread=row.thread,
        created_at=_aware(row.created_at),
        question=row.question,
        intent=row.intent,
        entities=Entities.model_validate(row.entities or {}),
        answer=row.answer,
        engine=row.engine,
    )


def _check_thread(thread: str) -> str:
    if not thread or not thread.strip():
        raise ValueError("thread must not be empty")
    if len(thread) > MAX_THREAD_CHARS:
        raise ValueError(f"thread is longer than {MAX_THREAD_CHARS} characters")
    return thread


class ConversationStore(Store):
    """Turns keyed by thread, in the project's database."""

    def append(self, thread: str, turn: Turn, *, at: datetime | None = None) -> Turn:
        """Store ``turn`` at the end of ``thread``; returns it with its id, thread and time."""
        row = TurnRow(
            thread=_check_thread(thread),
            created_at=at or turn.created_at or datetime.now(UTC),
            question=turn.question,
            intent=turn.intent,
            entities=turn.entities.model_dump(mode="json"),
            answer=turn.answer,
            engine=turn.engine,
        )
        with self.db.session() as session, session.begin():
            session.add(row)
            session.flush()
            return _turn(row)

    def last(self, thread: str, n: int = 5) -> list[Turn]:
        """The ``n`` most recent turns of ``thread``, oldest first (empty for an unknown thread)."""
        if n <= 0:
            return []
        query = select(TurnRow).where(TurnRow.thread == _check_thread(thread)).order_by(TurnRow.id.desc()).limit(n)
        with self.db.session() as session:
            rows = session.scalars(query).all()
            return [_turn(r) for r in reversed(rows)]

    def clear(self, thread: str) -> int:
        """Forget ``thread``; returns how many turns were removed."""
        with self.db.session() as session, session.begin():
            result = session.execute(delete(TurnRow).where(TurnRow.thread == _check_thread(thread)))
            return int(getattr(result, "rowcount", 0) or 0)
