"""What goes into a reply draft and what comes out."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.guardrails.grounding import GroundingReport
from copilot.prompts import PromptRef
from copilot.text.invisible import VisibleText

__all__ = ["DraftRequest", "Fact", "Intent", "KbPassage", "ReplyDraft", "SuggestedAction"]

Intent = Literal["status", "damaged", "missing", "wrong_item", "return", "billing", "change", "other"]


class DraftRequest(BaseModel):
    """A customer message to answer."""

    model_config = ConfigDict(str_strip_whitespace=True)

    message: VisibleText = Field(description="The customer's text (untrusted)")
    subject: VisibleText = ""
    customer: str | None = Field(default=None, description="Customer name or e-mail, when the agent knows it")
    sender_email: str | None = Field(default=None, description="The From address of the message")
    ticket_id: int | None = None
    context: VisibleText = Field(
        default="",
        max_length=500_000,
        description="Other untrusted parts of the message (sender's name, quoted text, attachments): checked for "
        "instructions to the assistant, never answered",
    )


class Fact(BaseModel):
    """One thing the draft may state, and where it comes from."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str
    citation: Citation | None = None


class KbPassage(BaseModel):
    """A policy passage the draft relies on."""

    model_config = ConfigDict(frozen=True)

    source: str
    heading: str | None
    text: str
    score: float
    citation: Citation


class SuggestedAction(BaseModel):
    """A follow-up the agent may propose (never executed by the draft)."""

    model_config = ConfigDict(frozen=True)

    action_type: str
    title: str
    reason: str


class ReplyDraft(BaseModel):
    """A reply for the agent to review and send."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ready", "needs_review", "needs_clarification"] = Field(
        description="ready: grounded and about an identified order; needs_review: a person must decide something; "
        "needs_clarification: the draft asks the customer which order"
    )
    subject: str
    body: str
    tone: Literal["informative", "apologetic", "neutral"]
    intent: Intent
    customer: str | None
    orders: list[str]
    facts: list[Fact]
    kb_passages: list[KbPassage]
    citations: list[Citation]
    open_questions: list[str] = Field(description="What the agent should check before sending")
    suggested_actions: list[SuggestedAction]
    grounding: GroundingReport
    engine: str
    prompt: PromptRef | None = None
    fallback_reason: str | None = None
    as_of: date
    needs_customer: bool = Field(
        default=False,
        description="Order details were left out because Odoo does not know who is writing: each channel says how "
        "to name the customer (CLI --customer, Slack --customer, HTTP 'customer', 'sender_email' or 'ticket_id')",
    )
