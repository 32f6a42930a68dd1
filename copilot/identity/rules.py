"""Per-role allow-lists of skills and read-only tools: checked in code before a skill runs."""

from __future__ import annotations

from collections.abc import Mapping

from copilot.errors import AccessDenied
from copilot.identity.actor import Actor, Role, Skill

__all__ = ["ROLE_SKILLS", "ROLE_TOOLS", "allowed_tools", "authorize"]

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


def authorize(actor: Actor, skill: Skill) -> None:
    """Raise ``AccessDenied`` unless the person's role may use ``skill``; no role, nothing (whatever the channel).

    Service clients and the shared mailbox are explicit principal types: ``copilot.application.authorize``.
    """
    if actor.role is None:
        raise AccessDenied(
            f"{actor.external_id} on {actor.channel} is not a known Odoo user: ask an administrator for access"
        )
    if skill not in ROLE_SKILLS[actor.role]:
        allowed = ", ".join(sorted(ROLE_SKILLS[actor.role])) or "nothing"
        raise AccessDenied(f"the {actor.role.replace('_', ' ')} role cannot use '{skill}' (it may use: {allowed})")


def allowed_tools(actor: Actor) -> frozenset[str] | None:
    """The tool names the actor's questions may use (None: every read-only tool)."""
    return None if actor.role is None else ROLE_TOOLS[actor.role]
