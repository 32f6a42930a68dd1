"""Block Kit rendering of the skills' results: pure functions from result models to Slack blocks.

Everything that came from outside (an email, a customer's message, a supplier's name) is escaped for
Slack's mrkdwn (``&``, ``<``, ``>``), so a message cannot forge a link, a mention or ``<!channel>``.
Citations become links to the Odoo records (``<odoo_url>/odoo/<model>/<id>``, the Odoo 17.2+ web client
route) when an Odoo URL is known, else their display name; knowledge-base chunks are named, never linked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from copilot.application.results import SaleOrderStatus
from copilot.approvals import Proposal
from copilot.citations import Citation, record_url
from copilot.service import ProposalOutcome
from copilot.skills.answer import Answer
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification

__all__ = [
    "OPEN_IN_ODOO_ACTION_ID",
    "PROPOSE_ACTION_ID",
    "Blocks",
    "answer_blocks",
    "citation_link",
    "classification_blocks",
    "context_block",
    "draft_blocks",
    "email_header_block",
    "escape",
    "fallback_text",
    "notice_blocks",
    "order_status_blocks",
    "outcome_blocks",
    "proposal_block",
    "propose_value",
    "record_url",
    "sender",
    "summary_blocks",
]

Blocks = list[dict[str, Any]]

#: ``action_id`` of "Propose this action" (the same id the email channel's summaries use).
PROPOSE_ACTION_ID = "copilot_propose"
#: ``action_id`` prefix of "Open in Odoo" url buttons (Slack still sends a block action for them).
OPEN_IN_ODOO_ACTION_ID = "copilot_open_in_odoo"
#: Slack's limits: 3000 characters in a section's text, 50 blocks, 2000 in a button value, 75 in its label.
MAX_SECTION_CHARS = 2900
MAX_BLOCKS = 50
MAX_VALUE_CHARS = 2000
MAX_LIST = 10
#: Models whose records an "Open in Odoo" button may point at, most useful first.
_MAIN_MODELS = ("purchase.order", "sale.order", "helpdesk.ticket", "stock.picking", "account.move", "res.partner")


#: Mass pings written out in text; broken with a zero-width space so no client or setting turns them into one.
_PINGS = ("@channel", "@here", "@everyone")
_ZWSP = "\u200b"


def escape(text: str | None) -> str:
    """``text`` safe for mrkdwn: no link, mention or ``<!channel>`` can be forged by it, and a written
    ``@channel``/``@here``/``@everyone`` is broken."""
    out = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ping in _PINGS:
        out = out.replace(ping, "@" + _ZWSP + ping[1:])
    return out


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}]}


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def sender(name: str | None, address: str | None) -> str:
    """Who sent an email, escaped: ``Name <address>``, either one alone, or "unknown sender"."""
    if name and address:
        return escape(f"{name} <{address}>")
    return escape(name or address or "unknown sender")


def citation_link(citation: Citation, odoo_url: str | None) -> str:
    """The citation as mrkdwn: a link to the Odoo record, else its (escaped) name."""
    name = escape(citation.display_name)
    url = record_url(odoo_url, citation.model, citation.id)
    return f"<{url}|{name.replace('|', '¦')}>" if url else name


def _sources(citations: Sequence[Citation], odoo_url: str | None, *, limit: int = 12) -> Blocks:
    unique: dict[tuple[str, int], Citation] = {}
    for c in citations:
        unique.setdefault((c.model, c.id), c)
    if not unique:
        return []
    shown = list(unique.values())
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return [_context("Sources: " + ", ".join(citation_link(c, odoo_url) for c in shown[:limit]) + more)]


def _open_in_odoo(citations: Sequence[Citation], odoo_url: str | None) -> Blocks:
    """An actions block with one "Open in Odoo" url button per main record (at most three)."""
    buttons: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for model in _MAIN_MODELS:
        for c in citations:
            url = record_url(odoo_url, c.model, c.id) if c.model == model else None
            if url and (c.model, c.id) not in seen and len(buttons) < 3:
                seen.add((c.model, c.id))
                buttons.append(
                    {
                        "type": "button",
                        "action_id": f"{OPEN_IN_ODOO_ACTION_ID}_{len(buttons)}",
                        "text": _plain(f"Open {c.display_name} in Odoo"),
                        "url": url,
                    }
                )
    return [{"type": "actions", "elements": buttons}] if buttons else []


def _finish(blocks: Blocks) -> Blocks:
    return blocks[:MAX_BLOCKS]


def fallback_text(blocks: Blocks, limit: int = 3000) -> str:
    """The notification text of a message: its first section's text (already escaped)."""
    for block in blocks:
        text = (block.get("text") or {}).get("text")
        if text:
            return text[:limit]
    return "Odoo Ops Copilot"


