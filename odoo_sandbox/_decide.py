"""A person's decision on an approval request in the sandbox, for trying the loop from a terminal.

The decision goes over JSON-RPC as that person, through the request's buttons, so the sandbox's
approval rules (``_approval``) apply exactly as the addon's do: only *Copilot approver* members
decide, never the requester, two distinct approvers for the tiers that need them, nothing after
expiry or a final decision.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from odoo_sandbox._approval import is_approver
from odoo_sandbox._security import APPROVAL_MODEL, SandboxUser

__all__ = ["DecisionRefused", "SandboxDecision", "decide_in_sandbox"]

#: Who decides when no login is given: the recording's manager first, then its administrator.
_DEFAULT_ORDER = ("manager", "admin")


class DecisionRefused(Exception):
    """The sandbox refused the decision (its message says why, in one line)."""


class SandboxDecision(BaseModel):
    """What a decision did."""

    model_config = ConfigDict(frozen=True)

    request_id: int
    name: str
    decision: str = Field(description="approve or refuse")
    login: str
    user_name: str
    state: str = Field(description="The request's state after the decision")
    approvals: int = Field(description="Distinct approvals recorded so far")
    approvals_required: int


def _first_line(exc: Exception) -> str:
    message = str(getattr(exc, "message", "") or exc)
    return next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)


def _login(server: Any, user: SandboxUser) -> Any:
    import odoorpc

    odoo = odoorpc.ODOO(server.host, port=server.port)
    odoo.login(server.db, user.login, user.password)
    return odoo


def _approvals(admin: Any, request: dict[str, Any]) -> set[int]:
    decisions = admin.env["copilot.approval.decision"].read(request["decision_ids"], ["user_id", "decision"])
    return {d["user_id"][0] for d in decisions if d["decision"] == "approve" and d["user_id"]}


def _default_approver(users: tuple[SandboxUser, ...], request: dict[str, Any], approved: set[int]) -> SandboxUser:
    requesters = {
        (request.get(f) or [None])[0]
        for f in ("requested_by_id", "create_uid", "on_behalf_of_user_id")
        if request.get(f)
    }
    for role in _DEFAULT_ORDER:
        for user in users:
            if user.role == role and is_approver(user) and user.uid not in requesters | approved:
                return user
    raise DecisionRefused("no other approver in the sandbox can decide on this request")


def decide_in_sandbox(
    server: Any, request_id: int, *, login: str | None = None, refuse: bool = False, note: str | None = None
) -> SandboxDecision:
    """Approve (or refuse) request ``request_id`` on ``server`` as ``login`` (default: the next approver)."""
    import odoorpc

    users: tuple[SandboxUser, ...] = server.users
    admin_user = next(u for u in users if u.is_admin)
    fields = ["name", "state", "decision_ids", "requested_by_id", "create_uid", "on_behalf_of_user_id"]
    admin = _login(server, admin_user)
    try:
        rows = admin.env[APPROVAL_MODEL].read([request_id], [*fields, "approvals_required"]) if request_id > 0 else []
    except odoorpc.error.RPCError:  # a missing record
        rows = []
    if not rows:
        raise DecisionRefused(f"no approval request with id {request_id} in the sandbox (`copilot approvals list`)")
    request = rows[0]
    if login is None:
        user = _default_approver(users, request, _approvals(admin, request))
    else:
        found = next((u for u in users if u.login == login), None)
        if found is None:
            known = ", ".join(u.login for u in users if is_approver(u))
            raise DecisionRefused(f"no sandbox user {login!r} (approvers: {known})")
        user = found
    if not is_approver(user):
        verb = "refuse" if refuse else "approve"
        known = ", ".join(u.login for u in users if is_approver(u))
        raise DecisionRefused(
            f"Only members of 'Copilot approver' can {verb} copilot requests; {user.login} is not one "
            f"(approvers: {known})"
        )
    person = _login(server, user)
    try:
        record = person.env[APPROVAL_MODEL].browse(request_id)
        if refuse:
            record.action_refuse(comment=note or False)
        else:
            record.action_approve(comment=note or False)
    except odoorpc.error.RPCError as exc:
        raise DecisionRefused(_first_line(exc)) from None
    after = admin.env[APPROVAL_MODEL].read([request_id], [*fields, "approvals_required"])[0]
    name = admin.env["res.users"].read([user.uid], ["name"])[0]["name"]
    return SandboxDecision(
        request_id=request_id,
        name=after["name"],
        decision="refuse" if refuse else "approve",
        login=user.login,
        user_name=name,
        state=after["state"],
        approvals=len(_approvals(admin, after)),
        approvals_required=int(after["approvals_required"] or 1),
    )
