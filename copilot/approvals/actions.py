"""Each action type: which record it targets, what must still hold before it runs, how it runs, and
how to tell afterwards whether it ran (for a restart that finds a request mid-execution).

Executors use Odoo's own APIs as a person would: ``write`` on the few fields an action changes,
Odoo's return and reversal wizards, ``message_post`` for messages. They run only in the executor
process, with the executor's credential, through ``executor_gate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.approvals.schemas import (
    AcceptPriceChange,
    ActionType,
    ChangeSaleCommitment,
    CreateReturn,
    Expedite,
    IssueCreditNote,
    Proposal,
    ReducePurchaseLineQuantity,
    RescheduleOrderLine,
    RescheduleReceipt,
    SendCustomerReply,
    SetTicketLabels,
    SubstituteProduct,
)
from copilot.errors import MethodNotAllowed
from copilot.odoo import READ_METHODS, OdooClient
from copilot.tools import _values as v

__all__ = ["ACTIONS", "EXECUTOR_METHODS", "ActionSpec", "check_preconditions", "executor_gate", "odoo_datetime"]

#: What each action may write: model -> fields. Anything else is refused before it is sent.
_WRITABLE: dict[str, frozenset[str]] = {
    "purchase.order.line": frozenset({"date_planned", "price_unit", "product_id", "product_qty"}),
    "stock.picking": frozenset({"scheduled_date"}),
    "sale.order": frozenset({"commitment_date"}),
    "helpdesk.ticket": frozenset({"category_id", "ticket_type_id", "team_id", "priority"}),
}
#: Other calls an executor makes: wizards, chatter messages, and the request's own transitions.
EXECUTOR_METHODS: frozenset[tuple[str, str]] = frozenset(
    {
        ("stock.return.picking", "create"),
        ("stock.return.picking", "action_create_returns"),
        ("account.move.reversal", "create"),
        ("account.move.reversal", "refund_moves"),
        *((m, "message_post") for m in ("purchase.order", "sale.order", "helpdesk.ticket", "account.move")),
        *((m, "message_post") for m in ("stock.picking",)),
    }
)


def executor_gate(approval_model: str) -> Callable[[str, str, tuple[Any, ...], dict[str, Any]], None]:
    """The executor's allow-list: reads, the writes actions make, and the request's state transitions."""
    transitions = {"action_start_execution", "action_mark_executed", "action_mark_failed", "action_expire"}

    def gate(model: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if method in READ_METHODS:
            return
        if model == approval_model and method in transitions:
            return
        if (model, method) in EXECUTOR_METHODS:
            return
        if method == "write" and model in _WRITABLE:
            values = args[1] if len(args) > 1 else kwargs.get("vals", {})
            extra = sorted(set(values) - _WRITABLE[model]) if isinstance(values, dict) else ["?"]
            if not extra:
                return
            raise MethodNotAllowed(f"the executor may not write {model} fields {extra}", model=model, method=method)
        raise MethodNotAllowed(f"the executor may not call {model}.{method}", model=model, method=method)

    return gate


def odoo_datetime(value: datetime) -> str:
    """A datetime as Odoo stores it (UTC, no zone)."""
    return v.odoo_datetime(value)


def _holds_instant(client: OdooClient, model: str, rid: int, field: str, expected: datetime) -> bool:
    """Whether ``model[rid].field`` is ``expected`` (to the second): how a date action shows it ran."""
    rows = client.read(model, [rid], [field])
    found = v.when(rows[0].get(field)) if rows else None
    wanted = v.when(odoo_datetime(expected))
    return found is not None and wanted is not None and abs((found - wanted).total_seconds()) < 1


@dataclass(frozen=True)
class ActionSpec:
    """How one action type runs."""

    #: The fields whose values the proposal snapshots in ``Target.expect`` (besides write_date).
    expect_fields: tuple[str, ...]
    #: Run the action; returns a one-line outcome.
    execute: Callable[[OdooClient, Any, Proposal], str]
    #: Whether the action's effect is visible in Odoo (True: it ran).
    applied: Callable[[OdooClient, Any, Proposal], bool]


# -- reschedules and line changes ---------------------------------------------------------------
def _write(client: OdooClient, model: str, rid: int, values: dict[str, Any]) -> None:
    client.execute(model, "write", [rid], values)


def _read_one(client: OdooClient, model: str, rid: int, fields: list[str]) -> dict[str, Any]:
    rows = client.read(model, [rid], fields)
    return rows[0] if rows else {}


def _po_line_date(client: OdooClient, p: RescheduleOrderLine, _: Proposal) -> str:
    _write(client, "purchase.order.line", p.line_id, {"date_planned": odoo_datetime(p.new_date)})
    return f"{p.po_name} {p.product}: expected arrival set to {p.new_date:%Y-%m-%d %H:%M} UTC"


def _po_line_date_applied(client: OdooClient, p: RescheduleOrderLine, _: Proposal) -> bool:
    return _holds_instant(client, "purchase.order.line", p.line_id, "date_planned", p.new_date)


def _receipt_date(client: OdooClient, p: RescheduleReceipt, _: Proposal) -> str:
    # The PO lines first (Odoo recomputes the PO's expected arrival from them), then the receipt itself:
    # writing line dates only moves the moves' deadlines, writing the receipt only moves the receipt.
    when = odoo_datetime(p.new_date)
    if p.line_ids:
        client.execute("purchase.order.line", "write", list(p.line_ids), {"date_planned": when})
    _write(client, "stock.picking", p.picking_id, {"scheduled_date": when})
    lines = f" and {len(p.line_ids)} line(s) of {p.po_name}" if p.line_ids else ""
    return f"{p.picking_name}{lines}: scheduled date set to {p.new_date:%Y-%m-%d %H:%M} UTC"


def _receipt_date_applied(client: OdooClient, p: RescheduleReceipt, _: Proposal) -> bool:
    return _holds_instant(client, "stock.picking", p.picking_id, "scheduled_date", p.new_date)


def _price(client: OdooClient, p: AcceptPriceChange, _: Proposal) -> str:
    _write(client, "purchase.order.line", p.line_id, {"price_unit": p.new_price})
    return f"{p.po_name} {p.product}: unit price {p.old_price:,.2f} -> {p.new_price:,.2f} {p.currency}"


def _price_applied(client: OdooClient, p: AcceptPriceChange, _: Proposal) -> bool:
    found = _read_one(client, "purchase.order.line", p.line_id, ["price_unit"]).get("price_unit")
    return isinstance(found, int | float) and abs(found - p.new_price) < 0.005


def _substitute(client: OdooClient, p: SubstituteProduct, _: Proposal) -> str:
    _write(client, "purchase.order.line", p.line_id, {"product_id": p.new_product_id})
    return f"{p.po_name}: {p.old_product} replaced by {p.new_product}"


def _substitute_applied(client: OdooClient, p: SubstituteProduct, _: Proposal) -> bool:
    found = v.ref(_read_one(client, "purchase.order.line", p.line_id, ["product_id"]).get("product_id"))
    return found is not None and found.id == p.new_product_id


def _reduce(client: OdooClient, p: ReducePurchaseLineQuantity, _: Proposal) -> str:
    _write(client, "purchase.order.line", p.line_id, {"product_qty": p.new_quantity})
    return f"{p.po_name} {p.product}: ordered {p.old_quantity:g} -> {p.new_quantity:g} {p.uom} (the rest cancelled)"


def _reduce_applied(client: OdooClient, p: ReducePurchaseLineQuantity, _: Proposal) -> bool:
    found = _read_one(client, "purchase.order.line", p.line_id, ["product_qty"]).get("product_qty")
    return isinstance(found, int | float) and abs(found - p.new_quantity) < 1e-6


def _commitment(client: OdooClient, p: ChangeSaleCommitment, _: Proposal) -> str:
    _write(client, "sale.order", p.so_id, {"commitment_date": odoo_datetime(p.new_date)})
    return f"{p.so_name}: delivery date promised to the customer set to {p.new_date:%Y-%m-%d}"


def _commitment_applied(client: OdooClient, p: ChangeSaleCommitment, _: Proposal) -> bool:
    return _holds_instant(client, "sale.order", p.so_id, "commitment_date", p.new_date)


def _labels(client: OdooClient, p: SetTicketLabels, _: Proposal) -> str:
    _write(client, "helpdesk.ticket", p.ticket_id, dict(p.values))
    changes = ", ".join(f"{k}: {p.before.get(k) or '-'} -> {after}" for k, after in p.after.items())
    return f"{p.ticket_name}: {changes}"


def _labels_applied(client: OdooClient, p: SetTicketLabels, _: Proposal) -> bool:
    row = _read_one(client, "helpdesk.ticket", p.ticket_id, list(p.values))
    for name, expected in p.values.items():
        found = row.get(name)
        found = found[0] if isinstance(found, list) and found else found
        if str(found) != str(expected):
            return False
    return True


# -- messages -----------------------------------------------------------------------------------
def _marker(proposal: Proposal) -> str:
    return f"[{proposal.idempotency_key[-12:]}]"


def _post(client: OdooClient, model: str, rid: int, body: str, subject: str | None, partners: list[int]) -> int:
    return int(
        client.execute(
            model,
            "message_post",
            [rid],
            body=body,
            subject=subject,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=partners,
        )
    )


def _posted(client: OdooClient, model: str, rid: int, proposal: Proposal) -> bool:
    domain = [("model", "=", model), ("res_id", "=", rid), ("body", "ilike", _marker(proposal))]
    return client.search_count("mail.message", domain) > 0


def _expedite(client: OdooClient, p: Expedite, proposal: Proposal) -> str:
    mid = _post(
        client,
        "purchase.order",
        p.po_id,
        f"{p.message}\n\n{_marker(proposal)}",
        f"{p.po_name}: expedite",
        [p.vendor_id],
    )
    return f"{p.po_name}: expedite request sent to the vendor (message {mid})"


def _expedite_applied(client: OdooClient, p: Expedite, proposal: Proposal) -> bool:
    return _posted(client, "purchase.order", p.po_id, proposal)


def _reply(client: OdooClient, p: SendCustomerReply, proposal: Proposal) -> str:
    mid = _post(client, p.model, p.res_id, f"{p.body}\n\n{_marker(proposal)}", p.subject, list(p.partner_ids))
    return f"{p.record_name}: reply posted and e-mailed (message {mid})"


def _reply_applied(client: OdooClient, p: SendCustomerReply, proposal: Proposal) -> bool:
    return _posted(client, p.model, p.res_id, proposal)


# -- wizards ------------------------------------------------------------------------------------
def _return(client: OdooClient, p: CreateReturn, _: Proposal) -> str:
    moves = client.search_read(
        "stock.move", [("picking_id", "=", p.picking_id), ("state", "=", "done")], ["product_id", "quantity"]
    )
    by_product = {v.ref(m["product_id"]).id: m["id"] for m in moves if v.ref(m["product_id"])}  # type: ignore[union-attr]
    lines = [
        (0, 0, {"product_id": ln.product_id, "quantity": ln.quantity, "move_id": by_product.get(ln.product_id)})
        for ln in p.lines
    ]
    wizard = int(
        client.execute("stock.return.picking", "create", {"picking_id": p.picking_id, "product_return_moves": lines})
    )
    action = client.execute("stock.return.picking", "action_create_returns", [wizard])
    new_id = action.get("res_id") if isinstance(action, dict) else None
    return f"{p.picking_name}: return created (picking id {new_id})"


def _return_applied(client: OdooClient, p: CreateReturn, _: Proposal) -> bool:
    return client.search_count("stock.picking", [("return_id", "=", p.picking_id)]) > 0


def _credit_note(client: OdooClient, p: IssueCreditNote, _: Proposal) -> str:
    # The wizard's journal is computed from the invoices only in the web client's flow: name it.
    journal = v.ref(_read_one(client, "account.move", p.invoice_id, ["journal_id"]).get("journal_id"))
    values: dict[str, Any] = {"move_ids": [(6, 0, [p.invoice_id])], "reason": p.reason}
    if journal is not None:
        values["journal_id"] = journal.id
    wizard = int(
        client.execute(
            "account.move.reversal",
            "create",
            values,
            context={"active_model": "account.move", "active_ids": [p.invoice_id]},
        )
    )
    client.execute("account.move.reversal", "refund_moves", [wizard])
    return f"{p.invoice_name}: draft credit note of {p.amount:,.2f} {p.currency} created ({p.reason})"


def _credit_note_applied(client: OdooClient, p: IssueCreditNote, _: Proposal) -> bool:
    return client.search_count("account.move", [("reversed_entry_id", "=", p.invoice_id)]) > 0


ACTIONS: dict[ActionType, ActionSpec] = {
    ActionType.RESCHEDULE_PO_LINE: ActionSpec(("state",), _po_line_date, _po_line_date_applied),
    ActionType.RESCHEDULE_RECEIPT: ActionSpec(("state",), _receipt_date, _receipt_date_applied),
    ActionType.ACCEPT_PRICE_CHANGE: ActionSpec(("state", "price_unit"), _price, _price_applied),
    ActionType.SUBSTITUTE_PRODUCT: ActionSpec(("state", "product_id"), _substitute, _substitute_applied),
    ActionType.REDUCE_PO_LINE_QTY: ActionSpec(("state", "product_qty"), _reduce, _reduce_applied),
    ActionType.EXPEDITE: ActionSpec(("state",), _expedite, _expedite_applied),
    ActionType.CHANGE_SO_COMMITMENT: ActionSpec(("state",), _commitment, _commitment_applied),
    ActionType.CREATE_RETURN: ActionSpec(("state",), _return, _return_applied),
    ActionType.ISSUE_CREDIT_NOTE: ActionSpec(("state", "amount_total"), _credit_note, _credit_note_applied),
    ActionType.SET_TICKET_LABELS: ActionSpec((), _labels, _labels_applied),
    ActionType.SEND_CUSTOMER_REPLY: ActionSpec((), _reply, _reply_applied),
}


def check_preconditions(client: OdooClient, proposal: Proposal) -> str | None:
    """Why the action must not run now (the target changed since the proposal), or None when it may."""
    target = proposal.target
    fields = ["write_date", *target.expect]
    rows = client.read(target.model, [target.id], fields)
    if not rows:
        return f"{target.model} {target.display_name} no longer exists"
    row = rows[0]
    if target.write_date and row.get("write_date") != target.write_date:
        return (
            f"{target.display_name} changed since the proposal (last modified {row.get('write_date')}, "
            f"proposal saw {target.write_date}); nothing was done: re-propose on the current data"
        )
    for name, expected in target.expect.items():
        found = row.get(name)
        found = found[0] if isinstance(found, list) and found and name.endswith("_id") else found
        if found != expected:
            return (
                f"{target.display_name}: {name} is now {found!r}, the proposal expected {expected!r}; nothing was done"
            )
    return None
