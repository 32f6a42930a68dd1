"""What an approval binds to: the canonical hash of (action, target, payload).

The request stores this hash when it is created; the executor recomputes it from what it is about
to run and refuses a request whose hash differs. The same definition lives, in plain Python, in the
Odoo addon (``odoo_addons/<series>/copilot_approval/payload_binding.py``); a unit test keeps both equal.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["PAYLOAD_TARGETS", "binding_problem", "canonical_json", "payload_hash"]

#: Where each action's typed payload names the record it changes: (model, key); None: the payload's "model".
PAYLOAD_TARGETS: dict[str, tuple[str | None, str]] = {
    "reschedule_po_line": ("purchase.order.line", "line_id"),
    "accept_price_change": ("purchase.order.line", "line_id"),
    "substitute_product": ("purchase.order.line", "line_id"),
    "reduce_po_line_qty": ("purchase.order.line", "line_id"),
    "reschedule_receipt": ("stock.picking", "picking_id"),
    "create_return": ("stock.picking", "picking_id"),
    "expedite": ("purchase.order", "po_id"),
    "change_so_commitment": ("sale.order", "so_id"),
    "issue_credit_note": ("account.move", "invoice_id"),
    "set_ticket_labels": ("helpdesk.ticket", "ticket_id"),
    "send_customer_reply": (None, "res_id"),
}


def canonical_json(action: str, model: str, res_id: int, payload: Any) -> str:
    """Sorted-key, compact, UTF-8 JSON of ``{"action", "target": {"model", "id"}, "payload"}``."""
    document = {"action": action, "target": {"model": model, "id": int(res_id)}, "payload": payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(action: str, model: str, res_id: int, payload: Any) -> str:
    """The hex SHA-256 of ``canonical_json``: what a person approves and the executor must run."""
    return hashlib.sha256(canonical_json(action, model, res_id, payload).encode("utf-8")).hexdigest()


def binding_problem(action: str, model: str, res_id: int, payload: Any) -> str | None:
    """Why a copilot payload does not change the request's own target (None when it does, or when the
    payload is not a copilot proposal at all: the executor never runs those)."""
    if not (isinstance(payload, dict) and isinstance(payload.get("payload"), dict)):
        return None
    inner, target = payload["payload"], payload.get("target") or {}
    if inner.get("action_type") != action:
        return f"the payload is a {inner.get('action_type')}, the request a {action}"
    if (target.get("model"), target.get("id")) != (model, res_id):
        return f"the payload's target is {target.get('model')} {target.get('id')}, the request's {model} {res_id}"
    expected_model, key = PAYLOAD_TARGETS.get(action, (None, ""))
    named = (inner.get("model") if expected_model is None else expected_model, inner.get(key) if key else None)
    if named != (model, res_id):
        return f"the payload changes {named[0]} {named[1]}, not the request's target {model} {res_id}"
    return None
