"""The skills over HTTP: summarize a supplier email, classify an issue, draft a reply, answer a question.

Every route goes through the ``Copilot`` facade as the API client (a service actor whose token scopes
were checked): rate limits (429) and the audit trail apply as on every other channel. Each skill runs in
the skill runner's threads under ``COPILOT_HTTP_SKILL_TIMEOUT`` (504 past it, 503 when every slot is busy),
so a slow or hostile input never holds the event loop (``/healthz`` keeps answering).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from channels.http.auth import Client, Scope
from channels.http.deps import CopilotDep, IdempotencyDep, RunnerDep, actor, require
from channels.http.schemas import AskRequest, ClassifyRequest, DraftBody, SummarizeRequest
from copilot.email import parse_email
from copilot.skills.answer import Answer
from copilot.skills.draft_reply import DraftRequest, ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification, TriageInput

router = APIRouter()


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _message(body: SummarizeRequest) -> bytes | str:
    """The RFC 822 text: as given, or built from subject, from and body (parsed the same way)."""
    if body.raw is not None:
        return body.raw
    msg = EmailMessage()
    msg["Subject"] = _one_line(body.subject)
    if body.from_:
        msg["From"] = _one_line(body.from_)
    msg.set_content(body.body or "")
    return msg.as_bytes()


@router.post(
    "/supplier-emails/summarize",
    tags=["supplier emails"],
    response_model=SupplierEmailSummary,
    summary="Summarize a supplier email against the purchase orders in Odoo",
)
async def summarize(
    body: SummarizeRequest,
    client: Annotated[Client, Depends(require(Scope.SUMMARIZE))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
    runner: RunnerDep,
) -> JSONResponse:
    """The POs the email names, each change compared with Odoo, a summary and warnings."""
    return await runner.run(
        "summarize", lambda: idem.respond(copilot.summarize(actor(client), parse_email(_message(body))))
    )


@router.post(
    "/issues/classify",
    tags=["issues"],
    response_model=TicketClassification,
    summary="Classify a customer issue (or an Odoo helpdesk ticket): category, team, priority",
)
async def classify(
    body: ClassifyRequest,
    client: Annotated[Client, Depends(require(Scope.CLASSIFY))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
    runner: RunnerDep,
) -> JSONResponse:
    """Labels with probabilities, similar past tickets, the customer's orders, needs-a-person verdict."""
    item = TriageInput(subject=body.subject, body=body.body, customer=body.customer, ticket_id=body.ticket_id)
    return await runner.run("classify", lambda: idem.respond(copilot.classify(actor(client), item)))


@router.post(
    "/drafts",
    tags=["drafts"],
    response_model=ReplyDraft,
    summary="Draft a reply to a customer message, grounded in Odoo and the knowledge base (never sent)",
)
async def draft(
    body: DraftBody,
    client: Annotated[Client, Depends(require(Scope.DRAFT))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
    runner: RunnerDep,
) -> JSONResponse:
    """The draft with its facts, citations, open questions and suggested actions."""
    return await runner.run(
        "draft", lambda: idem.respond(copilot.draft(actor(client), DraftRequest(**body.model_dump())))
    )


@router.post(
    "/questions",
    tags=["questions"],
    response_model=Answer,
    summary="Answer a buyer's question from Odoo, with its sources",
)
async def ask(
    body: AskRequest,
    client: Annotated[Client, Depends(require(Scope.ASK))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
    runner: RunnerDep,
) -> JSONResponse:
    """``thread`` is kept per API client: follow-ups in it may say "it" or "that PO"."""
    thread = f"http:{client.name}:{body.thread}" if body.thread else None
    return await runner.run("ask", lambda: idem.respond(copilot.ask(actor(client), body.question, thread=thread)))
