"""The LLM path: one call with the versioned prompt, schema validation, grounding checks, fallback.

The model may improve the summary's wording and add changes the rules missed. It may not remove the
deterministic warnings or changes, name a PO or a number that is neither in the email nor in Odoo,
quote evidence the email does not contain, or write addresses, links or "approved". Any failure
(error, timeout, bad JSON, schema, grounding) returns the deterministic result with ``fallback_reason``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from datetime import date

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict, Field

from copilot.email import InboundEmail
from copilot.errors import LLMError, LLMInvalidOutput
from copilot.llm_io import call_model, model_name, parse_json_answer, spotlight
from copilot.prompts import VersionedPrompt, load_prompt
from copilot.skills.supplier_email.compare import match_line
from copilot.skills.supplier_email.extract import Extraction
from copilot.skills.supplier_email.facts import OdooFacts
from copilot.skills.supplier_email.render import UNVERIFIED_PREFIX, verification_sentence
from copilot.skills.supplier_email.schemas import ChangeKind, DetectedChange, SupplierEmailSummary, WarningCode
from copilot.text.email_address import EMAIL_ADDRESS
from copilot.text.iban import find_iban_like
from copilot.text.values import find_dates, find_money

__all__ = [
    "PROMPT_NAME",
    "LLMAnswer",
    "LLMChange",
    "build_messages",
    "call_model",
    "check_answer",
    "improve_with_llm",
    "parse_answer",
]

log = logging.getLogger(__name__)

PROMPT_NAME = "supplier_email_summary"
MAX_BODY_CHARS = 12_000


class LLMChange(BaseModel):
    """A change as the model reports it."""

    model_config = ConfigDict(extra="ignore")

    kind: ChangeKind
    po_name: str | None = Field(default=None, max_length=40)
    product_code: str | None = Field(default=None, max_length=60)
    email_value: str | None = Field(default=None, max_length=200)
    evidence: str = Field(min_length=3, max_length=600, description="The exact sentence from the email")
    note: str | None = Field(default=None, max_length=400)


class LLMAnswer(BaseModel):
    """The model's part of the result."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=20, max_length=1200, description="2 to 4 plain sentences for the buyer")
    needs_reply: bool
    changes: list[LLMChange] = Field(default_factory=list, max_length=20)


# -- messages ------------------------------------------------------------------------------------
def _spotlight(text: str) -> str:
    return spotlight(text, "untrusted_email")


def _facts_json(facts: OdooFacts, result: SupplierEmailSummary) -> str:
    orders = [
        {
            "name": o.name,
            "vendor": o.vendor.name,
            "state": o.state,
            "expected_arrival": o.date_planned.date().isoformat() if o.date_planned else None,
            "receipt_status": o.receipt_status,
            "total": o.amount_total,
            "currency": o.currency,
            "lines": [
                {
                    "product_code": ln.product_code,
                    "product": ln.product.name if ln.product else ln.description,
                    "quantity": ln.quantity,
                    "uom": ln.uom,
                    "received": ln.quantity_received,
                    "unit_price": ln.price_unit,
                    "expected_arrival": ln.date_planned.date().isoformat() if ln.date_planned else None,
                }
                for ln in o.lines
            ],
        }
        for o in facts.orders
    ]
    return json.dumps(
        {
            "purchase_orders": orders,
            "unresolved_references": result.unresolved_references,
            "sender_is_known_contact": result.sender_status == "known_contact"
            and not (result.warning_codes() & _UNTRUSTED),
        },
        ensure_ascii=False,
    )


def _findings_json(result: SupplierEmailSummary) -> str:
    return json.dumps(
        {
            "changes": [
                c.model_dump(
                    mode="json",
                    include={
                        "kind",
                        "po_name",
                        "product_code",
                        "email_value",
                        "odoo_value",
                        "delta",
                        "note",
                        "unverified",
                    },
                    exclude_none=True,
                )
                for c in result.changes
            ],
            # how the deployment is configured says nothing about this email: not for the model
            "warnings": [
                w.model_dump(mode="json")
                for w in result.warning_details
                if w.code is not WarningCode.SENDER_AUTH_NOT_CONFIGURED
            ],
            "needs_reply": result.needs_reply,
            "reply_by": result.reply_by.isoformat() if result.reply_by else None,
        },
        ensure_ascii=False,
    )


def build_messages(
    prompt: VersionedPrompt, mail: InboundEmail, facts: OdooFacts, result: SupplierEmailSummary
) -> list[BaseMessage]:
    """The prompt's messages for this email: Odoo facts, rule findings and the spotlighted email."""
    body = _spotlight(mail.text[:MAX_BODY_CHARS]) or "(no text)"
    boundary = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    sender = f"{mail.from_name or ''} <{mail.from_address or 'unknown'}>".strip()
    return prompt.to_messages(
        output_schema=json.dumps(LLMAnswer.model_json_schema(), separators=(",", ":")),
        odoo_facts=_facts_json(facts, result),
        findings=_findings_json(result),
        boundary=boundary,
        subject=_spotlight(mail.subject),
        sender=_spotlight(sender),
        date=mail.date.isoformat() if mail.date else "unknown",
        body=body,
    )


