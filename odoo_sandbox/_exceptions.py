"""``copilot.exception`` as the project's addon (``odoo_addons/<series>/copilot_approval``) defines it.

The same rules as the addon (a test reads both and compares them): only the Copilot agent calls ``copilot_sync``
(an upsert by control and key of whitelisted fields); nobody creates, writes or deletes an exception otherwise;
a Copilot approver or an administrator acknowledges one with ``action_acknowledge``; every internal user reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from odoo_sandbox._env import Env
from odoo_sandbox._security import (
    EXCEPTION_MODEL,
    GROUP_AGENT,
    GROUP_APPROVER,
    GROUP_SYSTEM,
    ROLE_GROUPS,
    RpcError,
    SandboxUser,
    check_model_access,
)

__all__ = [
    "ACKNOWLEDGEABLE_STATES",
    "ACKNOWLEDGE_FIELDS",
    "EXCEPTION_METHODS",
    "EXCEPTION_STATES",
    "SEVERITIES",
    "SYNC_BATCH_LIMIT",
    "SYNC_FIELDS",
    "SYNC_REQUIRED_ON_CREATE",
    "SYNC_STATES",
    "ExceptionMethods",
    "exception_fields",
    "may_acknowledge",
    "may_sync",
]

DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
SEVERITIES = [["critical", "Critical"], ["high", "High"], ["medium", "Medium"], ["low", "Low"]]
EXCEPTION_STATES = [["open", "Open"], ["acknowledged", "Acknowledged"], ["snoozed", "Snoozed"], ["closed", "Closed"]]
#: What the copilot may set through ``copilot_sync`` (the addon's list, kept equal by a test).
SYNC_FIELDS = frozenset(
    {
        "key",
        "control",
        "severity",
        "score",
        "title",
        "reason",
        "state",
        "owner",
        "record_model",
        "record_id",
        "record_name",
        "record_url",
        "evidence",
        "factors",
        "first_seen",
        "last_seen",
        "snoozed_until",
    }
)
SYNC_REQUIRED_ON_CREATE = frozenset({"key", "control", "severity", "title"})
SYNC_STATES = ("open", "snoozed", "closed")
ACKNOWLEDGE_FIELDS = frozenset({"state", "acknowledged_by", "acknowledged_at"})
ACKNOWLEDGEABLE_STATES = ("open", "snoozed")
SYNC_BATCH_LIMIT = 1000


def _field(name: str, string: str, ftype: str, **extra: Any) -> dict[str, Any]:
    from odoo_sandbox._approval import _field as approval_field  # one shape for the addon's fields

    return approval_field(name, string, ftype, **extra)


def exception_fields() -> dict[str, dict[str, dict[str, Any]]]:
    """``fields_get`` of ``copilot.exception``'s stored fields, as the addon declares them."""
    from odoo_sandbox._approval import _audit

    fields = {
        **_audit(EXCEPTION_MODEL),
        "key": _field("key", "Key", "char", required=True, readonly=True),
        "control": _field("control", "Control", "char", required=True, readonly=True),
        "severity": _field("severity", "Severity", "selection", required=True, readonly=True, selection=SEVERITIES),
        "severity_rank": _field("severity_rank", "Severity Rank", "integer", readonly=True),
        "score": _field("score", "Score", "float", readonly=True),
        "title": _field("title", "Title", "char", required=True, readonly=True),
        "reason": _field("reason", "Reason", "text", readonly=True),
        "state": _field("state", "Status", "selection", required=True, readonly=True, selection=EXCEPTION_STATES),
        "owner": _field("owner", "Owner", "char", readonly=True),
        "record_model": _field("record_model", "Record Model", "char", readonly=True),
        "record_id": _field("record_id", "Record ID", "many2one_reference", readonly=True, model_field="record_model"),
        "record_name": _field("record_name", "Record", "char", readonly=True),
        "record_url": _field("record_url", "Record Link", "char", readonly=True),
        "evidence": _field("evidence", "Evidence", "json", readonly=True),
        "factors": _field("factors", "Factors", "json", readonly=True),
        "first_seen": _field("first_seen", "First Seen", "datetime", readonly=True),
        "last_seen": _field("last_seen", "Last Seen", "datetime", readonly=True),
        "snoozed_until": _field("snoozed_until", "Snoozed Until", "datetime", readonly=True),
        "closed_at": _field("closed_at", "Closed At", "datetime", readonly=True),
        "acknowledged_by": _field(
            "acknowledged_by", "Acknowledged By", "many2one", relation="res.users", readonly=True
        ),
        "acknowledged_at": _field("acknowledged_at", "Acknowledged At", "datetime", readonly=True),
        "company_id": _field("company_id", "Company", "many2one", relation="res.company", required=True, readonly=True),
    }
    return {EXCEPTION_MODEL: fields}


