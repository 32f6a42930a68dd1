"""The answer skill: a buyer's free-form question, answered from Odoo with citations.

Without an LLM, an intent router and templates answer the common questions (``CAN_ANSWER``). With an
LLM, a bounded tool-calling agent answers; its answer must pass the grounding check against what the
tools returned, else the deterministic answer is returned with ``fallback_reason``. Thread state lets a
follow-up say "it", "that PO" or "the vendor".
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime

from langchain_core.language_models import BaseChatModel

from copilot.config import Settings
from copilot.errors import LLMError
from copilot.guardrails.exfiltration import check_exfiltration
from copilot.guardrails.grounding import Evidence, check_grounding
from copilot.guardrails.injection import InjectionDetector
from copilot.guardrails.screening import UntrustedText
from copilot.llm_io import model_name
from copilot.odoo import OdooClient
from copilot.prompts import load_prompt
from copilot.skills.answer import compose as c
from copilot.skills.answer.agent import PROMPT_NAME, build_messages, collect_citations, run_agent
from copilot.skills.answer.router import Routed, ThreadContext, load_vocabulary, route
from copilot.skills.answer.schemas import Answer, Intent, Question
from copilot.skills.base import SkillContext
from copilot.state.conversations import ConversationStore
from copilot.state.schemas import Entities, Turn
from copilot.text.references import PO_REF
from copilot.tools.langchain_tools import build_tools

__all__ = ["ANSWER", "HISTORY_TURNS", "MAX_QUESTION_CHARS", "AnswerSkill", "answer_question", "deterministic_answer"]

log = logging.getLogger(__name__)

#: Turns of the thread read to resolve "it" and "the vendor".
HISTORY_TURNS = 6
MAX_QUESTION_CHARS = 2000
#: At most this many records of one kind are answered in one go.
MAX_RECORDS = 3


def _dispatch(
    routed: Routed,
    client: OdooClient,
    settings: Settings | None,
    as_of: datetime,
    out: c.Composed,
    injection: InjectionDetector | None = None,
) -> None:
    intent = routed.intent
    if routed.unknown_vendor and intent in (Intent.LATE_POS, Intent.SUPPLIER_SAID, Intent.RECEIPTS_THIS_WEEK):
        c.vendor_not_found(routed.unknown_vendor, out)
        return
    if intent is Intent.PO_STATUS:
        if routed.purchase_orders:
            c.po_status(client, routed.purchase_orders[:MAX_RECORDS], as_of=as_of, out=out)
        elif routed.ambiguous_pos:
            c.need("need_one_po", out, pos=", ".join(routed.ambiguous_pos))
        else:
            c.need("need_po", out)
    elif intent is Intent.LATE_POS:
        for vendor in routed.vendors[:MAX_RECORDS] or [None]:
            c.late_pos(client, as_of=as_of, vendor=vendor, out=out)
    elif intent is Intent.SUPPLIER_SAID:
        if routed.purchase_orders:
            for po in routed.purchase_orders[:MAX_RECORDS]:
                c.supplier_said(client, settings=settings, po=po, vendor=None, out=out, injection=injection)
        elif routed.ambiguous_pos:
            c.need("need_one_po", out, pos=", ".join(routed.ambiguous_pos))
        else:
            for vendor in routed.vendors[:MAX_RECORDS] or [None]:
                c.supplier_said(client, settings=settings, po=None, vendor=vendor, out=out, injection=injection)
    elif intent is Intent.PRODUCT_OPEN_POS:
        c.product_open_pos(client, products=routed.products, query=routed.product_query, as_of=as_of, out=out)
    elif intent is Intent.RECEIPTS_THIS_WEEK:
        for vendor in routed.vendors[:MAX_RECORDS] or [None]:
            c.receipts_week(client, as_of=as_of, vendor=vendor, next_week=routed.next_week, out=out)
    else:
        c.cannot_answer(out)


#: The read-only tools each deterministic intent reads through (a role without them is refused first).
INTENT_TOOLS: dict[Intent, frozenset[str]] = {
    Intent.PO_STATUS: frozenset({"purchase_order_status"}),
    Intent.LATE_POS: frozenset({"late_purchase_orders"}),
    Intent.SUPPLIER_SAID: frozenset({"purchase_order_emails"}),
    Intent.PRODUCT_OPEN_POS: frozenset({"purchase_order_status"}),
    Intent.RECEIPTS_THIS_WEEK: frozenset({"late_purchase_orders"}),
}


def deterministic_answer(
    question: str,
    *,
    client: OdooClient,
    settings: Settings | None = None,
    as_of: datetime,
    context: ThreadContext | None = None,
    allowed_tools: Collection[str] | None = None,
    injection: InjectionDetector | None = None,
) -> Answer:
    """The rules-and-templates answer: route the question, gather facts with the tools, fill the templates.

    ``injection``: the root's detector for supplier emails it summarises (None: the injection rules alone).
    """
    routed = route(question, client=client, vocab=lambda: load_vocabulary(client), context=context)
    needed = INTENT_TOOLS.get(routed.intent, frozenset())
    if allowed_tools is not None and not needed <= set(allowed_tools):
        text = "Your role does not give access to the purchase data this question needs; ask a buyer or a manager."
        return Answer(
            question=question,
            text=text,
            intent=routed.intent,
            grounding=check_grounding(text, Evidence(question, reference_date=as_of.date())),
            not_allowed=True,
        )
    out = c.Composed()
    out.evidence.extend([question, {"as_of": as_of.isoformat()}])
    _dispatch(routed, client, settings, as_of, out, injection)
    text = "\n".join(out.lines)
    evidence = Evidence(*out.evidence, [f.model_dump(mode="json") for f in out.facts], reference_date=as_of.date())
    return Answer(
        question=question,
        text=text,
        intent=routed.intent,
        entities=out.entities(),
        facts=out.facts,
        citations=out.citations,
        not_found=out.not_found,
        can_answer=out.can_answer,
        grounding=check_grounding(text, evidence),
        resolved_from_thread=routed.from_thread,
    )


def _context_text(context: ThreadContext) -> str:
    parts = []
    if context.purchase_orders:
        parts.append("purchase orders: " + ", ".join(context.purchase_orders))
    if context.vendors:
        parts.append("vendors: " + ", ".join(v.name for v in context.vendors))
    if context.products:
        parts.append("products: " + ", ".join(p.name for p in context.products))
    return "; ".join(parts)


def _llm_answer(
    question: str,
    *,
    client: OdooClient,
    settings: Settings | None,
    llm: BaseChatModel,
    as_of: datetime,
    context: ThreadContext,
    fallback: Answer,
    max_steps: int | None,
    allowed_tools: Collection[str] | None = None,
) -> Answer:
    prompt = load_prompt(PROMPT_NAME)
    context_text = _context_text(context)
    messages = build_messages(prompt, question=question, context=context_text, today=as_of.date().isoformat())
    tools = build_tools(client, as_of=lambda: as_of)
    if allowed_tools is not None:  # the asker's role decides which read-only tools the model may call
        tools = [t for t in tools if t.name in allowed_tools]
    limits: dict = {}
    if settings is not None:
        limits = {"token_budget": settings.llm_max_tokens * 4, "deadline": settings.llm_deadline}
    if max_steps is not None:
        limits["max_steps"] = max_steps
    engine = f"llm:{model_name(llm)}"
    try:
        run = run_agent(messages, llm=llm, tools=tools, **limits)
    except LLMError as exc:
        log.warning("answer: LLM path failed, deterministic answer used: %s", exc)
        return fallback.model_copy(update={"fallback_reason": str(exc), "prompt": prompt.ref})
    assert run.answer is not None
    text = run.answer.answer.strip()
    evidence = Evidence(question, context_text, *run.tool_results, reference_date=as_of.date())
    report = check_grounding(text, evidence)
    leak = check_exfiltration(text, evidence_texts=[question, context_text, *run.tool_results])
    if not report.grounded or not leak.ok:
        reason = f"ungrounded answer: {report.summary()}" if not report.grounded else f"leaks data: {leak.summary()}"
        log.warning("answer: %s; deterministic answer used", reason)
        return fallback.model_copy(
            update={"fallback_reason": reason, "prompt": prompt.ref, "tool_calls": run.tool_calls}
        )
    citations = collect_citations(run.tool_results)
    named = {m.group(0).upper() for m in PO_REF.finditer(text)}
    return Answer(
        question=question,
        text=text,
        intent=fallback.intent,
        entities=Entities(
            purchase_orders=sorted(named) or fallback.entities.purchase_orders,
            vendors=fallback.entities.vendors,
            products=fallback.entities.products,
        ),
        facts=[f for f in fallback.facts if f.citation in citations],
        citations=citations,
        grounding=report,
        resolved_from_thread=fallback.resolved_from_thread,
        engine=engine,
        prompt=prompt.ref,
        tool_calls=run.tool_calls,
    )


def answer_question(
    question: str,
    *,
    client: OdooClient,
    settings: Settings | None = None,
    llm: BaseChatModel | None = None,
    thread: str | None = None,
    store: ConversationStore | None = None,
    as_of: datetime | None = None,
    max_steps: int | None = None,
    allowed_tools: Collection[str] | None = None,
    injection: InjectionDetector | None = None,
) -> Answer:
    """Answer a buyer's question from Odoo, with citations; with ``thread`` and ``store``, remember the turn.

    ``as_of`` is "now" for lateness and "this week" (the sandbox's snapshot time; default: the clock).
    Odoo errors propagate as ``OdooError``; LLM errors never do (they become ``fallback_reason``).
    """
    question = " ".join(question.split())[:MAX_QUESTION_CHARS]
    if not question:
        raise ValueError("the question is empty")
    now = as_of or datetime.now(UTC)
    turns = store.last(thread, HISTORY_TURNS) if store is not None and thread else []
    context = ThreadContext.from_turns(turns)
    result = deterministic_answer(
        question,
        client=client,
        settings=settings,
        as_of=now,
        context=context,
        allowed_tools=allowed_tools,
        injection=injection,
    )
    if llm is not None and not result.not_allowed:
        result = _llm_answer(
            question,
            client=client,
            settings=settings,
            llm=llm,
            as_of=now,
            context=context,
            fallback=result,
            max_steps=max_steps,
            allowed_tools=allowed_tools,
        )
    if store is not None and thread:
        store.append(
            thread,
            Turn(
                question=question,
                intent=result.intent.value,
                entities=result.entities,
                answer=result.text,
                engine=result.engine,
            ),
        )
    return result.model_copy(update={"thread": thread})


class AnswerSkill:
    """Buyers' questions as a ``Skill[Question, Answer]``: the context's Odoo, tools, thread store and "now"."""

    name = "answer"

    def run(self, ctx: SkillContext, question: Question, /) -> Answer:
        """Answer ``question`` with the tools the context allows; a thread's turn goes to its store."""
        return answer_question(
            question.text,
            client=ctx.odoo(),
            settings=ctx.settings,
            llm=ctx.llm,
            thread=question.thread,
            store=ctx.conversations if question.thread else None,
            as_of=ctx.now,
            allowed_tools=ctx.allowed_tools,
            injection=ctx.injection,  # screens the supplier emails it reads from Odoo, not the question
        )

    def untrusted(self, question: Question, /) -> list[UntrustedText]:
        """The question (the pipeline records its verdict; the answer reads only Odoo and the knowledge base)."""
        return [UntrustedText(source="question", text=question.text)]


ANSWER = AnswerSkill()
