"""``copilot.approval.request`` as the project's addon (``odoo_addons/<series>/copilot_approval``) defines it.

The sandbox enforces the same server-side rules as the addon, so tests and the demo exercise the
whole loop: the requester never approves, high and critical tiers need two distinct approvers, an
expired request cannot be approved, what was proposed is frozen from the first decision (and what
will run -- action, target, payload and their hash -- from creation), only executors move a request
through execution, and states change only through the buttons (never by a plain ``write``). The
person on whose behalf the copilot asked (login or e-mail, case-insensitive, never a pattern) cannot
approve either, and pre-approval is for the copilot's own account and its own proposals only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from copilot.approvals.binding import binding_problem, payload_hash
from odoo_sandbox._env import Env
from odoo_sandbox._security import (
    APPROVAL_MODEL,
    DECISION_MODEL,
    GROUP_AGENT,
    GROUP_APPROVER,
    GROUP_EXECUTOR,
    ROLE_GROUPS,
    RpcError,
    SandboxUser,
    check_model_access,
)

__all__ = [
    "APPROVAL_METHODS",
    "BOUND_FIELDS",
    "DECISION_MODEL",
    "DUAL_TIERS",
    "EXPOSURE_TIERS",
    "FROZEN_FIELDS",
    "PRE_APPROVABLE",
    "WORKFLOW_FIELDS",
    "approval_fields",
    "check_approval_unlink",
    "check_approval_write",
    "in_workflow",
    "is_approver",
    "is_executor",
    "prepare_approval_create",
    "workflow_env",
]

DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
STATES = [
    ["pending", "To Approve"],
    ["approved", "Approved"],
    ["refused", "Refused"],
    ["expired", "Expired"],
    ["executing", "Executing"],
    ["executed", "Executed"],
    ["failed", "Failed"],
]
TIERS = [["low", "Low"], ["medium", "Medium"], ["high", "High"], ["critical", "Critical"]]
ACTION_TYPES = [
    ["reschedule_po_line", "Reschedule a PO line"],
    ["reschedule_receipt", "Reschedule a receipt"],
    ["accept_price_change", "Accept a supplier price change"],
    ["substitute_product", "Substitute a product on a PO line"],
    ["reduce_po_line_qty", "Reduce a PO line's quantity (the rest cancelled)"],
    ["expedite", "Expedite (message to the vendor)"],
    ["change_so_commitment", "Change a sale order's delivery date"],
    ["create_return", "Create a return"],
    ["issue_credit_note", "Issue a credit note"],
    ["set_ticket_labels", "Set ticket category, team or priority"],
    ["send_customer_reply", "Send a customer reply"],
]
#: What will run: set at creation, never written afterwards (the addon raises the same error).
BOUND_FIELDS = frozenset({"action_type", "res_model", "res_id", "payload", "payload_hash"})
#: What a person decides on: frozen from the first decision (the addon's list, kept equal by a test).
FROZEN_FIELDS = frozenset(
    {
        *BOUND_FIELDS,
        "name",
        "res_name",
        "target_snapshot",
        "diff",
        "amount",
        "currency_id",
        "risk_tier",
        "policy_mode",
        "idempotency_key",
        "company_id",
        "evidence",
        "source",
        "on_behalf_of",
        "on_behalf_of_user_id",
    }
)
#: Fields only the buttons set (the addon's list, kept equal by a test).
WORKFLOW_FIELDS = frozenset(
    {
        "state",
        "decision_ids",
        "approvals_required",
        "requested_by_id",
        "approved_date",
        "executed_date",
        "executed_by_id",
        "execution_outcome",
    }
)
#: Tiers that need two distinct approvers.
DUAL_TIERS = ("high", "critical")
#: The addon's default ``copilot_approval.exposure_tiers``: minimum exposure per tier, whoever proposes.
EXPOSURE_TIERS = (("high", 10_000.0), ("critical", 50_000.0))
#: Action types an Odoo administrator allowed to be approved by policy (addon setting; low tier only).
PRE_APPROVABLE = frozenset({"set_ticket_labels"})


def _field(name: str, string: str, ftype: str, **extra: Any) -> dict[str, Any]:
    store = extra.pop("store", True)
    out: dict[str, Any] = {
        "change_default": False,
        "company_dependent": False,
        "default_export_compatible": False,
        "depends": [],
        "exportable": True,
        "groupable": store and ftype not in ("one2many", "json", "text", "html"),
        "manual": False,
        "name": name,
        "readonly": bool(extra.pop("readonly", False)),
        "required": bool(extra.pop("required", False)),
        "searchable": store,
        "sortable": store and ftype not in ("one2many", "many2many", "json"),
        "store": store,
        "string": string,
        "type": ftype,
    }
    if ftype in ("many2one", "one2many", "many2many"):
        out.update(context={}, domain=[], allow_hierachy_operators=False)
    out.update(extra)
    return dict(sorted(out.items()))


def _audit(model: str) -> dict[str, dict[str, Any]]:
    return {
        "id": _field("id", "ID", "integer", readonly=True),
        "create_date": _field("create_date", "Created on", "datetime", readonly=True),
        "create_uid": _field("create_uid", "Created by", "many2one", relation="res.users", readonly=True),
        "write_date": _field("write_date", "Last Updated on", "datetime", readonly=True),
        "write_uid": _field("write_uid", "Last Updated by", "many2one", relation="res.users", readonly=True),
        "display_name": _field("display_name", "Display Name", "char", store=False, readonly=True),
    }


def approval_fields() -> dict[str, dict[str, dict[str, Any]]]:
    """``fields_get`` of the request and decision models, as the addon declares them."""
    request = {
        **_audit(APPROVAL_MODEL),
        "name": _field("name", "Summary", "char", required=True),
        "action_type": _field("action_type", "Action", "selection", required=True, selection=ACTION_TYPES),
        "res_model": _field("res_model", "Target Model", "char", required=True),
        "res_id": _field("res_id", "Target Record ID", "many2one_reference", required=True, model_field="res_model"),
        "res_name": _field("res_name", "Target", "char"),
        "payload": _field("payload", "Payload", "json"),
        "target_snapshot": _field("target_snapshot", "Target Snapshot", "json"),
        "diff": _field("diff", "Changes", "text"),
        "amount": _field("amount", "Amount", "monetary", currency_field="currency_id"),
        "currency_id": _field("currency_id", "Currency", "many2one", relation="res.currency"),
        "risk_tier": _field("risk_tier", "Risk Tier", "selection", required=True, selection=TIERS),
        "policy_mode": _field(
            "policy_mode",
            "Policy Mode",
            "selection",
            selection=[["approval", "Approval"], ["dual_control", "Dual Control"], ["pre_approved", "Pre-approved"]],
        ),
        "approvals_required": _field("approvals_required", "Approvals Required", "integer", readonly=True),
        "evidence": _field("evidence", "Evidence", "json"),
        "source": _field("source", "Source", "char"),
        "requested_by_id": _field("requested_by_id", "Requested by", "many2one", relation="res.users", readonly=True),
        "on_behalf_of": _field("on_behalf_of", "On Behalf Of", "char"),
        "on_behalf_of_user_id": _field(
            "on_behalf_of_user_id", "On Behalf Of (User)", "many2one", relation="res.users", readonly=True
        ),
        "payload_hash": _field("payload_hash", "Payload Hash", "char", readonly=True),
        "state": _field("state", "Status", "selection", required=True, readonly=True, selection=STATES),
        "decision_ids": _field(
            "decision_ids", "Decisions", "one2many", relation=DECISION_MODEL, relation_field="request_id", readonly=True
        ),
        "idempotency_key": _field("idempotency_key", "Idempotency Key", "char", required=True),
        "expires_at": _field("expires_at", "Expires", "datetime"),
        "approved_date": _field("approved_date", "Approved on", "datetime", readonly=True),
        "executed_date": _field("executed_date", "Executed on", "datetime", readonly=True),
        "executed_by_id": _field("executed_by_id", "Executed by", "many2one", relation="res.users", readonly=True),
        "execution_outcome": _field("execution_outcome", "Outcome", "text", readonly=True),
        "company_id": _field("company_id", "Company", "many2one", relation="res.company", required=True),
    }
    decision = {
        **_audit(DECISION_MODEL),
        "request_id": _field("request_id", "Request", "many2one", relation=APPROVAL_MODEL, required=True),
        "user_id": _field("user_id", "User", "many2one", relation="res.users", required=True),
        "decision": _field(
            "decision",
            "Decision",
            "selection",
            required=True,
            selection=[["approve", "Approved"], ["refuse", "Refused"], ["policy", "Approved by policy"]],
        ),
        "date": _field("date", "Date", "datetime", required=True),
        "comment": _field("comment", "Comment", "text"),
    }
    return {APPROVAL_MODEL: request, DECISION_MODEL: decision}


def is_approver(user: SandboxUser) -> bool:
    """Member of *Copilot approver* and not the *Copilot agent* (the addon's ``_user_may_approve``)."""
    groups = ROLE_GROUPS[user.role]
    return GROUP_APPROVER in groups and GROUP_AGENT not in groups


def is_executor(user: SandboxUser) -> bool:
    """Member of *Copilot executor* and not the *Copilot agent*."""
    groups = ROLE_GROUPS[user.role]
    return GROUP_EXECUTOR in groups and GROUP_AGENT not in groups


def _user_error(message: str) -> RpcError:
    return RpcError("odoo.exceptions.UserError", message)


def _access_error(message: str) -> RpcError:
    return RpcError("odoo.exceptions.AccessError", message)


def _required(tier: Any, mode: Any) -> int:
    return 2 if tier in DUAL_TIERS or mode == "dual_control" else 1


def workflow_env(env: Env) -> Env:
    """The environment the buttons write with (Odoo: superuser mode). Not a context key: any RPC
    client can send a context, nobody can set this."""
    inner = env.with_context()
    inner.workflow = True  # type: ignore[attr-defined]
    return inner


def in_workflow(env: Env) -> bool:
    """Whether ``env`` is a button's own write."""
    return bool(getattr(env, "workflow", False))


def _numbers_jsonb_rewrites(value: Any) -> bool:
    """True when ``value`` holds a number PostgreSQL's jsonb gives back changed (-0.0, 1e+16, NaN)."""
    if isinstance(value, float):
        return (value == 0.0 and str(value).startswith("-")) or "e+" in repr(value) or value != value
    if isinstance(value, dict):
        return any(_numbers_jsonb_rewrites(v) for v in value.values())
    if isinstance(value, list):
        return any(_numbers_jsonb_rewrites(v) for v in value)
    return False


def _check_stored_as_sent(payload: Any) -> None:
    """As the addon: refuse a payload whose numbers jsonb would rewrite (checked live: -0.0 -> 0.0, 1e+16 ->
    10000000000000000), since its stored hash could never match what the executor reads back."""
    if _numbers_jsonb_rewrites(payload):
        raise RpcError(
            "odoo.exceptions.ValidationError",
            "The payload would not be stored as sent (PostgreSQL rewrites numbers such as -0.0 or 1e+16), "
            "so what was approved could never be checked: send plain decimal numbers.",
        )


def prepare_approval_create(env: Env, given: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Checks of a new request (``given`` by the caller; ``values`` with defaults): the values to store."""
    if any(name in given for name in WORKFLOW_FIELDS):
        raise _user_error("A new approval request always starts as 'To Approve'; its status is set by its buttons.")
    key = values.get("idempotency_key")
    if key and any(r.get("idempotency_key") == key for r in env.store.iter_records(APPROVAL_MODEL)):
        raise RpcError(
            "odoo.exceptions.ValidationError",
            "The operation cannot be completed: An approval request with this idempotency key already exists.",
        )
    _check_binding(env, values)
    _check_stored_as_sent(values.get("payload"))
    values = {**values, **derive_from_target(env, values)}
    tier = values.get("risk_tier") or "low"
    digest = payload_hash(
        str(values.get("action_type")), str(values.get("res_model")), int(values.get("res_id") or 0),
        values.get("payload"),
    )  # fmt: skip
    if given.get("payload_hash") and given["payload_hash"] != digest:
        raise _user_error("The payload hash does not match the payload: the request was not created.")
    out = {
        **values,
        "state": "pending",
        "requested_by_id": env.user.uid,
        "approvals_required": _required(tier, values.get("policy_mode")),
        "decision_ids": [],
        "payload_hash": digest,
        "on_behalf_of_user_id": find_user(env, values.get("on_behalf_of")),
    }
    if values.get("policy_mode") == "pre_approved":
        if values.get("action_type") not in PRE_APPROVABLE or tier != "low":
            raise _user_error(
                f"Pre-approval is not allowed for {values.get('action_type')} at tier {tier}: "
                "an administrator allows it per action type, for the low tier only."
            )
        if GROUP_AGENT not in ROLE_GROUPS[env.user.role] or str(values.get("source") or "").startswith("api"):
            raise _user_error(
                "Pre-approval is only for the copilot's own proposals: a request from a person or an API "
                "client needs an approver."
            )
        out["state"] = "approved"
        out["approved_date"] = env.now.strftime(DATETIME_FMT)
    return out


def _tier_rank(tier: Any) -> int:
    """The tier's rank in the addon's selection (an unknown tier ranks as low)."""
    ranks = [key for key, _label in TIERS]
    return ranks.index(tier) if tier in ranks else 0


def derive_from_target(env: Env, values: dict[str, Any]) -> dict[str, Any]:
    """What Odoo states itself about a price change, whoever created the request: its title, diff,
    exposure (|new - current price| x open quantity) and at least the tier the exposure calls for."""
    document = values.get("payload")
    inner = document.get("payload") if isinstance(document, dict) else None
    if values.get("action_type") != "accept_price_change" or not isinstance(inner, dict):
        return {}
    line = env.store.get("purchase.order.line", values.get("res_id")) or {}
    try:
        new = float(inner.get("new_price"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RpcError("odoo.exceptions.ValidationError", "A price change needs a numeric new_price.") from None
    old = float(line.get("price_unit") or 0)
    open_qty = max(float(line.get("product_qty") or 0) - float(line.get("qty_received") or 0), 0.0)
    exposure = round(abs(new - old) * open_qty, 2)
    order = env.store.get("purchase.order", line.get("order_id")) or {}
    currency_id = line.get("currency_id") or order.get("currency_id")
    currency = env.display_name("res.currency", currency_id) if currency_id else ""
    product = (str(line.get("name") or "").strip().splitlines() or [""])[0][:80]
    tier = values.get("risk_tier") or "low"
    for level, minimum in EXPOSURE_TIERS:
        if exposure >= minimum and _tier_rank(level) > _tier_rank(tier):
            tier = level
    return {
        "name": f"Accept {order.get('name')} {product} at {new:,.2f} {currency or ''}".strip(),
        "diff": f"Unit price: {old:,.2f} -> {new:,.2f}",
        "amount": exposure,
        "currency_id": currency_id or values.get("currency_id"),
        "risk_tier": tier,
    }


def find_user(env: Env, login_or_email: Any) -> int | bool:
    """The user whose login or e-mail is exactly ``login_or_email`` (case-insensitive; no wildcards), or False."""
    wanted = str(login_or_email or "").strip().casefold()
    if not wanted:
        return False
    for user in sorted(env.store.iter_records("res.users"), key=lambda u: u["id"]):
        partner = env.store.get("res.partner", user.get("partner_id")) or {}
        email = user.get("email") or partner.get("email")  # res.users.email is its partner's
        if wanted in (str(user.get("login") or "").strip().casefold(), str(email or "").strip().casefold()):
            return int(user["id"])
    return False


def _check_binding(env: Env, values: dict[str, Any]) -> None:
    """A copilot payload changes the request's own target, and every record in it belongs to that target."""
    action, model, rid = str(values.get("action_type")), str(values.get("res_model")), values.get("res_id")
    document = values.get("payload")
    problem = binding_problem(action, model, int(rid or 0), document)
    copilot_payload = isinstance(document, dict) and isinstance(document.get("payload"), dict)
    if problem is None and copilot_payload and model == "purchase.order.line":
        po_id = document["payload"].get("po_id")  # type: ignore[index]
        if (env.store.get(model, rid) or {}).get("order_id") != po_id:
            problem = f"PO line {rid} does not belong to purchase order {po_id}"
    if problem:
        raise RpcError(
            "odoo.exceptions.ValidationError", f"Every record in a payload must belong to its target: {problem}."
        )


def after_approval_create(env: Env, rid: int, values: dict[str, Any], create: Callable[..., int]) -> None:
    """Record the policy's decision on a pre-approved request (audited like a person's)."""
    if values.get("state") == "approved":
        create(env, DECISION_MODEL, _decision(env, rid, "policy", "approved by policy (pre_approved, low tier)"))


def check_approval_write(env: Env, ids: list[int], values: dict[str, Any]) -> None:
    """Plain writes never change the status; what will run never changes, what people decide on not
    after the first decision (whoever writes: the buttons never write these fields). A new
    ``on_behalf_of`` also sets ``on_behalf_of_user_id`` in ``values`` (as the addon's ``write``)."""
    touched = sorted(set(values) & WORKFLOW_FIELDS)
    if touched and not in_workflow(env):
        raise _user_error(f"Use the request's buttons to change {', '.join(touched)}.")
    bound = sorted(set(values) & BOUND_FIELDS)
    frozen = sorted(set(values) & FROZEN_FIELDS)
    for rid in ids:
        rec = env.store.get(APPROVAL_MODEL, rid) or {}
        if bound:
            raise _user_error(
                f"Request {rec.get('name')!r}: its payload is frozen from its creation ({', '.join(bound)})."
            )
        if frozen and (rec.get("state") != "pending" or rec.get("decision_ids")):
            raise _user_error(
                f"Request {rec.get('name')!r} has a decision ({rec.get('state')}): what was proposed is frozen "
                f"({', '.join(frozen)})."
            )
    if "on_behalf_of" in values:
        values["on_behalf_of_user_id"] = find_user(env, values["on_behalf_of"])


def check_approval_unlink(env: Env, ids: list[int]) -> None:
    """Decided requests are an audit trail: only undecided ones can be deleted (as the addon's ``ondelete``)."""
    for rid in ids:
        rec = env.store.get(APPROVAL_MODEL, rid) or {}
        if rec.get("state") != "pending" or rec.get("decision_ids"):
            raise _user_error("Decided approval requests are an audit trail: they cannot be deleted.")


def _decision(env: Env, rid: int, decision: str, comment: Any) -> dict[str, Any]:
    return {
        "request_id": rid,
        "user_id": env.user.uid,
        "decision": decision,
        "date": env.now.strftime(DATETIME_FMT),
        "comment": str(comment) if comment else False,
    }


def _one(env: Env, ids: Any) -> tuple[int, dict[str, Any]]:
    record_ids = [i for i in (ids if isinstance(ids, list) else [ids]) if isinstance(i, int)]
    if len(record_ids) != 1:
        raise RpcError("builtins.ValueError", f"Expected singleton: {APPROVAL_MODEL}{tuple(record_ids)!r}")
    rec = env.store.get(APPROVAL_MODEL, record_ids[0])
    if rec is None:
        raise RpcError(
            "odoo.exceptions.MissingError",
            "Record does not exist or has been deleted.\n"
            f"(Record: {APPROVAL_MODEL}({record_ids[0]},), User: {env.user.uid})",
        )
    return record_ids[0], rec


def _expired(env: Env, rec: dict[str, Any]) -> bool:
    expires = rec.get("expires_at")
    return bool(expires) and datetime.strptime(str(expires), DATETIME_FMT) <= env.now


class Workflow:
    """The request's buttons; ``write`` and ``create`` are the sandbox's own (passed in to avoid a cycle)."""

    def __init__(self, write: Callable[..., Any], create: Callable[..., int]) -> None:
        self._write = write
        self._create = create

    def _set(self, env: Env, rid: int, values: dict[str, Any]) -> None:
        self._write(workflow_env(env), APPROVAL_MODEL, [rid], values)

    def _decide(self, env: Env, rid: int, decision: str, comment: Any) -> None:
        self._create(workflow_env(env), DECISION_MODEL, _decision(env, rid, decision, comment))

    def action_approve(self, env: Env, model: str, ids: Any, comment: Any = None) -> bool:
        """Approve: an approver other than the requester, once each, before expiry."""
        check_model_access(env.user, APPROVAL_MODEL, "read")
        rid, rec = _one(env, ids)
        if not is_approver(env.user):
            raise _access_error("Only members of 'Copilot approver' can approve copilot requests.")
        if rec.get("state") != "pending":
            raise _user_error(f"Only a request to approve can be approved; this one is {rec.get('state')}.")
        if _expired(env, rec):  # no state change here: Odoo rolls back writes made before an error
            raise _user_error("This request has expired and can no longer be approved; ask for a new proposal.")
        requesters = (rec.get("requested_by_id"), rec.get("create_uid"), rec.get("on_behalf_of_user_id"))
        if env.user.uid in requesters:
            raise _user_error("You requested this action: someone else must approve it.")
        decisions = [env.store.get(DECISION_MODEL, d) or {} for d in rec.get("decision_ids") or []]
        approvers = {d.get("user_id") for d in decisions if d.get("decision") == "approve"}
        if env.user.uid in approvers:
            raise _user_error("You already approved this request; a second, different approver is needed.")
        self._decide(env, rid, "approve", comment)
        if len(approvers) + 1 >= int(rec.get("approvals_required") or 1):
            self._set(env, rid, {"state": "approved", "approved_date": env.now.strftime(DATETIME_FMT)})
        return True

    def action_refuse(self, env: Env, model: str, ids: Any, comment: Any = None) -> bool:
        """Refuse: any approver, while pending."""
        check_model_access(env.user, APPROVAL_MODEL, "read")
        rid, rec = _one(env, ids)
        if not is_approver(env.user):
            raise _access_error("Only members of 'Copilot approver' can refuse copilot requests.")
        if rec.get("state") != "pending":
            raise _user_error(f"Only a request to approve can be refused; this one is {rec.get('state')}.")
        self._decide(env, rid, "refuse", comment)
        self._set(env, rid, {"state": "refused"})
        return True

    def _executor_step(self, env: Env, ids: Any, allowed_from: tuple[str, ...], verb: str) -> tuple[int, dict]:
        check_model_access(env.user, APPROVAL_MODEL, "read")
        rid, rec = _one(env, ids)
        if not is_executor(env.user):
            raise _access_error(f"Only members of 'Copilot executor' can {verb} copilot requests.")
        if rec.get("state") not in allowed_from:
            raise _user_error(
                f"Cannot {verb} a request that is {rec.get('state')} (expected {' or '.join(allowed_from)})."
            )
        return rid, rec

    def action_start_execution(self, env: Env, model: str, ids: Any) -> bool:
        """Claim an approved request for execution (approved -> executing): only one executor wins."""
        rid, _ = self._executor_step(env, ids, ("approved",), "execute")
        self._set(env, rid, {"state": "executing", "executed_by_id": env.user.uid})
        return True

    def action_mark_executed(self, env: Env, model: str, ids: Any, outcome: Any = "") -> bool:
        """Record success (executing -> executed) and tell the requester in the chatter."""
        rid, _ = self._executor_step(env, ids, ("executing",), "finish")
        self._set(
            env,
            rid,
            {
                "state": "executed",
                "executed_date": env.now.strftime(DATETIME_FMT),
                "execution_outcome": str(outcome or "done"),
            },
        )
        return True

    def action_mark_failed(self, env: Env, model: str, ids: Any, reason: Any = "") -> bool:
        """Record failure (approved or executing -> failed), with the reason."""
        rid, _ = self._executor_step(env, ids, ("approved", "executing"), "fail")
        self._set(
            env,
            rid,
            {
                "state": "failed",
                "executed_date": env.now.strftime(DATETIME_FMT),
                "executed_by_id": env.user.uid,
                "execution_outcome": str(reason or "failed"),
            },
        )
        return True

    def action_expire(self, env: Env, model: str, ids: Any) -> bool:
        """Close a pending request past its expiry (what the addon's cron does)."""
        check_model_access(env.user, APPROVAL_MODEL, "read")
        rid, rec = _one(env, ids)
        if not (is_executor(env.user) or is_approver(env.user)):
            raise _access_error("Only approvers and executors can expire copilot requests.")
        if rec.get("state") != "pending" or not _expired(env, rec):
            raise _user_error("Only a pending request past its expiry can be expired.")
        self._set(env, rid, {"state": "expired"})
        return True


#: Method names the sandbox dispatches to ``Workflow``.
APPROVAL_METHODS = (
    "action_approve",
    "action_refuse",
    "action_start_execution",
    "action_mark_executed",
    "action_mark_failed",
    "action_expire",
)


def add_executor_user(records: dict[str, dict[int, dict[str, Any]]], copilot_uid: int = 8, uid: int = 10) -> None:
    """Add the executor's user and partner (``uid``), modelled on the copilot's own (not in the recording)."""
    users, partners = records.get("res.users", {}), records.get("res.partner", {})
    template = users.get(copilot_uid)
    if template is None or uid in users:
        return
    partner_id = max(partners, default=0) + 1
    partner = dict(partners.get(template.get("partner_id"), {}))
    partners[partner_id] = {**partner, "id": partner_id, "name": "Copilot Executor", "email": "executor@example.com"}
    users[uid] = {**template, "id": uid, "login": "executor", "name": "Copilot Executor", "partner_id": partner_id}
