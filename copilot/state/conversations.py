"""Conversation threads: the turns of each thread, so a follow-up can say "it" or "that PO"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from copilot.config import Settings
from copilot.state.db import Base, default_url, make_engine
from copilot.state.schemas import MAX_THREAD_CHARS, Entities, Turn

__all__ = ["ConversationStore", "TurnRow"]


class TurnRow(Base):
    """A stored turn (table ``conversation_turns``)."""

    __tablename__ = "conversation_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread: Mapped[str] = mapped_column(String(MAX_THREAD_CHARS), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    question: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(40))
    entities: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(120))


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


class ConversationStore:
    """Turns keyed by thread, in the project's database (SQLite file by default, any SQLAlchemy URL)."""

    def __init__(self, url: str = "sqlite:///:memory:", *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        if engine is not None:
            Base.metadata.create_all(engine)

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> ConversationStore:
        """The store at ``url``, or the SQLite file ``state.sqlite`` in ``settings.data_dir``."""
        return cls(url or default_url(settings))

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
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            return _turn(row)

    def last(self, thread: str, n: int = 5) -> list[Turn]:
        """The ``n`` most recent turns of ``thread``, oldest first (empty for an unknown thread)."""
        if n <= 0:
            return []
        query = select(TurnRow).where(TurnRow.thread == _check_thread(thread)).order_by(TurnRow.id.desc()).limit(n)
        with Session(self.engine) as session:
            rows = session.scalars(query).all()
            return [_turn(r) for r in reversed(rows)]

    def clear(self, thread: str) -> int:
        """Forget ``thread``; returns how many turns were removed."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(TurnRow).where(TurnRow.thread == _check_thread(thread)))
            return int(getattr(result, "rowcount", 0) or 0)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
