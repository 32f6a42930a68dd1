"""The project's database (one ``Database``, Alembic migrations) and the stores of conversations and dead letters."""

from copilot.state.conversations import ConversationStore
from copilot.state.database import Database, Store, database_url
from copilot.state.db import STATE_FILE, default_url
from copilot.state.deadletters import DeadLetter, DeadLetterStore
from copilot.state.schemas import Entities, Turn
from copilot.state.tables import Base, DeadLetterRow, TurnRow

__all__ = [
    "STATE_FILE",
    "Base",
    "ConversationStore",
    "Database",
    "DeadLetter",
    "DeadLetterRow",
    "DeadLetterStore",
    "Entities",
    "Store",
    "Turn",
    "TurnRow",
    "database_url",
    "default_url",
]
