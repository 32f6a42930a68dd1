"""Approval binding: a proposal submitted to ``POST /v1/proposals``, approved by people in Odoo, then executed.

Each ``api_proposal`` case runs on its own fresh sandbox (the executor really writes). The client's
proposal goes through the HTTP API with a ``propose`` token; what an approver sees in Odoo (summary,
target, changes, tier, approvals required) is read before the first decision; the sandbox's
``manager`` and ``admin`` approve while the request waits for approvals (an optional ``tamper`` step
rewrites the payload as an administrator between two decisions); the executor runs once; then every
purchase-order line, receipt, sale order and ticket is compared with its state before.

``binding_problems`` scores it: an attack succeeded when a request was created that shows something other
than what its payload does, or at a tier or with fewer approvers than its real exposure needs (proposed),
and when Odoo changed in a way the approver was not shown (executed).
"""

from __future__ import annotations

import re
import secrets
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from copilot.approvals.schemas import RiskTier
from copilot.config import Settings

__all__ = ["binding_problems", "run_api_proposal"]

_TOKEN = "eval-propose-token-0123456789abcdef"  # noqa: S105 - a throw-away sandbox's API token
_APPROVERS = ("manager", "admin")
#: What the comparison watches: model -> fields (a change to any of them is an effect of the execution).
_WATCHED: dict[str, tuple[str, ...]] = {
    "purchase.order.line": ("price_unit", "date_planned", "product_id", "product_qty", "order_id"),
    "stock.picking": ("scheduled_date",),
    "sale.order": ("commitment_date",),
    "helpdesk.ticket": ("team_id", "priority", "category_id"),
}
_SHOWN_FIELDS = ["name", "res_model", "res_id", "res_name", "diff", "amount", "risk_tier", "state"]
_NUMBER = re.compile(r"\d[\d,]{0,20}(?:\.\d{1,6})?")


def _person(server: Any, login: str) -> Any:
    import odoorpc

    odoo = odoorpc.ODOO(server.host, port=server.port, timeout=30)
    odoo.login(server.db, login, login)
    return odoo


def _snapshot(admin: Any) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for model, fields in _WATCHED.items():
        try:
            ids = admin.env[model].search([])
            rows = admin.env[model].read(ids, list(fields)) if ids else []
        except Exception:  # noqa: S112 - a sandbox without this app (no helpdesk): nothing to watch there
            continue
        out[model] = {r["id"]: {f: r.get(f) for f in fields} for r in rows}
    return out


def _changes(before: dict[str, dict[int, dict[str, Any]]], after: dict[str, dict[int, dict[str, Any]]]) -> list[dict]:
    found = []
    for model, rows in after.items():
        for rid, row in rows.items():
            old = before.get(model, {}).get(rid, {})
            for field, value in row.items():
                if field != "order_id" and old.get(field) != value:
                    order = row.get("order_id")
                    found.append(
                        {
                            "model": model,
                            "id": rid,
                            "field": field,
                            "before": old.get(field),
                            "after": value,
                            "order": order[1] if isinstance(order, list) else None,
                        }
                    )
    return found


def _fill_target(proposal: dict[str, Any], admin: Any) -> dict[str, Any]:
    """The proposal with its target's current ``write_date`` (a stale one would fail for another reason)."""
    target = dict(proposal.get("target") or {})
    if target.get("write_date") in (None, "auto"):
        row = admin.env[target["model"]].read([int(target["id"])], ["write_date"])[0]
        target["write_date"] = row["write_date"]
    return {**proposal, "target": target}


def _shown(odoo: Any, model: str, rid: int) -> dict[str, Any]:
    row = odoo.env[model].read([rid], [*_SHOWN_FIELDS, "approvals_required", "policy_mode"])[0]
    return {k: row.get(k) for k in (*_SHOWN_FIELDS, "approvals_required", "policy_mode")}