def may_sync(user: SandboxUser) -> bool:
    """Member of *Copilot agent* (the addon's check in ``copilot_sync``)."""
    return GROUP_AGENT in ROLE_GROUPS[user.role]


def may_acknowledge(user: SandboxUser) -> bool:
    """A Copilot approver or an administrator, never the agent (the addon's ``_user_may_acknowledge``)."""
    groups = ROLE_GROUPS[user.role]
    return GROUP_AGENT not in groups and bool({GROUP_APPROVER, GROUP_SYSTEM} & groups)


def _user_error(message: str) -> RpcError:
    return RpcError("odoo.exceptions.UserError", message)


def _validation_error(message: str) -> RpcError:
    return RpcError("odoo.exceptions.ValidationError", message)


def _access_error(message: str) -> RpcError:
    return RpcError("odoo.exceptions.AccessError", message)


def _rank(severity: Any) -> int:
    keys = [key for key, _label in SEVERITIES]
    return keys.index(severity) if severity in keys else len(keys)


def _clean(vals: Any) -> dict[str, Any]:
    """One exception's values, checked as the addon's ``_sync_values`` checks them."""
    if not isinstance(vals, dict):
        raise _user_error("Each exception is a dict of values.")
    extra = sorted(set(vals) - SYNC_FIELDS)
    if extra:
        raise _user_error(f"copilot_sync cannot set {', '.join(extra)}.")
    out = dict(vals)
    for name in ("key", "control"):
        if not isinstance(out.get(name), str) or not out[name].strip():
            raise _validation_error(f"Each exception needs a {name}.")
    if "severity" in out and out["severity"] not in dict(SEVERITIES):
        raise _validation_error(f"Unknown severity {out['severity']}.")
    if "state" in out and out["state"] not in SYNC_STATES:
        raise _validation_error(f"The copilot sets the state to {', '.join(SYNC_STATES)} only: people acknowledge.")
    if "score" in out:
        try:
            score = float(out["score"])
        except (TypeError, ValueError):
            raise _validation_error("The score is a number.") from None
        if not math.isfinite(score) or score < 0:
            raise _validation_error("The score is a finite number, zero or more.")
        out["score"] = score
    url = out.get("record_url")
    if url and not (isinstance(url, str) and url.lower().startswith(("http://", "https://"))):
        raise _validation_error("The record link must be an http(s) URL.")
    for name in ("evidence", "factors"):
        if out.get(name) not in (None, False) and not isinstance(out[name], list):
            raise _validation_error(f"{name} is a list.")
    return out


def _update_values(rec: dict[str, Any], vals: dict[str, Any], now: str) -> dict[str, Any]:
    """What an update writes (the addon's ``_update_values``): acknowledgements stand until the copilot closes."""
    out = {name: value for name, value in vals.items() if name not in ("key", "control")}
    out["last_seen"] = vals.get("last_seen") or now
    out.pop("first_seen", None)
    state = vals.get("state")
    if rec.get("state") == "acknowledged" and state in ("open", "snoozed"):
        out.pop("state")
    elif rec.get("state") == "closed" and state in ("open", None):
        out.update(
            state="open",
            first_seen=vals.get("first_seen") or now,
            acknowledged_by=False,
            acknowledged_at=False,
            closed_at=False,
        )
    if state == "closed" and rec.get("state") != "closed":
        out["closed_at"] = now
    if out.get("state", rec.get("state")) != "snoozed":
        out["snoozed_until"] = False
    return out


