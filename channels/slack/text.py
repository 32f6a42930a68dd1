"""Slack text in: the ``/copilot`` grammar, Slack's message formatting back to plain text, messages as emails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from copilot.email import InboundEmail
from copilot.text.references import is_order_reference

__all__ = ["APOLOGY", "HELP", "NO_ODOO_USER", "Command", "message_to_email", "parse_command", "slack_to_plain"]

Verb = Literal["ask", "draft", "status", "help"]

HELP = (
    "*Odoo Ops Copilot*\n"
    "• `/copilot ask <question>`: e.g. `/copilot ask which Wood Corner orders are late?`\n"
    "• `/copilot draft <customer message> [--customer NAME]`: a reply draft grounded in Odoo (never sent)\n"
    "• `/copilot status P00012` or `/copilot status S00024 --customer NAME`: where an order stands\n"
    "• Mention me or send me a direct message to ask a question; follow-ups in the thread may say “it”.\n"
    "• On any message: *More actions → Draft a reply* or *Summarize supplier email*.\n"
    "What you may use depends on your Odoo role; answers are visible only to you unless you ask in a thread."
)

NO_ODOO_USER = (
    "I can't find your Odoo user, so I can't help you yet. Ask an administrator to give you an Odoo user "
    "with the email address of your Slack profile."
)
APOLOGY = "Sorry, something went wrong on my side and I could not finish this. It has been logged for the team."

_CUSTOMER = re.compile(r"(?<!\s)\s*+--customer(?:=|\s++)(?:\"([^\"]+)\"|“([^”]+)”|'([^']+)'|(\S+))", re.IGNORECASE)
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<[#!][^|>]*(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Command:
    """One ``/copilot`` invocation: the verb, its text, the optional customer and order reference."""

    verb: Verb
    text: str = ""
    customer: str | None = None
    ref: str | None = None
    error: str | None = None


def slack_to_plain(text: str) -> str:
    """Slack's wire formatting as plain text: mentions dropped, links to their label, entities decoded."""
    text = _MENTION.sub("", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _SPECIAL.sub(lambda m: m.group(1) or "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _customer(text: str) -> tuple[str, str | None]:
    match = _CUSTOMER.search(text)
    if match is None:
        return text.strip(), None
    name = next(g for g in match.groups() if g)
    return (text[: match.start()] + text[match.end() :]).strip(), name.strip()


def parse_command(text: str) -> Command:
    """Parse the text after ``/copilot``; anything that is not a known verb is a question."""
    plain = slack_to_plain(text)
    verb, _, rest = plain.partition(" ")
    verb = verb.lower()
    rest = rest.strip()
    if verb in ("", "help", "?"):
        return Command("help")
    if verb == "draft":
        message, customer = _customer(rest)
        if not message:
            return Command("draft", error="Paste the customer's message after `draft`.")
        return Command("draft", message, customer=customer)
    if verb == "status":
        remaining, customer = _customer(rest)
        ref = remaining.split()[0].upper() if remaining.split() else ""
        if not is_order_reference(ref):
            return Command("status", error="Name one order: `/copilot status P00012` or `status S00024`.")
        return Command("status", remaining, customer=customer, ref=ref)
    if verb == "ask":
        if not rest:
            return Command("ask", error="Ask a question after `ask`, e.g. `/copilot ask what's late?`")
        return Command("ask", rest)
    return Command("ask", plain)


def message_to_email(message: dict[str, Any]) -> InboundEmail:
    """A Slack message (or an email Slack received and shared as a file) as an email for the skills.

    Only an email file gives a sender: a pasted text's "From:" lines are the poster's words, not a sender.
    """
    for file in message.get("files") or []:
        if file.get("mode") == "email" or file.get("filetype") == "email":
            sender = (file.get("from") or [{}])[0]
            created = file.get("created") or file.get("timestamp")
            return InboundEmail(
                message_id=f"slack-file:{file.get('id')}" if file.get("id") else None,
                from_name=sender.get("name") or None,
                from_address=sender.get("address") or None,
                to=[t.get("address") for t in file.get("to") or [] if t.get("address")],
                subject=file.get("subject") or file.get("title") or "",
                date=datetime.fromtimestamp(int(created), tz=UTC) if created else None,
                text=file.get("plain_text") or file.get("preview") or "",
            )
    text = slack_to_plain(message.get("text") or "")
    subject = text.splitlines()[0][:200] if text else ""
    return InboundEmail(subject=subject, text=text)