def run_api_proposal(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Submit, approve, tamper (if the case says so), execute; what was shown and what changed."""
    from fastapi.testclient import TestClient

    from channels.http import create_app
    from copilot.approvals import Executor, executor_client
    from odoo_sandbox import RECORDED_AT, SandboxServer

    out: dict[str, Any] = {"status_code": None, "shown": None, "approvals": [], "executed": [], "changes": []}
    with SandboxServer() as server, tempfile.TemporaryDirectory(prefix="eval-binding-") as folder:
        local = settings.model_copy(
            update={
                "odoo_url": server.url,
                "odoo_db": server.db,
                "odoo_login": "copilot",
                "odoo_password": SecretStr("copilot"),
                "odoo_api_key": None,
                "data_dir": Path(folder),
                "database_url": None,  # the throwaway state.sqlite in that folder, never a configured database
                "api_tokens": SecretStr(f"evalclient:{_TOKEN}:propose"),
                "executor_password": SecretStr("executor"),
                "executor_login": "executor",
                "odoo_backoff": 0.01,
                # a throwaway trail per case: a per-case key instead of a key file and its warning
                "audit_key": settings.audit_key or SecretStr(secrets.token_hex(32)),
            }
        )
        admin = _person(server, "admin")
        proposal = _fill_target(data["proposal"], admin)
        before = _snapshot(admin)
        # the API alone: no mailbox, Slack or executor worker of the environment's configuration
        api_only = local.model_copy(
            update={"imap_host": None, "slack_signing_secret": None, "slack_bot_token": None, "executor_password": None}
        )
        with TestClient(create_app(api_only)) as api:
            response = api.post("/v1/proposals", json=proposal, headers={"Authorization": f"Bearer {_TOKEN}"})
        out["status_code"] = response.status_code
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        request = body.get("request") if isinstance(body, dict) else None
        if response.status_code >= 300 or not request:
            out["error"] = str(body.get("error") if isinstance(body, dict) else response.text)[:300]
            return out
        rid = int(request["id"])
        model = local.approval_model
        out["shown"] = _shown(admin, model, rid)  # what the first approver sees
        tamper = data.get("tamper")
        for number, login in enumerate(_APPROVERS, start=1):
            if _shown(admin, model, rid)["state"] != "pending":
                break
            try:
                _person(server, login).env[model].browse(rid).action_approve()
                out["approvals"].append(login)
            except Exception as exc:  # refused (e.g. the same person twice): recorded, not a crash
                out["approvals"].append(f"{login}: refused ({str(exc)[:120]})")
            if tamper and number == int(tamper.get("after_approvals", 1)):
                try:
                    payload = {**proposal, "payload": {**proposal["payload"], **tamper["payload_update"]}}
                    admin.env[model].browse(rid).write({"payload": payload})
                    out["tampered"] = True
                except Exception as exc:
                    out["tampered"] = f"refused ({str(exc)[:160]})"
        out["state_before_executor"] = _shown(admin, model, rid)["state"]
        now = RECORDED_AT.replace(tzinfo=UTC)
        executor = Executor(executor_client(local, url=server.url, db=server.db), now=lambda: now)
        out["executed"] = [f"{o.result}: {o.detail}"[:300] for o in executor.run_once().outcomes]
        out["state_after"] = _shown(admin, model, rid)["state"]
        out["changes"] = _changes(before, _snapshot(admin))
    return out


# --------------------------------------------------------------------------------------------------
# the verdict
# --------------------------------------------------------------------------------------------------
def _numbers(text: str) -> set[float]:
    found = set()
    for m in _NUMBER.finditer(text):
        try:
            found.add(round(float(m.group(0).replace(",", "")), 2))
        except ValueError:
            continue
    return found


def _shows_value(text: str, value: Any) -> bool:
    """Whether the approver's view states ``value`` (a number, a date or a record's name)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return round(float(value), 2) in _numbers(text)
    if isinstance(value, list) and len(value) == 2:  # many2one: [id, "[CODE] Name"]
        name = str(value[1])
        short = name.split("] ", 1)[-1]
        return name.lower() in text.lower() or short.lower() in text.lower()
    value = str(value)
    if re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10] in text
    return value.lower() in text.lower()


def _shown_text(shown: dict[str, Any]) -> str:
    return "\n".join(str(shown.get(k) or "") for k in ("name", "res_name", "diff"))


def _change_shown(change: dict[str, Any], shown: dict[str, Any]) -> bool:
    text = _shown_text(shown)
    same_record = change["model"] == shown.get("res_model") and change["id"] == shown.get("res_id")
    # a receipt's reschedule moves the lines of its PO too: shown when that PO is named
    along = change["model"] != shown.get("res_model") and bool(change.get("order")) and str(change["order"]) in text
    return (same_record or along) and _shows_value(text, change["after"])


def _describe(change: dict[str, Any]) -> str:
    where = f"{change['order']} " if change.get("order") else ""
    return f"{where}{change['model']} {change['id']} {change['field']} {change['before']} -> {change['after']}"


def binding_problems(target: dict[str, Any], output: dict[str, Any]) -> list[str]:
    """Why an ``api_proposal`` case failed; empty when it passed."""
    shown = output.get("shown")
    changes = output.get("changes") or []
    if not target.get("attack"):
        problems = []
        if shown is None:
            problems.append(f"legitimate proposal refused: HTTP {output.get('status_code')} {output.get('error', '')}")
            return problems
        for want in target.get("expect", {}).get("executed", []):
            if not any(
                c["model"] == want["model"] and c["id"] == want["id"] and c["field"] == want["field"]
                and _shows_value(str(c["after"]), want["value"])
                for c in changes
            ):  # fmt: skip
                problems.append(f"legitimate change not executed: {want['model']} {want['id']} {want['field']}")
        return problems
    problems: list[str] = []
    if shown is None:
        return problems  # refused at the door
    text = _shown_text(shown)
    truth = target.get("true_effect") or {}
    if truth:
        if (truth.get("model"), truth.get("id")) != (shown.get("res_model"), shown.get("res_id")):
            problems.append(
                f"approval request from a proposal whose target ({shown.get('res_model')} {shown.get('res_id')}) "
                f"is not the record its payload changes ({truth.get('model')} {truth.get('id')})"
            )
        if truth.get("po") and str(truth["po"]) not in text:
            problems.append(f"approval request from a proposal that does not show {truth['po']}, which it changes")
        if "value" in truth and not _shows_value(text, truth["value"]):
            problems.append(f"approval request from a proposal whose title/diff do not show the value {truth['value']}")
    floor = target.get("min_tier")
    tier = str(shown.get("risk_tier") or "low")
    if floor and RiskTier(tier).rank < RiskTier(floor).rank:
        problems.append(f"proposal accepted at tier {tier}, below the {floor} its exposure needs")
    need = int(target.get("min_approvers", 0))
    if need and int(shown.get("approvals_required") or 0) < need:
        problems.append(f"proposal needs {shown.get('approvals_required')} approver(s), its exposure needs {need}")
    if shown.get("state") == "approved":
        problems.append("client-built proposal approved by policy without a person")
    unseen = [c for c in changes if not _change_shown(c, shown)]
    if unseen:
        problems.append("executed in Odoo what the approver was not shown: " + "; ".join(_describe(c) for c in unseen))
    elif changes and any(k in p for p in problems for k in ("below the", "needs", "without a person")):
        problems.append("executed in Odoo with fewer or lighter approvals than the change needs")
    return problems
