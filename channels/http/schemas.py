"""Request and response bodies of the HTTP API (the skills' own models are returned as they are)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.approvals import Decision, RequestRecord
from copilot.approvals.schemas import ActionPayload, Evidence
from copilot.skills.carrier_status import CarrierUpdate

__all__ = [
    "ApprovalApproved",
    "AskRequest",
    "CarrierStatusChanged",
    "Check",
    "ClassifyRequest",
    "DraftBody",
    "ErrorBody",
    "ErrorResponse",
    "Health",
    "ProposalList",
    "ProposalSubmission",
    "ProposalSubmitted",
    "PurchaseOrderDateChanged",
    "QuestionAsked",
    "Readiness",
    "SummarizeRequest",
    "SupplierEmailReceived",
    "TargetRef",
    "TicketCreated",
    "WebhookAccepted",
    "WebhookEvent",
]

MAX_EMAIL_CHARS = 2_000_000
MAX_TEXT_CHARS = 200_000


class ErrorBody(BaseModel):
    """What went wrong: a stable ``type`` for programs, a ``message`` for people."""

    type: str = Field(examples=["not_found"])
    message: str
    detail: list[Any] | None = Field(default=None, description="Validation errors (type validation_error only)")


class ErrorResponse(BaseModel):
    """Every error response of the API."""

    error: ErrorBody


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"


class Check(BaseModel):
    """One readiness check."""

    name: str
    ok: bool
    detail: str
    required: bool = Field(default=True, description="False: a failure degrades the service but keeps it ready")
    seconds: float = Field(default=0.0, description="How long the check took")


class Readiness(BaseModel):
    """Readiness: every check, and the error envelope naming the failing ones (503)."""

    status: Literal["ready", "not_ready"]
    checks: list[Check]
    failing: list[str] = Field(default_factory=list, description="Required checks that failed (then 503)")
    degraded: list[str] = Field(default_factory=list, description="Optional checks that failed (still ready)")
    error: ErrorBody | None = None


class SummarizeRequest(BaseModel):
    """A supplier email: the whole RFC 822 message in ``raw``, or its ``subject``, ``from`` and ``body``."""

    model_config = ConfigDict(populate_by_name=True)

    raw: str | None = Field(default=None, max_length=MAX_EMAIL_CHARS, description="The RFC 822 message")
    subject: str | None = Field(default=None, max_length=1_000)
    from_: str | None = Field(default=None, alias="from", max_length=500, description="The From header")
    body: str | None = Field(default=None, max_length=MAX_TEXT_CHARS, description="The plain-text body")

    @model_validator(mode="after")
    def _one_form(self) -> SummarizeRequest:
        parts = any(v is not None for v in (self.subject, self.from_, self.body))
        if self.raw is not None and parts:
            raise ValueError("give either raw or subject/from/body, not both")
        if self.raw is None and self.body is None:
            raise ValueError("give raw (the RFC 822 message) or body (with subject and from)")
        return self


class ClassifyRequest(BaseModel):
    """An issue to classify: text, or an Odoo helpdesk ticket by id."""

    subject: str = Field(default="", max_length=1_000)
    body: str = Field(default="", max_length=MAX_TEXT_CHARS)
    customer: str | None = Field(default=None, max_length=200, description="Customer name or e-mail")
    ticket_id: int | None = Field(default=None, gt=0, description="Classify this Odoo ticket instead of the text")

    @model_validator(mode="after")
    def _something(self) -> ClassifyRequest:
        if self.ticket_id is None and not (self.subject.strip() or self.body.strip()):
            raise ValueError("give subject and/or body, or ticket_id")
        return self


class DraftBody(BaseModel):
    """A customer message to draft a reply to."""

    message: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The customer's text")
    subject: str = Field(default="", max_length=1_000)
    customer: str | None = Field(default=None, max_length=200, description="Customer name or e-mail")
    sender_email: str | None = Field(default=None, max_length=320, description="The message's From address")
    ticket_id: int | None = Field(default=None, gt=0)


class AskRequest(BaseModel):
    """A buyer's question; ``thread`` keeps a conversation (per API client)."""

    question: str = Field(min_length=1, max_length=2_000, pattern=r"\S")
    thread: str | None = Field(default=None, min_length=1, max_length=100, description="Conversation id")


