"""What a conversation remembers: one turn per question, with the records it was about."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Ref

__all__ = ["MAX_THREAD_CHARS", "Entities", "Turn"]

MAX_THREAD_CHARS = 200


class Entities(BaseModel):
    """The records a turn resolved: purchase orders by name, vendors and products as ``[id, name]``."""

    model_config = ConfigDict(frozen=True)

    purchase_orders: list[str] = Field(default_factory=list, description="e.g. ['P00010']")
    vendors: list[Ref] = Field(default_factory=list)
    products: list[Ref] = Field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the turn named no record."""
        return not (self.purchase_orders or self.vendors or self.products)


class Turn(BaseModel):
    """One question and its answer in a thread (``slack:C123:1700000000.123``, ``cli:alice``)."""

    model_config = ConfigDict(frozen=True)

    question: str
    intent: str
    entities: Entities = Field(default_factory=Entities)
    answer: str = ""
    engine: str = "deterministic"
    id: int | None = Field(default=None, description="Set once stored")
    thread: str | None = Field(default=None, description="Set once stored")
    created_at: datetime | None = Field(default=None, description="UTC; set once stored")
