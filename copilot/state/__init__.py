"""Local state in the project's database (SQLAlchemy): conversation threads today."""

from copilot.state.conversations import ConversationStore, TurnRow
from copilot.state.db import STATE_FILE, Base, default_url, make_engine
from copilot.state.deadletters import DeadLetter, DeadLetterStore
from copilot.state.schemas import Entities, Turn

__all__ = [
    "STATE_FILE",
    "Base",
    "ConversationStore",
    "DeadLetter",
    "DeadLetterStore",
    "Entities",
    "Turn",
    "TurnRow",
    "default_url",
    "make_engine",
]
