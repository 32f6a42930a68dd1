"""The skills over HTTP: summarize a supplier email, classify an issue, draft a reply, answer a question."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from channels.http.auth import Scope
from channels.http.deps import (
    CurrentClient,
    IdempotencyDep,
    NowDep,
    OdooDep,
    SettingsDep,
    StoreDep,
    TriagerDep,
    require,
)
from channels.http.schemas import AskRequest, ClassifyRequest, DraftBody, SummarizeRequest
from copilot.inbound_email import parse_email
from copilot.skills.answer import Answer, answer_question
from copilot.skills.draft_reply import DraftRequest, ReplyDraft, draft_reply
from copilot.skills.supplier_email import SupplierEmailSummary, summarize_supplier_email
from copilot.skills.triage import TicketClassification, TriageInput, classify_ticket

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
    dependencies=[Depends(require(Scope.SUMMARIZE))],
)
def summarize(
    body: SummarizeRequest, request: Request, odoo: OdooDep, settings: SettingsDep, idem: IdempotencyDep
) -> JSONResponse:
    """The POs the email names, each change compared with Odoo, a summary and warnings."""
    summary = summarize_supplier_email(
        parse_email(_message(body)), client=odoo.client, llm=request.app.state.llm, settings=settings
    )
    return idem.respond(summary)


@router.post(
    "/issues/classify",
    tags=["issues"],
    response_model=TicketClassification,
    summary="Classify a customer issue (or an Odoo helpdesk ticket): category, team, priority",
    dependencies=[Depends(require(Scope.CLASSIFY))],
)
def classify(body: ClassifyRequest, odoo: OdooDep, triager: TriagerDep, idem: IdempotencyDep) -> JSONResponse:
    """Labels with probabilities, similar past tickets, the customer's orders, needs-a-person verdict."""
    item = TriageInput(subject=body.subject, body=body.body, customer=body.customer, ticket_id=body.ticket_id)
    return idem.respond(classify_ticket(item, triager, odoo.client))


@router.post(
    "/drafts",
    tags=["drafts"],
    response_model=ReplyDraft,
    summary="Draft a reply to a customer message, grounded in Odoo and the knowledge base (never sent)",
    dependencies=[Depends(require(Scope.DRAFT))],
)
def draft(
    body: DraftBody, request: Request, odoo: OdooDep, now: NowDep, settings: SettingsDep, idem: IdempotencyDep
) -> JSONResponse:
    """The draft with its facts, citations, open questions and suggested actions."""
    result = draft_reply(
        DraftRequest(**body.model_dump()),
        client=odoo.client,
        settings=settings,
        as_of=now,
        llm=request.app.state.llm,
    )
    return idem.respond(result)


@router.post(
    "/questions",
    tags=["questions"],
    response_model=Answer,
    summary="Answer a buyer's question from Odoo, with its sources",
)
def ask(
    body: AskRequest,
    request: Request,
    client: Annotated[CurrentClient, Depends(require(Scope.ASK))],
    odoo: OdooDep,
    now: NowDep,
    settings: SettingsDep,
    store: StoreDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """``thread`` is kept per API client: follow-ups in it may say "it" or "that PO"."""
    thread = f"http:{client.name}:{body.thread}" if body.thread else None
    answer = answer_question(
        body.question,
        client=odoo.client,
        settings=settings,
        llm=request.app.state.llm,
        thread=thread,
        store=store if thread else None,
        as_of=now,
    )
    return idem.respond(answer)