# -- results ---------------------------------------------------------------------------------------
def answer_blocks(answer: Answer, *, odoo_url: str | None = None) -> Blocks:
    """A buyer's question answered: the text, what was not found, what the copilot can answer, sources."""
    blocks: Blocks = [_section(escape(answer.text))]
    if answer.not_found:
        blocks.append(_context("Not in Odoo: " + escape(", ".join(answer.not_found))))
    if answer.can_answer:
        blocks.append(_section("*I can answer:*\n" + _bullets(escape(c) for c in answer.can_answer)))
    blocks += _open_in_odoo(answer.citations, odoo_url)
    blocks += _sources(answer.citations, odoo_url)
    if answer.resolved_from_thread:
        blocks.append(_context("Follow-up: I used the record from earlier in this thread."))
    return _finish(blocks)


_DRAFT_STATUS = {
    "ready": "ready to review",
    "needs_review": "needs review",
    "needs_clarification": "asks the customer which order",
}


def draft_blocks(draft: ReplyDraft, *, odoo_url: str | None = None) -> Blocks:
    """A reply draft for an agent (never sent): status, body, what to check, suggested actions, sources."""
    header = f"*Draft reply* ({_DRAFT_STATUS.get(draft.status, draft.status)}, not sent)"
    if draft.customer:
        header += f" for {escape(draft.customer)}"
    body = escape(draft.body).replace("```", "'''")
    blocks: Blocks = [_section(header), _section(f"*{escape(draft.subject)}*\n```{body}```")]
    if draft.open_questions:
        blocks.append(_section("*Check before sending*\n" + _bullets(escape(q) for q in draft.open_questions[:8])))
    if draft.needs_customer:
        blocks.append(_context('Name the customer: `/copilot draft <message> --customer "Name"`'))
    if draft.suggested_actions:
        lines = (f"{escape(a.title)}: {escape(a.reason)}" for a in draft.suggested_actions[:5])
        blocks.append(_section("*Suggested follow-ups*\n" + _bullets(lines)))
    blocks += _open_in_odoo(draft.citations, odoo_url)
    blocks += _sources(draft.citations, odoo_url)
    return _finish(blocks)


def order_status_blocks(draft: ReplyDraft, *, odoo_url: str | None = None) -> Blocks:
    """A sale order's status for staff, from the facts a reply draft gathered (the draft itself is not shown)."""
    if not draft.orders or not draft.facts:
        questions = draft.open_questions or ["I could not tell which customer's order this is."]
        text = "*No status yet.* " + escape(" ".join(questions[:2]))
        return _finish([_section(text), _context('Name the customer: `/copilot status S00024 --customer "Name"`')])
    lines = []
    for fact in draft.facts[: MAX_LIST * 2]:
        where = f" ({citation_link(fact.citation, odoo_url)})" if fact.citation else ""
        lines.append(f"{escape(fact.label)}: {escape(fact.value)}{where}")
    blocks: Blocks = [_section(f"*{escape(', '.join(draft.orders))}*" + "\n" + _bullets(lines))]
    if draft.open_questions:
        blocks.append(_context(escape(" ".join(draft.open_questions[:3]))))
    blocks += _open_in_odoo(draft.citations, odoo_url)
    return _finish(blocks)


