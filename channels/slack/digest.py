"""The Slack digest of exceptions for one owner: Block Kit messages grouped by severity, with buttons.

Pure functions from ``Delivery`` lists to messages, and the in-place updates a click makes (acknowledged,
snoozed, proposed). Each exception is three blocks: its title and reason (``exc:<id>:t``), a grey line with
the marker ("new"/"worse"), its age and its evidence (``exc:<id>:m``), and its buttons (``exc:<id>:a``):
"Open in Odoo" (a url button), "Propose" (the finding's first proposal), "Snooze 1 day" and "Acknowledge".
Their value is an ``ExceptionRef`` (control and key; the proposal's idempotency key, or the snooze length).

Titles, reasons and record names come from Odoo, suppliers' mail and tickets: they are escaped for mrkdwn
(no forged link, mention or ``<!channel>``), ``@channel``/``@here``/``@everyone`` are broken with a zero-width
space, and every mrkdwn text is ``verbatim`` (Slack auto-links nothing in it). A digest longer than one
message (50 blocks) continues in further messages, at most ``MAX_MESSAGES``; the rest, least severe first
left out, is counted ("and N more") with a link to Odoo.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from channels.slack.blocks import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    MAX_VALUE_CHARS,
    OPEN_IN_ODOO_ACTION_ID,
    Blocks,
    citation_link,
    escape,
)
from copilot.approvals import Proposal
from copilot.citations import Citation, record_url
from copilot.controls.model import SEVERITIES, Delivery, Severity

__all__ = [
    "ACK_ACTION_ID",
    "MAX_MESSAGES",
    "OPEN_ACTION_ID",
    "PROPOSE_ACTION_ID",
    "SNOOZE_ACTION_ID",
    "SNOOZE_DAYS",
    "DigestMessage",
    "ExceptionRef",
    "digest_messages",
    "escape",
    "first_proposal",
    "mark_handled",
    "mark_proposed",
    "proposals_of",
]

#: The addon's Exceptions list as an Odoo 18/19 web-client path (``/odoo/action-<xml id>``).
EXCEPTIONS_ACTION = "action-copilot_approval.copilot_exception_action"

log = logging.getLogger(__name__)

#: The "Open in Odoo" url button (its prefix is the one the Slack app already acks).
OPEN_ACTION_ID = f"{OPEN_IN_ODOO_ACTION_ID}_exception"
PROPOSE_ACTION_ID = "copilot_exception_propose"
SNOOZE_ACTION_ID = "copilot_exception_snooze"
ACK_ACTION_ID = "copilot_exception_acknowledge"
#: How long "Snooze" silences an exception.
SNOOZE_DAYS = 1
#: Messages one digest may take; what does not fit is counted in the last one.
MAX_MESSAGES = 3
#: Longest title and reason shown, and evidence links per exception.
MAX_TITLE_CHARS = 150
MAX_REASON_CHARS = 600
MAX_EVIDENCE = 5
MAX_HEADER_CHARS = 150
MAX_FALLBACK_CHARS = 3000

_HEADINGS: dict[Severity, str] = {
    "critical": ":red_circle: *Critical*",
    "high": ":large_orange_circle: *High*",
    "medium": ":large_yellow_circle: *Medium*",
    "low": ":white_circle: *Low*",
}


class ExceptionRef(BaseModel):
    """What a digest button refers to: one tracked exception (and the proposal or snooze length it offers)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    control: str
    key: str
    proposal_key: str | None = None
    days: int | None = None

    def value(self) -> str:
        """The button's value (compact JSON; ``ValueError`` above Slack's 2000 characters)."""
        value = self.model_dump_json(exclude_none=True)
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError("exception key too long for a Slack button value")
        return value

    @classmethod
    def parse(cls, raw: str | None) -> ExceptionRef | None:
        """The reference in a button's value; None when it is not one of ours."""
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            return None

    @property
    def block_key(self) -> str:
        """The short id of this exception's blocks in a message."""
        return hashlib.sha256(f"{self.control}\0{self.key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DigestMessage:
    """One Slack message of a digest: its notification text, its blocks and the exceptions it shows."""

    text: str
    blocks: Blocks
    refs: tuple[ExceptionRef, ...]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, MAX_SECTION_CHARS), "verbatim": True}


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": _mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "context", "elements": [_mrkdwn(text)]}
    if block_id:
        block["block_id"] = block_id
    return block


