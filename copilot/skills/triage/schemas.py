"""Pydantic models of the triage skill: what goes in, what comes out, what a proposal looks like."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.prompts import PromptRef
from copilot.text.invisible import VisibleText

__all__ = [
    "DEFAULT_SEED",
    "FIELDS",
    "ClassifierMode",
    "FieldPrediction",
    "Label",
    "LabelField",
    "LabelScore",
    "OpenOrder",
    "ProposedTicketUpdate",
    "SimilarTicket",
    "TicketClassification",
    "TriageInput",
]

LabelField = Literal["category", "team", "priority"]
#: The labels the copilot predicts, in display order.
FIELDS: tuple[LabelField, ...] = ("category", "team", "priority")
ClassifierMode = Literal["trained", "cold_start"]
#: Seed of every random choice in training (folds, solver); here so the CLI names it without scikit-learn.
DEFAULT_SEED = 42


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Label(_Frozen):
    """One label as Odoo holds it: a record id (category, team) or a selection key (priority)."""

    value: int | str = Field(description="Odoo id of the category/type or team; the priority key '0'..'3'")
    name: str

    def __str__(self) -> str:
        return self.name


class LabelScore(_Frozen):
    """A label with its probability."""

    label: Label
    probability: float = Field(ge=0, le=1)


class FieldPrediction(_Frozen):
    """The prediction for one field, with how sure the copilot is and why."""

    field: LabelField
    label: Label
    probability: float = Field(ge=0, le=1, description="Calibrated in trained mode; a similarity score in cold start")
    alternatives: list[LabelScore] = Field(description="The next most likely labels")
    source: Literal["classifier", "zero_shot", "llm"]
    llm_label: Label | None = Field(default=None, description="What the LLM chose, when one was asked")
    agrees_with_llm: bool | None = None


class SimilarTicket(_Frozen):
    """A past ticket close to this one: the evidence behind the prediction."""

    id: int
    reference: str | None
    subject: str
    similarity: float
    category: Label | None
    team: Label | None
    priority: Label | None


class OpenOrder(_Frozen):
    """A sale order of the customer that the text is about."""

    id: int
    name: str
    customer: str
    state: str
    delivery_status: str | None
    commitment_date: date | None
    referenced: bool = Field(description="True when the text names the order; False when it is one of the open orders")


class ProposedTicketUpdate(_Frozen):
    """A change to a ticket's labels that only an approval request can carry out: never written here."""

    action_type: Literal["set_ticket_labels"] = "set_ticket_labels"
    model: str = "helpdesk.ticket"
    record_id: int
    record_name: str
    values: dict[str, int | str] = Field(description="Odoo field -> new value, e.g. {'team_id': 4, 'priority': '2'}")
    before: dict[str, str | None] = Field(description="Field -> current label name")
    after: dict[str, str] = Field(description="Field -> proposed label name")
    confidence: float = Field(ge=0, le=1, description="The lowest probability among the changed fields")
    risk_tier: Literal["low", "medium", "high"] = Field(
        description="low: labels only, confident; medium: a priority raised or lowered by more than one step"
    )


class TriageInput(BaseModel):
    """What to classify: free text (email, Slack paste) or a ticket's subject and description."""

    model_config = ConfigDict(str_strip_whitespace=True)

    subject: VisibleText = Field(default="", max_length=1_000)
    body: VisibleText = Field(
        default="", description="Untrusted customer text; any length (only the start is embedded)"
    )
    customer: str | None = Field(default=None, description="Customer name or e-mail, to look up their open orders")
    ticket_id: int | None = Field(default=None, description="The Odoo ticket this text belongs to")
    context: VisibleText = Field(
        default="",
        max_length=500_000,
        description="Other untrusted parts of the message (sender's name, quoted text, attachments): checked for "
        "instructions to the assistant, never classified",
    )

    @property
    def text(self) -> str:
        """Subject and body as one text."""
        return "\n".join(part for part in (self.subject, self.body) if part)


class TicketClassification(_Frozen):
    """The skill's answer: labels with probabilities, evidence, and whether a person must decide."""

    mode: ClassifierMode
    predictions: list[FieldPrediction]
    needs_human: bool
    reasons: list[str] = Field(description="Why a person must decide (empty when the copilot is confident)")
    threshold: float = Field(description="Below this probability a field needs a person")
    similar_tickets: list[SimilarTicket]
    orders: list[OpenOrder]
    proposal: ProposedTicketUpdate | None = Field(description="Label changes for an existing ticket (a proposal)")
    warnings: list[str]
    model_version: str | None = Field(description="The trained model used; None in cold start")
    engine: str = Field(description="'embeddings' or 'embeddings+llm:<model>'")
    prompt: PromptRef | None = None
    llm_fallback_reason: str | None = None
    truncated: bool = Field(description="True when only the start of a very long text was read")
    flagged_input: bool = Field(
        default=False, description="The text tries to set labels or instruct an assistant: no label change is proposed"
    )
    citations: list[Citation]

    def prediction(self, field: LabelField) -> FieldPrediction | None:
        """The prediction for ``field``, if the label set has that field."""
        return next((p for p in self.predictions if p.field == field), None)