def sale_status_blocks(status: SaleOrderStatus, *, odoo_url: str | None = None) -> Blocks:
    """A sale order's deliveries for staff: per product ordered, delivered, reserved, short, next receipt."""
    head = (
        f"*{escape(status.name)}* · {escape(status.customer.name)} · {escape(status.state)}"
        + (f" · their ref {escape(status.customer_reference)}" if status.customer_reference else "")
        + f" · {status.amount_total:,.2f} {escape(status.currency)}"
    )
    lines = []
    for line in status.lines[:MAX_LIST]:
        text = f"{escape(line.product.name)}: {line.delivered:g}/{line.ordered:g} {escape(line.uom)} delivered"
        if line.reserved:
            text += f", {line.reserved:g} reserved"
        if line.short:
            when = f", next receipt {line.expected_date:%Y-%m-%d}" if line.expected_date else ", no receipt planned"
            text += f", *{line.short:g} short*{when}"
        lines.append(text)
    blocks: Blocks = [_section(head + ("\n" + _bullets(lines) if lines else ""))]
    if status.commitment_date:
        blocks.append(_context(f"Promised for {status.commitment_date:%Y-%m-%d}"))
    blocks += _open_in_odoo(status.citations, odoo_url)
    blocks += _sources(status.citations, odoo_url)
    return _finish(blocks)


def classification_blocks(c: TicketClassification, *, odoo_url: str | None = None) -> Blocks:
    """Triage labels with probabilities, the verdict, the evidence (similar tickets, orders), sources."""
    verdict = "*needs a person*" if c.needs_human else "confident"
    labels = ", ".join(f"{p.field}: {escape(p.label.name)} ({p.probability:.0%})" for p in c.predictions)
    blocks: Blocks = [_section(f"*Triage* ({verdict}): {labels or 'no label'}")]
    if c.reasons:
        blocks.append(_context("Why a person: " + escape("; ".join(c.reasons[:3]))))
    if c.similar_tickets:
        similar = (f"{escape(t.reference or str(t.id))} {escape(t.subject)}" for t in c.similar_tickets[:3])
        blocks.append(_section("*Similar tickets*\n" + _bullets(similar)))
    if c.orders:
        orders = (f"{escape(o.name)} ({escape(o.customer)}, {escape(o.delivery_status or o.state)})" for o in c.orders)
        blocks.append(_section("*Orders*\n" + _bullets(list(orders)[:5])))
    if c.warnings:
        blocks.append(_context("⚠ " + escape("; ".join(c.warnings[:3]))))
    blocks += _sources(c.citations, odoo_url)
    return _finish(blocks)


def propose_value(key: str, source: str = "slack") -> str:
    """The value of a "Propose this action" button: the proposal's idempotency key and where it is stored."""
    value = json.dumps({"proposal_key": key, "source": source}, separators=(",", ":"))
    if len(value) > MAX_VALUE_CHARS:
        raise ValueError("proposal key too long for a Slack button value")
    return value


def proposal_block(proposal: Proposal, *, source: str = "slack") -> dict[str, Any]:
    """One proposal with its diff and a "Propose this action" button (creating the request needs a click)."""
    diff = "; ".join(f"{escape(d.field)}: {escape(d.before)} → {escape(d.after)}" for d in proposal.diff)
    risk = f" · risk {proposal.risk_tier.value}"
    if proposal.amount is not None:
        risk += f" · {proposal.amount:,.2f} {escape(proposal.currency or '')}".rstrip()
    block = _section(f"*Proposal:* {escape(proposal.title)}\n{diff}{risk}")
    block["block_id"] = f"proposal:{proposal.idempotency_key}"[:255]
    block["accessory"] = {
        "type": "button",
        "action_id": PROPOSE_ACTION_ID,
        "text": _plain("Propose this action"),
        "value": propose_value(proposal.idempotency_key, source),
    }
    return block