def _age(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def first_proposal(delivery: Delivery) -> Proposal | None:
    """The finding's first proposal as an approval proposal, or None (none, or not a valid one)."""
    finding = delivery.exception.finding
    if not finding.proposals:
        return None
    try:
        return Proposal.model_validate(finding.proposals[0])
    except ValidationError:
        log.warning("finding %s/%s: its first proposal is not a valid proposal", finding.control, finding.key)
        return None


def proposals_of(deliveries: Sequence[Delivery]) -> list[Proposal]:
    """The proposals a digest's "Propose" buttons offer (to stash for the clicks)."""
    return [p for d in deliveries if (p := first_proposal(d)) is not None]


def _sorted(deliveries: Sequence[Delivery]) -> list[Delivery]:
    def rank(d: Delivery) -> tuple[int, float, int, str]:
        f = d.exception.finding
        return (SEVERITIES.index(f.severity), -f.score, 0 if d.change == "worsened" else 1, f.title)

    return sorted(deliveries, key=rank)


def _ref(delivery: Delivery) -> ExceptionRef:
    f = delivery.exception.finding
    return ExceptionRef(control=f.control, key=f.key)


def _exception_blocks(delivery: Delivery, *, odoo_url: str | None, now: datetime) -> Blocks:
    """The three blocks of one exception: title and reason, marker/age/evidence, buttons."""
    tracked = delivery.exception
    f = tracked.finding
    ref = _ref(delivery)
    bid = ref.block_key
    text = f"*{escape(_cut(f.title, MAX_TITLE_CHARS))}*\n{escape(_cut(f.reason, MAX_REASON_CHARS))}"
    if delivery.change == "worsened":
        was = f" (was {tracked.sent_severity})" if tracked.sent_severity and tracked.sent_severity != f.severity else ""
        marker = f":arrow_up: *worse*{was}"
    else:
        marker = ":new: *new*"
    meta = [marker, f"{_age(now - (f.since or tracked.first_seen))} old", escape(f.control)]
    unique: dict[tuple[str, int], Citation] = {}
    for c in f.evidence:
        unique.setdefault((c.model, c.id), c)
    evidence = list(unique.values())
    if evidence:
        more = f" and {len(evidence) - MAX_EVIDENCE} more" if len(evidence) > MAX_EVIDENCE else ""
        meta.append("Evidence: " + ", ".join(citation_link(c, odoo_url) for c in evidence[:MAX_EVIDENCE]) + more)
    elements: list[dict[str, Any]] = []
    record = f.record or (evidence[0] if evidence else None)
    url = record_url(odoo_url, record.model, record.id) if record else None
    if url:
        elements.append({"type": "button", "action_id": OPEN_ACTION_ID, "text": _plain("Open in Odoo"), "url": url})
    try:
        proposal = first_proposal(delivery)
        if proposal is not None:
            value = ExceptionRef(control=f.control, key=f.key, proposal_key=proposal.idempotency_key).value()
            elements.append(
                {"type": "button", "action_id": PROPOSE_ACTION_ID, "text": _plain("Propose"), "value": value}
            )
        snooze = ExceptionRef(control=f.control, key=f.key, days=SNOOZE_DAYS).value()
        elements.append(
            {
                "type": "button",
                "action_id": SNOOZE_ACTION_ID,
                "text": _plain(f"Snooze {SNOOZE_DAYS} day"),
                "value": snooze,
            }
        )
        elements.append(
            {
                "type": "button",
                "action_id": ACK_ACTION_ID,
                "text": _plain("Acknowledge"),
                "value": ref.value(),
                "style": "primary",
            }
        )
    except ValueError:  # a key longer than a button value: shown, acted on in Odoo
        log.warning("exception %s/%s: key too long for Slack buttons", f.control, f.key[:80])
        elements = [e for e in elements if e.get("url")]
    blocks = [_section(text, f"exc:{bid}:t"), _context(" · ".join(meta), f"exc:{bid}:m")]
    if elements:
        blocks.append({"type": "actions", "block_id": f"exc:{bid}:a", "elements": elements})
    else:
        blocks.append(_context("Act on it in Odoo.", f"exc:{bid}:a"))
    return blocks


def _head(owner: str, deliveries: Sequence[Delivery], part: int, parts: int) -> Blocks:
    new = sum(1 for d in deliveries if d.change == "new")
    worse = len(deliveries) - new
    title = f"Exceptions for {owner}" + (f" ({part}/{parts})" if parts > 1 else "")
    counts: dict[str, int] = {s: 0 for s in SEVERITIES}
    for d in deliveries:
        counts[d.exception.finding.severity] += 1
    by_severity = " · ".join(f"{n} {s}" for s, n in counts.items() if n)
    return [
        {"type": "header", "text": _plain(title, MAX_HEADER_CHARS)},
        _context(f"{new} new, {worse} worse: {by_severity}"),
    ]


def _pack(ordered: list[Delivery], *, odoo_url: str | None, now: datetime) -> list[list[Blocks]]:
    """The exceptions' blocks per message: each message's body fits 50 blocks with its head and a footer."""
    budget = MAX_BLOCKS - 2 - 1  # the head (header, counts) and room for an "and N more" footer
    pages: list[list[Blocks]] = []
    page: list[Blocks] = []
    used = 0
    heading: Severity | None = None
    for delivery in ordered:
        severity = delivery.exception.finding.severity
        chunk: Blocks = []
        if severity != heading or not page:
            chunk.append(_section(_HEADINGS[severity], f"sev:{severity}"))
        chunk += _exception_blocks(delivery, odoo_url=odoo_url, now=now)
        if used + len(chunk) > budget:
            if len(pages) + 1 >= MAX_MESSAGES:
                break
            pages.append(page)
            page, used = [], 0
            chunk = [_section(_HEADINGS[severity], f"sev:{severity}"), *chunk[-3:]]
        page.append(chunk)
        used += len(chunk)
        heading = severity
    if page:
        pages.append(page)
    return pages


def digest_messages(
    owner: str, deliveries: Sequence[Delivery], *, odoo_url: str | None, now: datetime
) -> list[DigestMessage]:
    """One owner's digest as Slack messages (usually one); nothing for no deliveries."""
    if not deliveries:
        return []
    ordered = _sorted(deliveries)
    pages = _pack(ordered, odoo_url=odoo_url, now=now)
    shown = sum(len(page) for page in pages)
    messages: list[DigestMessage] = []
    offset = 0
    for number, page in enumerate(pages, start=1):
        blocks = _head(owner, deliveries, number, len(pages))
        for chunk in page:
            blocks += chunk
        included = ordered[offset : offset + len(page)]
        offset += len(page)
        if number == len(pages) and shown < len(ordered):
            listing = f"{odoo_url.rstrip('/')}/odoo/{EXCEPTIONS_ACTION}" if odoo_url else None
            where = f"<{listing}|Copilot → Exceptions in Odoo>" if listing else "Odoo"
            blocks.append(_context(f"…and {len(ordered) - shown} more: see {where}."))
        refs = tuple(_ref(d) for d in included)
        messages.append(DigestMessage(text=_fallback(owner, deliveries, included), blocks=blocks, refs=refs))
    return messages


def _fallback(owner: str, deliveries: Sequence[Delivery], included: Sequence[Delivery]) -> str:
    """The notification text: counts and the worst titles (escaped)."""
    titles = "; ".join(escape(_cut(d.exception.finding.title, 80)) for d in included[:3])
    return _cut(f"{len(deliveries)} exception(s) for {escape(owner)}: {titles}", MAX_FALLBACK_CHARS)


# -- updates in place after a click ---------------------------------------------------------------------
def mark_handled(blocks: Blocks, ref: ExceptionRef, line: str) -> Blocks:
    """The message with this exception's buttons replaced by ``line`` (plain text, escaped here) and its link."""
    bid = f"exc:{ref.block_key}:a"
    out: Blocks = []
    for block in blocks:
        if block.get("block_id") != bid:
            out.append(block)
            continue
        urls = [e["url"] for e in block.get("elements") or [] if e.get("url")]
        link = f" · <{urls[0]}|Open in Odoo>" if urls else ""
        out.append(_context(f":white_check_mark: {escape(line)}{link}", bid))
    return out


def mark_proposed(blocks: Blocks, ref: ExceptionRef, line: str) -> Blocks:
    """The message with this exception's "Propose" button gone and ``line`` (plain text) under it."""
    key = ref.block_key
    out: Blocks = []
    for block in blocks:
        if block.get("block_id") == f"exc:{key}:a" and block.get("type") == "actions":
            elements = [e for e in block["elements"] if e.get("action_id") != PROPOSE_ACTION_ID]
            out.append({**block, "elements": elements})
        elif block.get("block_id") == f"exc:{key}:m":
            elements = list(block.get("elements") or [])
            out.append({**block, "elements": [*elements[:9], _mrkdwn(escape(line))]})
        else:
            out.append(block)
    return out


def delivery_summary(deliveries: Sequence[Delivery]) -> Mapping[str, Any]:
    """What a digest held, for the outbox and a dead letter (JSON-ready)."""
    return {"deliveries": [d.model_dump(mode="json") for d in deliveries]}
