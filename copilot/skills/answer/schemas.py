"""The answer to a buyer's question: text, the facts it stands on, citations and the grounding verdict."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.guardrails.grounding import GroundingReport
from copilot.prompts import PromptRef
from copilot.state.schemas import Entities

__all__ = ["CAN_ANSWER", "Answer", "Fact", "Intent", "Question"]


class Question(BaseModel):
    """A buyer's question; ``thread`` keeps follow-ups ("it", "that PO") in the conversation store."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The question, as asked")
    thread: str | None = Field(default=None, description="The conversation it belongs to (None: no follow-ups)")


class Intent(StrEnum):
    """What the buyer asks about."""

    PO_STATUS = "po_status"
    LATE_POS = "late_pos"
    SUPPLIER_SAID = "supplier_said"
    PRODUCT_OPEN_POS = "product_open_pos"
    RECEIPTS_THIS_WEEK = "receipts_this_week"
    UNSUPPORTED = "unsupported"


#: What the deterministic engine answers, in the buyer's words (shown when it cannot answer).
CAN_ANSWER: list[str] = [
    "the status of a purchase order, e.g. “what's going on with P00009?”",
    "late purchase orders, for all vendors or one, e.g. “which Wood Corner orders are late?”",
    "what a supplier last wrote about a PO or in general, e.g. “what did Gemini Furniture last say?”",
    "open purchase orders for a product, e.g. “open POs for FURN_8888” or “Office Lamp on order?”",
    "receipts expected this week (or next week), e.g. “what's arriving this week?”",
]


class Fact(BaseModel):
    """One fact an answer states, with the record it comes from."""

    model_config = ConfigDict(frozen=True)

    label: str = Field(description="What the fact is, e.g. 'P00010 expected arrival'")
    value: str
    citation: Citation


class Answer(BaseModel):
    """The copilot's answer to one buyer question."""

    model_config = ConfigDict(frozen=True)

    question: str
    text: str = Field(description="The answer, plain text; every sentence rests on the facts and citations")
    intent: Intent
    entities: Entities = Field(default_factory=Entities, description="The POs, vendors and products resolved")
    facts: list[Fact] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    not_found: list[str] = Field(default_factory=list, description="References the question named that Odoo lacks")
    can_answer: list[str] = Field(default_factory=list, description="What the copilot can answer (when it cannot)")
    grounding: GroundingReport
    resolved_from_thread: bool = Field(default=False, description="A record came from an earlier turn ('it')")
    engine: str = "deterministic"
    prompt: PromptRef | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list, description="LLM path: the tools the model called")
    fallback_reason: str | None = None
    thread: str | None = None
    not_allowed: bool = Field(default=False, description="The asker's role may not read what the question needs")