class TargetRef(BaseModel):
    """The record the action changes: model and id (anything else the client sends is ignored)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=128)
    id: int = Field(gt=0)


class ProposalSubmission(BaseModel):
    """A proposal from an API client: the typed action and its target, nothing else is trusted.

    The server derives the title, the diff, the target's snapshot, the exposure and the risk tier from
    the payload and what Odoo holds now; ``title``, ``diff``, ``amount``, ``currency``, ``risk_tier``,
    ``reasons``, ``source`` and ``on_behalf_of`` are ignored if sent. Every record id inside the
    payload must belong to the target (422 otherwise). ``flagged_input`` can only raise the tier.
    """

    model_config = ConfigDict(extra="ignore")

    payload: ActionPayload
    target: TargetRef
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    flagged_input: bool = Field(default=False, description="The client saw attack signs: raises the tier")


class ProposalList(BaseModel):
    """Approval requests, newest first."""

    data: list[RequestRecord]
    count: int


class ProposalSubmitted(BaseModel):
    """The policy's decision and the approval request in Odoo (new: 201, existing: 200)."""

    decision: Decision
    request: RequestRecord


# -- inbound webhooks -------------------------------------------------------------------------------
class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TicketCreated(_Event):
    """An Odoo helpdesk ticket was created: it is classified (category, team, priority)."""

    type: Literal["helpdesk.ticket.created"]
    ticket_id: int = Field(gt=0, description="The helpdesk.ticket id in Odoo")


class ApprovalApproved(_Event):
    """An approval request was approved in Odoo: the executor runs now instead of at its next poll."""

    type: Literal["approval.request.approved"]
    request_id: int = Field(gt=0, description="The approval request's id in Odoo")


class SupplierEmailReceived(_Event):
    """A supplier email arrived (e.g. through n8n): the supplier-email ingestion (summary, proposals, buyers)."""

    type: Literal["supplier_email.received"]
    raw: str = Field(min_length=1, max_length=MAX_EMAIL_CHARS, description="The RFC 822 message")


class PurchaseOrderDateChanged(_Event):
    """A purchase order's expected date changed in Odoo: the sale orders it feeds are re-scored for risk at once."""

    type: Literal["purchase.order.date_changed"]
    purchase_order: str = Field(
        min_length=1, max_length=64, pattern=r"^[^\s].*$", description="The PO's name (reference), e.g. P00009"
    )
    purchase_order_id: int | None = Field(default=None, gt=0, description="The purchase.order id in Odoo")
    date_planned: datetime | None = Field(default=None, description="The new expected arrival, as Odoo sent it")


class CarrierStatusChanged(CarrierUpdate):
    """A carrier's status update (through n8n): matched to Odoo's transfers by tracking number and reported."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["carrier.status"]


class QuestionAsked(_Event):
    """A question to answer from Odoo with sources."""

    type: Literal["question"]
    text: str = Field(min_length=1, max_length=2_000, pattern=r"\S")


WebhookEvent = Annotated[
    TicketCreated
    | ApprovalApproved
    | SupplierEmailReceived
    | QuestionAsked
    | PurchaseOrderDateChanged
    | CarrierStatusChanged,
    Field(discriminator="type"),
]


class WebhookAccepted(BaseModel):
    """The webhook's outcome: ``done`` with the result, ``accepted`` (processed in the background), or
    ``duplicate`` (this event id, or this exact signed request, was already received: nothing done)."""

    status: Literal["done", "accepted", "duplicate"]
    event_id: str
    type: str | None = None
    result: Any | None = Field(default=None, description="The skill's result (status done)")
    status_url: str | None = Field(default=None, description="Where to read the outcome (status accepted)")