# -- the answer ------------------------------------------------------------------------------------
def parse_answer(text: str) -> LLMAnswer:
    """The answer as ``LLMAnswer``; code fences and text around the JSON object are tolerated."""
    return parse_json_answer(text, LLMAnswer)


# -- grounding -----------------------------------------------------------------------------------
_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
_CLAIMS = re.compile(r"\b(?:approv\w*|authori[sz]\w*)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_SMALL_NUMBERS = frozenset(float(n) for n in range(0, 11))


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def _numbers(text: str) -> set[float]:
    return {round(float(m.group(0).replace(",", "")), 2) for m in _NUMBER.finditer(text)}


def _allowed(
    mail: InboundEmail, facts: OdooFacts, result: SupplierEmailSummary, extraction: Extraction
) -> tuple[set[float], set[date]]:
    source = "\n".join((mail.subject, mail.text, mail.quoted_text))
    numbers = _numbers(source) | {m.money.amount for m in find_money(source)}
    dates = {d.value for d in find_dates(source, extraction.reference_date)}
    for o in facts.orders:
        numbers.add(o.amount_total)
        dates.update(d.date() for d in (o.date_planned, o.date_order, o.effective_date) if d)
        for ln in o.lines:
            numbers.update({ln.quantity, ln.quantity_received, ln.price_unit, ln.price_subtotal})
            if ln.date_planned:
                dates.add(ln.date_planned.date())
    for c in result.changes:
        d = c.delta
        if d is not None:
            numbers.update(abs(v) for v in (d.days, d.quantity, d.price, d.percent) if v is not None)
        for q in (c.email_quantity, c.odoo_quantity, c.backorder_quantity):
            if q is not None:
                numbers.add(q.value)
        for m in (c.email_price, c.odoo_price):
            if m is not None:
                numbers.add(m.amount)
        dates.update(x for x in (c.email_date, c.odoo_date) if x)
    if result.reply_by:
        dates.add(result.reply_by)
    if mail.date:
        dates.add(mail.date.date())
    for day in dates:  # "December 3" in the answer is a date, but its parts may also stand alone
        numbers.update({float(day.year), float(day.month), float(day.day)})
    return {round(n, 2) for n in numbers}, dates


def _strip_known_tokens(text: str, tokens: Iterable[str]) -> str:
    for token in sorted({t for t in tokens if t}, key=len, reverse=True):
        text = re.sub(re.escape(token), " ", text, flags=re.IGNORECASE)
    return text


def check_answer(
    answer: LLMAnswer,
    *,
    mail: InboundEmail,
    facts: OdooFacts,
    result: SupplierEmailSummary,
    extraction: Extraction,
    po_pattern: re.Pattern[str],
) -> None:
    """Raise ``LLMInvalidOutput`` when the answer says anything the email and Odoo do not support."""
    texts = [answer.summary] + [t for c in answer.changes for t in (c.note or "", c.email_value or "")]
    joined = "\n".join(texts)
    visible = _norm("\n".join((mail.subject, mail.text, mail.quoted_text)))
    resolved = {o.name.upper() for o in facts.orders}
    referenced = set(extraction.po_refs)
    named = {m.group(0).upper() for m in po_pattern.finditer(joined)} | {
        c.po_name.upper() for c in answer.changes if c.po_name
    }
    stray = sorted(n for n in named if n not in resolved or n not in referenced)
    if stray:
        raise LLMInvalidOutput(f"the answer names POs the email does not reference or Odoo does not know: {stray}")
    if EMAIL_ADDRESS.search(joined) or _URL.search(joined) or find_iban_like(joined):
        raise LLMInvalidOutput("the answer contains an e-mail address, a link or bank details")
    for claim in _CLAIMS.finditer(joined):  # every claim: "approval" in the email does not support "approved"
        if claim.group(0).lower() not in visible:
            raise LLMInvalidOutput(f"the answer claims {claim.group(0)!r}, which nothing supports")
    codes = {ln.product_code.upper() for o in facts.orders for ln in o.lines if ln.product_code}
    codes |= {m.upper() for m in re.findall(r"\[([^\]]+)\]", mail.text)}
    for c in answer.changes:
        if c.product_code and c.product_code.strip("[]").upper() not in codes:
            raise LLMInvalidOutput(f"the answer names product {c.product_code!r}, unknown to the email and the PO")
        evidence = _norm(c.evidence).strip(" \"'.…-")
        if evidence.removesuffix("...").strip() not in visible:
            raise LLMInvalidOutput(f"evidence not found in the email: {c.evidence[:80]!r}")
    numbers, dates = _allowed(mail, facts, result, extraction)
    found_dates = find_dates(joined, extraction.reference_date)
    bad_dates = sorted({d.value for d in found_dates} - dates)
    if bad_dates:
        raise LLMInvalidOutput(f"the answer states dates found neither in the email nor in Odoo: {bad_dates}")
    remainder = joined
    for d in sorted(found_dates, key=lambda d: -d.start):
        remainder = remainder[: d.start] + " " + remainder[d.end :]
    remainder = _strip_known_tokens(
        remainder, [*resolved, *referenced, *codes, *(r.value for r in result.references), *extraction.po_refs]
    )
    stated = {m.money.amount for m in find_money(remainder)} | _numbers(remainder)
    unsupported = sorted(n for n in stated if round(n, 2) not in numbers and n not in _SMALL_NUMBERS)
    if unsupported:
        raise LLMInvalidOutput(f"the answer states numbers found neither in the email nor in Odoo: {unsupported[:5]}")


# -- merge and fallback ---------------------------------------------------------------------------
def _merge(answer: LLMAnswer, result: SupplierEmailSummary, facts: OdooFacts, engine: str) -> SupplierEmailSummary:
    untrusted = result.sender_status in ("unknown", "other_vendor") or bool(result.warning_codes() & _UNTRUSTED)
    unverified = untrusted or any(c.unverified for c in result.changes)
    # a PO with an unverified change (another vendor's, say) gets no verified change from the model either
    doubtful = {c.po_name for c in result.changes if c.unverified}
    known = {(c.kind, c.po_name, (c.product_code or "").upper()) for c in result.changes}
    added: list[DetectedChange] = []
    for c in answer.changes:
        po = c.po_name.upper() if c.po_name else None
        code = c.product_code.strip("[]") if c.product_code else None
        if (c.kind, po, (code or "").upper()) in known or (c.kind is ChangeKind.QUESTION and result.needs_reply):
            continue
        order = facts.order(po)
        line = match_line(order, code, None) if code else None
        added.append(
            DetectedChange(
                kind=c.kind,
                po_name=po,
                product_code=code,
                product=line.product if line else None,
                line_id=line.id if line else None,
                email_value=c.email_value,
                evidence=c.evidence,
                matched_in_odoo=order is not None and (code is None or line is not None),
                unverified=(
                    unverified or po in doubtful or (po is not None and order is None) or _foreign(po, facts, result)
                )
                and c.kind is not ChangeKind.QUESTION,
                note=c.note or "",
                source="llm",
            )
        )
        known.add((c.kind, po, (code or "").upper()))
    summary = answer.summary.strip()
    loud = verification_sentence(result.changes, result.warning_details)
    if loud and UNVERIFIED_PREFIX.lower() not in summary.lower():
        summary = f"{summary} {loud}"
    trusted = not unverified
    return result.model_copy(
        update={
            "summary": summary,
            "changes": [*result.changes, *added],
            "needs_reply": result.needs_reply or (answer.needs_reply and trusted),
            "engine": engine,
        }
    )


#: Warnings that mean the sender itself is not verified: nothing the model adds may be verified.
_UNTRUSTED = frozenset(
    {
        WarningCode.NO_SENDER,
        WarningCode.SENDER_NOT_AUTHENTICATED,
        WarningCode.SENDER_UNKNOWN_DOMAIN,
        WarningCode.PO_OTHER_VENDOR,
    }
)


def _foreign(po: str | None, facts: OdooFacts, result: SupplierEmailSummary) -> bool:
    """True when the email names POs of several vendors and ``po`` has no verified change of the rules."""
    if len({o.vendor.id for o in facts.orders}) < 2:
        return False
    return not any(c.po_name == po and not c.unverified for c in result.changes)


def improve_with_llm(
    result: SupplierEmailSummary,
    *,
    mail: InboundEmail,
    facts: OdooFacts,
    extraction: Extraction,
    llm: BaseChatModel,
    po_pattern: re.Pattern[str],
    timeout: float | None = None,
    prompt: VersionedPrompt | None = None,
) -> SupplierEmailSummary:
    """The deterministic ``result`` improved by the model, or ``result`` with ``fallback_reason`` set."""
    try:
        prompt = prompt or load_prompt(PROMPT_NAME)
    except (OSError, ValueError) as exc:  # a broken install must not break the deterministic answer
        log.error("supplier_email: prompt %s unavailable: %s", PROMPT_NAME, exc)
        return result.model_copy(update={"fallback_reason": f"prompt unavailable: {exc}"})
    base = result.model_copy(update={"prompt": prompt.ref})
    try:
        messages = build_messages(prompt, mail, facts, result)
        text = call_model(llm, messages, timeout=timeout)
        answer = parse_answer(text)
        check_answer(answer, mail=mail, facts=facts, result=result, extraction=extraction, po_pattern=po_pattern)
    except LLMError as exc:
        log.warning("supplier_email: LLM answer rejected (%s: %s); deterministic result kept", type(exc).__name__, exc)
        return base.model_copy(update={"fallback_reason": f"{type(exc).__name__}: {exc}"})
    except Exception as exc:  # a bug in validation must cost the wording, never the answer
        log.exception("supplier_email: unexpected error on the LLM path; deterministic result kept")
        return base.model_copy(update={"fallback_reason": f"internal error on the LLM path: {type(exc).__name__}"})
    log.info("supplier_email: LLM answer accepted (prompt %s v%d %s)", prompt.name, prompt.version, prompt.sha256[:12])
    return _merge(answer, base, facts, f"llm:{model_name(llm)}")
