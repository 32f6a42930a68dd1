"""``draft_reply``: a reply to a customer, true to Odoo right now, with its facts and citations.

The customer and orders are identified (explicit references first, then the customer's open
orders); the read-only tools gather the facts; the knowledge base gives the policy passages. The
deterministic engine fills ``prompts/reply_templates``; an LLM, when configured, rewrites that draft
from the same facts. Either way the grounding check runs: an ungrounded LLM draft is replaced by the
template draft (with the reason), and a draft is only "ready" when it is grounded and about an
identified order of the writing customer. Nothing is sent and nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from copilot.citations import Citation
from copilot.composition import Components
from copilot.config import Settings
from copilot.errors import LLMError
from copilot.guardrails.exfiltration import ExfiltrationVerdict, allow_list_from_texts, check_exfiltration
from copilot.guardrails.grounding import Evidence, check_grounding
from copilot.guardrails.injection import InjectionDetector, detect_injection
from copilot.guardrails.screening import UntrustedText
from copilot.guardrails.subject import LINK, reflected_subject
from copilot.llm_io import model_name
from copilot.odoo import OdooClient
from copilot.prompts import load_prompt
from copilot.skills.base import SkillContext
from copilot.skills.draft_reply.compose import compose
from copilot.skills.draft_reply.facts import Gathered, detect_intent, gather, with_ticket_subject
from copilot.skills.draft_reply.llm_path import PROMPT_NAME, write_with_llm
from copilot.skills.draft_reply.schemas import DraftRequest, Fact, KbPassage, ReplyDraft

if TYPE_CHECKING:
    from copilot.retrieval import KnowledgeBase

__all__ = ["DRAFT_REPLY", "DraftReplySkill", "draft_reply", "knowledge_passages"]

log = logging.getLogger(__name__)

_QUERY = {
    "damaged": "damaged goods claim photos replacement",
    "missing": "missing items short delivery claim",
    "wrong_item": "wrong item shipped exchange",
    "return": "returns RMA restocking fee",
    "billing": "invoice payment terms credit",
    "change": "order change cancellation",
    "status": "shipping delivery lead times backorder",
}


def knowledge_passages(
    settings: Settings,
    query: str,
    *,
    k: int = 3,
    components: Components | None = None,
    knowledge: Callable[[], KnowledgeBase] | None = None,
) -> list[KbPassage]:
    """Policy passages for ``query`` from the root's knowledge base (the shipped sample is indexed on first use).

    ``knowledge`` (or ``components``) gives the root's knowledge base; without either a root is built for this
    call (its knowledge base and model are not kept).
    """
    if knowledge is None:
        knowledge = (components or Components(settings)).knowledge_base
    kb = knowledge()
    return [
        KbPassage(source=h.source, heading=h.heading or None, text=h.text, score=round(h.score, 4), citation=h.citation)
        for h in kb.search(query, k=k)
    ]


def _exfiltration(
    client: OdooClient,
    request: DraftRequest,
    gathered: Gathered,
    facts: list[Fact],
    passages: list[KbPassage],
    text: str,
) -> ExfiltrationVerdict:
    """Links, contacts and bank details only from the thread, the facts or the knowledge base; no other partner."""
    customer = gathered.customer
    others = client.search_read(
        "res.partner", [("is_company", "=", True), ("id", "!=", gathered.commercial_id or 0)], ["name"], limit=2000
    )  # one read, only on the LLM path: the companies the model must not name
    return check_exfiltration(
        text,
        evidence_texts=[
            request.subject, request.message, request.sender_email or "", request.customer or "",
            [f.model_dump(mode="json", exclude={"citation"}) for f in facts],
            [o.model_dump(mode="json") for o in gathered.orders], list(gathered.pickings.values()), gathered.invoices,
            *(p.text for p in passages),
        ],
        customer_names=[n for n in (customer.display_name if customer else None, request.customer) if n],
        other_partner_names=[str(r["name"]) for r in others if r.get("name")],
        other_references=gathered.foreign,
        allow=allow_list_from_texts(p.text for p in passages),
    )  # fmt: skip


def screened_text(request: DraftRequest) -> str:
    """What the injection check reads of a request: the whole message (subject, body, customer, context)."""
    parts = (f"{request.subject}\n{request.message}", request.customer or "", request.context)
    return "\n\n".join(part for part in parts if part)


def draft_reply(
    request: DraftRequest,
    *,
    client: OdooClient,
    settings: Settings,
    as_of: datetime,
    llm: BaseChatModel | None = None,
    passages: list[KbPassage] | None = None,
    components: Components | None = None,
    knowledge: Callable[[], KnowledgeBase] | None = None,
    injection: InjectionDetector | None = None,
) -> ReplyDraft:
    """A grounded reply draft for the agent to review (never sent, never written to Odoo).

    ``knowledge`` and ``injection`` (or ``components``, which gives both): the composition root's knowledge base
    and injection detector. Without a detector the message is screened by the injection rules alone (no model
    loads) and, without a knowledge base or ``passages``, a knowledge base is opened for this call.
    """
    if components is not None:
        knowledge = knowledge or components.knowledge_base
        injection = injection or components.injection
    request, ticket_found = with_ticket_subject(client, request)
    text = f"{request.subject}\n{request.message}"
    intent = detect_intent(text)
    gathered = gather(client, request, intent)
    if passages is None:
        query = f"{_QUERY.get(intent, '')} {request.message[:500]}".strip()
        passages = knowledge_passages(settings, query, knowledge=knowledge)
    subject, body, composed = compose(gathered, intent, passages, as_of, subject=request.subject)
    evidence = Evidence(
        request.subject,
        request.message,
        [o.model_dump(mode="json") for o in gathered.orders],
        list(gathered.pickings.values()),
        gathered.invoices,
        [r.name for r in gathered.ambiguous],
        [p.text for p in passages],
        reference_date=as_of.date(),
    )
    engine, prompt_ref, fallback = "templates", None, None
    tone = "apologetic" if composed.late or intent in ("damaged", "missing", "wrong_item") else "informative"
    open_questions = list(composed.open_questions)
    if not ticket_found:
        open_questions.append(f"Helpdesk ticket {request.ticket_id} is not in Odoo: nothing from it is in the draft.")
    screening = detect_injection(screened_text(request), source="customer_message", detector=injection)
    if screening.flagged:  # answered for its legitimate content, but a person reads it first
        open_questions.append(
            "The message tries to instruct the assistant (possible prompt injection); nothing it asked for was done: "
            "read it before sending."
        )
    if llm is not None:
        prompt = load_prompt(PROMPT_NAME)
        prompt_ref = prompt.ref
        try:
            written = write_with_llm(
                llm, prompt, facts=composed.facts, passages=passages, template_subject=subject,
                template_body=body, subject=request.subject, message=request.message, timeout=settings.llm_deadline,
            )  # fmt: skip
            verdict = check_grounding(written.body, evidence)
            written_text = f"{written.subject}\n{written.body}"
            if not verdict.grounded:
                fallback = f"the model's draft is not grounded: {verdict.summary()}"
            elif not (leak := _exfiltration(client, request, gathered, composed.facts, passages, written_text)).ok:
                fallback = f"the model's draft would leak data: {leak.summary()}"
            else:
                body, tone, engine = written.body, written.tone, f"llm:{model_name(llm)}"
                if _safe_subject(written.subject):  # else the template's subject (no link or lure of the sender's)
                    subject = written.subject
                open_questions += written.open_questions
        except LLMError as exc:
            fallback = f"{type(exc).__name__}: {exc}"
        if fallback:
            log.warning("draft: %s; the template draft is used", fallback)
    grounding = check_grounding(body, evidence)
    answered = bool(gathered.orders) or (intent == "billing" and bool(gathered.invoices))
    identified = answered and not gathered.unidentified
    if not identified or gathered.foreign or gathered.not_found:
        status = "needs_clarification" if not answered else "needs_review"
    elif (
        not grounding.grounded
        or screening.flagged
        or intent in ("damaged", "missing", "wrong_item", "return", "change")
    ):
        status = "needs_review"  # a claim or a change is for a person to decide
    else:
        status = "ready"
    citations = [f.citation for f in composed.facts if f.citation is not None]
    citations += [c for o in gathered.orders for c in o.citations]
    citations += [p.citation for p in passages]
    if gathered.customer is not None:
        citations.insert(0, gathered.customer.citation)
    unique: dict[tuple[str, int], Citation] = {}
    for c in citations:
        unique.setdefault((c.model, c.id), c)
    return ReplyDraft(
        status=status,
        subject=subject,
        body=body,
        tone=tone,  # type: ignore[arg-type]
        intent=intent,
        customer=gathered.customer.display_name if gathered.customer else None,
        orders=[o.name for o in gathered.orders],
        facts=composed.facts,
        kb_passages=passages,
        citations=list(unique.values()),
        open_questions=open_questions,
        suggested_actions=composed.suggested,
        grounding=grounding,
        engine=engine,
        prompt=prompt_ref,
        fallback_reason=fallback,
        as_of=as_of.date(),
        needs_customer=bool(gathered.unidentified) or gathered.customer_not_found is not None,
    )


def _safe_subject(subject: str) -> bool:
    """True when the model's subject repeats no link and no phishing phrasing (the sender's text can hold both)."""
    safe = reflected_subject(subject)
    return safe is not None and LINK not in safe


class DraftReplySkill:
    """Reply drafts as a ``Skill[DraftRequest, ReplyDraft]``: the context's Odoo, knowledge base and detector."""

    name = "draft_reply"

    def run(self, ctx: SkillContext, request: DraftRequest, /) -> ReplyDraft:
        """A grounded draft for ``request`` as of the context's "now" (never sent)."""
        return draft_reply(
            request,
            client=ctx.odoo(),
            settings=ctx.settings,
            as_of=ctx.now,
            llm=ctx.llm,
            knowledge=ctx.knowledge,
            injection=ctx.detector(),
        )

    def untrusted(self, request: DraftRequest, /) -> list[UntrustedText]:
        """The customer's message (a ticket's subject read from Odoo is screened when the skill reads it)."""
        return [UntrustedText(source="customer_message", text=screened_text(request))]


DRAFT_REPLY = DraftReplySkill()
