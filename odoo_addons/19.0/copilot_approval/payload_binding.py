# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What an approval binds to: the canonical hash of (action, target, payload), and the target check.

Pure Python (no Odoo import) so that the copilot's own tests can check that the addon and the
copilot (``copilot/approvals/binding.py``) compute the same hash::

    sha256(json.dumps({"action": <action_type>, "target": {"model": <res_model>, "id": <res_id>},
                       "payload": <payload>}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")).hexdigest()
"""

import hashlib
import json

#: Where each action's typed payload names the record it changes: (model, key). None: the payload's "model".
PAYLOAD_TARGETS = {
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


def canonical_json(action, model, res_id, payload):
    """Sorted-key, compact, UTF-8 JSON of the action, its target and its payload."""
    document = {"action": action, "target": {"model": model, "id": int(res_id or 0)}, "payload": payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(action, model, res_id, payload):
    """The hex SHA-256 of ``canonical_json``."""
    return hashlib.sha256(canonical_json(action, model, res_id, payload).encode("utf-8")).hexdigest()


def binding_problem(action, model, res_id, payload):
    """Why a copilot payload does not change the request's own target (None when it does).

    A payload that is not a copilot proposal (no typed "payload" inside) is not checked here: the
    executor never runs it.
    """
    if not (isinstance(payload, dict) and isinstance(payload.get("payload"), dict)):
        return None
    inner, target = payload["payload"], payload.get("target") or {}
    if inner.get("action_type") != action:
        return f"the payload is a {inner.get('action_type')}, the request a {action}"
    if (target.get("model"), target.get("id")) != (model, res_id):
        return f"the payload's target is {target.get('model')} {target.get('id')}, the request's {model} {res_id}"
    expected_model, key = PAYLOAD_TARGETS.get(action, (None, None))
    named = (inner.get("model") if expected_model is None else expected_model, inner.get(key) if key else None)
    if named != (model, res_id):
        return f"the payload changes {named[0]} {named[1]}, not the request's target {model} {res_id}"
    return None
