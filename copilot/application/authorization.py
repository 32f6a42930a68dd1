"""Authorization by principal type and use case: the one check the facade runs before any work."""

from __future__ import annotations

from collections.abc import Mapping

from copilot.application.principals import ServiceClient, SharedMailbox, UseCase
from copilot.errors import AccessDenied
from copilot.identity import Actor, Skill
from copilot.identity.rules import ROLE_SKILLS

__all__ = ["MAILBOX_USE_CASES", "NEEDS", "authorize", "believes_mail_server"]

#: The permission (a role's or a client's skill) each use case needs.
NEEDS: Mapping[UseCase, Skill] = {
    "summarize": "summarize",
    "classify": "classify",
    "draft": "draft",
    "ask": "ask",
    "propose": "propose",
    "order_status": "ask",
    "orders_at_risk": "ask",
    "carrier_status": "ask",  # reads the transfers a tracking number is on; writes nothing
    "ingest_supplier_email": "summarize",
    "summarize_with_proposals": "summarize",  # builds proposals for a person to click; submitting needs "propose"
    "classify_sender": "summarize",
    "eval": "eval",
    "audit": "audit",
    # The scheduled controls read Odoo as a question does; acknowledging or snoozing changes only the copilot's
    # own tracking of an exception (never Odoo), so whoever may see the exceptions may act on them.
    "run_control": "ask",
    "list_exceptions": "ask",
    "acknowledge_exception": "ask",
    "snooze_exception": "ask",
}

#: What the shared mailbox may run on its own mail; never questions or proposals.
MAILBOX_USE_CASES: frozenset[UseCase] = frozenset(
    {"summarize", "classify", "draft", "ingest_supplier_email", "classify_sender"}
)


def authorize(principal: Actor, use_case: UseCase) -> None:
    """Raise ``AccessDenied`` unless this principal may run ``use_case``."""
    if use_case not in NEEDS:
        raise AccessDenied(f"unknown use case {use_case!r}")
    needed = NEEDS[use_case]
    if isinstance(principal, ServiceClient):
        if needed not in principal.scopes:
            raise AccessDenied(f"the {principal.kind} client {principal.external_id} lacks the scope {needed!r}")
        return
    if isinstance(principal, SharedMailbox):
        if use_case not in MAILBOX_USE_CASES:
            raise AccessDenied(f"the shared mailbox may not run {use_case!r}")
        return
    if principal.role is None:  # a person without an Odoo role, whatever its channel or id says
        raise AccessDenied(
            f"{principal.external_id} on {principal.channel} is not a known Odoo user: ask an administrator for access"
        )
    if needed not in ROLE_SKILLS[principal.role]:
        allowed = ", ".join(sorted(ROLE_SKILLS[principal.role])) or "nothing"
        raise AccessDenied(f"the {principal.role.replace('_', ' ')} role cannot use '{needed}' (it may use: {allowed})")


def believes_mail_server(principal: Actor) -> bool:
    """True when mail from this principal came through our own receiving server (its Authentication-Results hold)."""
    if isinstance(principal, SharedMailbox):
        return True
    return isinstance(principal, ServiceClient) and principal.relays_our_mail
