"""Per-role allow-lists of skills and read-only tools: checked in code before a skill runs."""

from __future__ import annotations

from collections.abc import Mapping

from copilot.errors import AccessDenied
from copilot.identity.actor import Actor, Role, Skill

__all__ = ["MAILBOX_SKILLS", "ROLE_SKILLS", "ROLE_TOOLS", "allowed_tools", "authorize"]

#: Skills each role may use. Proposals are allowed to the roles that own the actions; a proposal only
#: creates an approval request, which a manager still decides in Odoo.
ROLE_SKILLS: Mapping[Role, frozenset[Skill]] = {
    "customer_service": frozenset({"classify", "draft", "ask", "propose"}),
    "buyer": frozenset({"summarize", "ask", "propose"}),
    "manager": frozenset({"summarize", "classify", "draft", "ask", "propose", "audit"}),
    "evaluator": frozenset({"eval", "audit"}),
}

#: Read-only Odoo tools (``copilot.tools.langchain_tools``) each role's questions may use.
ROLE_TOOLS: Mapping[Role, frozenset[str]] = {
    "customer_service": frozenset({"sale_order_status", "product_availability", "find_partner"}),
    "buyer": frozenset(
        {
            "purchase_order_status",
            "late_purchase_orders",
            "product_availability",
            "find_partner",
            "purchase_order_emails",
        }
    ),
    "manager": frozenset(
        {
            "purchase_order_status",
            "late_purchase_orders",
            "sale_order_status",
            "product_availability",
            "find_partner",
            "purchase_order_emails",
        }
    ),
    "evaluator": frozenset(),
}


#: What the shared mailbox's own processing (actor ``mailbox:<imap user>`` on email, no role) may run.
MAILBOX_SKILLS: frozenset[Skill] = frozenset({"summarize", "classify", "draft"})


def authorize(actor: Actor, skill: Skill) -> None:
    """Raise ``AccessDenied`` unless the actor's role may use ``skill`` (service clients: their scopes decide)."""
    if actor.role is None:
        if actor.channel in ("http", "cli", "webhook"):
            return  # authenticated service clients: the API token's scopes were checked by the channel
        if actor.channel == "email" and actor.external_id.startswith("mailbox:") and skill in MAILBOX_SKILLS:
            return  # the shared mailbox processing its own mail; never questions or proposals
        raise AccessDenied(
            f"{actor.external_id} on {actor.channel} is not a known Odoo user: ask an administrator for access"
        )
    if skill not in ROLE_SKILLS[actor.role]:
        allowed = ", ".join(sorted(ROLE_SKILLS[actor.role])) or "nothing"
        raise AccessDenied(f"the {actor.role.replace('_', ' ')} role cannot use '{skill}' (it may use: {allowed})")


def allowed_tools(actor: Actor) -> frozenset[str] | None:
    """The tool names the actor's questions may use (None: every read-only tool)."""
    return None if actor.role is None else ROLE_TOOLS[actor.role]