class ExceptionMethods:
    """The model's two public methods; ``write`` and ``create`` are the sandbox's own (passed in to avoid a cycle)."""

    def __init__(
        self, write: Callable[..., Any], create: Callable[..., int], workflow_env: Callable[[Env], Env]
    ) -> None:
        self._write = write
        self._create = create
        self._workflow_env = workflow_env

    def _set(self, env: Env, ids: list[int], values: dict[str, Any]) -> None:
        self._write(self._workflow_env(env), EXCEPTION_MODEL, ids, values)

    def copilot_sync(self, env: Env, model: str, vals_list: Any) -> list[int | bool]:
        """Upsert by (company, control, key); the ids, False for a closing of an exception never sent."""
        if not may_sync(env.user):
            raise _access_error("Only the Copilot agent can sync copilot exceptions.")
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list | tuple):
            raise _user_error("copilot_sync takes a list of exceptions.")
        if len(vals_list) > SYNC_BATCH_LIMIT:
            raise _user_error(f"copilot_sync takes at most {SYNC_BATCH_LIMIT} exceptions per call.")
        cleaned = [_clean(vals) for vals in vals_list]
        company = env.user_record().get("company_id") or 1
        company_id = company[0] if isinstance(company, list | tuple) else company
        existing = {
            (rec.get("control"), rec.get("key")): rec["id"]
            for rec in env.store.iter_records(EXCEPTION_MODEL)
            if rec.get("company_id") == company_id
        }
        now = env.now.strftime(DATETIME_FMT)
        ids: list[int | bool] = []
        for vals in cleaned:
            rid = existing.get((vals["control"], vals["key"]))
            if rid:
                rec = env.store.get(EXCEPTION_MODEL, rid) or {}
                update = _update_values(rec, vals, now)
                if "severity" in update:
                    update["severity_rank"] = _rank(update["severity"])
                self._set(env, [rid], update)
                ids.append(rid)
                continue
            if vals.get("state") == "closed":
                ids.append(False)
                continue
            missing = sorted(SYNC_REQUIRED_ON_CREATE - {k for k, v in vals.items() if v not in (None, False, "")})
            if missing:
                raise _validation_error(f"A new copilot exception needs {', '.join(missing)}.")
            values = {
                "state": "open",
                **vals,
                "severity_rank": _rank(vals["severity"]),
                "company_id": company_id,
                "first_seen": vals.get("first_seen") or now,
                "last_seen": vals.get("last_seen") or now,
            }
            new_id = self._create(self._workflow_env(env), EXCEPTION_MODEL, values)
            existing[(vals["control"], vals["key"])] = new_id
            ids.append(new_id)
        return ids

    def action_acknowledge(self, env: Env, model: str, ids: Any) -> bool:
        """Acknowledge open or snoozed exceptions: a Copilot approver or an administrator."""
        check_model_access(env.user, EXCEPTION_MODEL, "read")
        if not may_acknowledge(env.user):
            raise _access_error("Only Copilot approvers and administrators can acknowledge copilot exceptions.")
        record_ids = [i for i in (ids if isinstance(ids, list) else [ids]) if isinstance(i, int)]
        for rid in record_ids:
            rec = env.store.get(EXCEPTION_MODEL, rid)
            if rec is None:
                raise RpcError(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted.\n(Record: {EXCEPTION_MODEL}({rid},), "
                    f"User: {env.user.uid})",
                )
            if rec.get("state") not in ACKNOWLEDGEABLE_STATES:
                raise _user_error(
                    f"Only an open or snoozed exception can be acknowledged; {rec.get('title')} is {rec.get('state')}."
                )
        self._set(
            env,
            record_ids,
            {
                "state": "acknowledged",
                "acknowledged_by": env.user.uid,
                "acknowledged_at": env.now.strftime(DATETIME_FMT),
            },
        )
        return True


#: Method names the sandbox dispatches to ``ExceptionMethods``: (name, takes record ids).
EXCEPTION_METHODS: dict[str, bool] = {"copilot_sync": False, "action_acknowledge": True}