def summary_blocks(
    summary: SupplierEmailSummary,
    proposals: Sequence[Proposal] = (),
    *,
    odoo_url: str | None = None,
    source: str = "slack",
) -> Blocks:
    """A supplier email for a buyer: POs, changes compared with Odoo, warnings first, proposals with buttons.

    ``source`` says where the proposals are stored for the buttons (``"email"``: the mailbox's outbox).
    """
    header = summary.email
    sender = escape(header.from_name or header.from_address or "unknown sender")
    pos = ", ".join(citation_link(p.citation, odoo_url) for p in summary.purchase_orders) or "no PO found in Odoo"
    blocks: Blocks = [
        _section(f"*Supplier email* from {sender}: *{escape(header.subject or '(no subject)')}*\nPOs: {pos}"),
        _section(escape(summary.summary)),
    ]
    if summary.warnings:
        blocks.append(_section("*Check first*\n" + "\n".join(f"⚠ {escape(w)}" for w in summary.warnings[:8])))
    if summary.changes:
        lines = []
        for change in summary.changes[:MAX_LIST]:
            what = change.kind.value.replace("_", " ")
            said = escape(change.email_value or change.evidence)
            odoo = f" (Odoo: {escape(change.odoo_value)})" if change.odoo_value else ""
            flag = " _unverified_" if change.unverified else ""
            lines.append(f"{what} {escape(change.po_name or '')}: {said}{odoo}{flag}")
        blocks.append(_section("*Changes*\n" + _bullets(lines)))
    if summary.unresolved_references:
        blocks.append(_context("Not in Odoo: " + escape(", ".join(summary.unresolved_references))))
    for proposal in list(proposals)[:5]:
        blocks.append(proposal_block(proposal, source=source))
    if summary.needs_reply:
        by = f" by {summary.reply_by:%Y-%m-%d}" if summary.reply_by else ""
        blocks.append(_context(f"The supplier expects a reply{by}."))
    blocks += _open_in_odoo([p.citation for p in summary.purchase_orders], odoo_url)
    blocks += _sources(summary.citations, odoo_url)
    return _finish(blocks)


def outcome_blocks(outcome: ProposalOutcome, *, title: str, who: str) -> Blocks:
    """What became of a click on "Propose this action": the request in Odoo, or advisory only."""
    decision, request = outcome.decision, outcome.request
    if request is None:
        why = escape("; ".join(decision.reasons[:3])) or "the approval policy makes this advisory"
        text = f"*Advisory only:* {escape(title)}\nNo approval request was created ({why}). Act on it in Odoo yourself."
    else:
        again = "" if request.created else " (already requested)"
        text = (
            f"*Approval request {escape(request.name)}* (#{request.id}, {request.state.value}, "
            f"risk {decision.tier.value}){again}: {escape(title)}\n"
            f"{decision.approvers_needed or 'No'} approval(s) needed in Odoo; nothing changes until then."
        )
    return [_section(text), _context(f"Proposed by {escape(who)}")]


def email_header_block(kind: str, *, from_name: str | None, from_address: str | None, subject: str) -> dict[str, Any]:
    """The head of an email posted for staff: ``*<kind>* from Name <address>`` and the subject, escaped."""
    return _section(f"*{escape(kind)}* from {sender(from_name, from_address)}\n*{escape(subject or '(no subject)')}*")


def context_block(text: str) -> dict[str, Any]:
    """A small grey line (a note under a result); ``text`` is mrkdwn written by us, escape what came from outside."""
    return _context(text)


def notice_blocks(text: str) -> Blocks:
    """A short message (apology, refusal, help) as one section; ``text`` is mrkdwn written by us."""
    return [_section(text)]
