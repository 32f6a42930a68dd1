"""The approval loop against a real Odoo 18 or 19 with the copilot_approval addon installed.

Needs, besides the copilot's own credentials: an approver (COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD, a
user in *Copilot approver*) and the executor's credential (COPILOT_EXECUTOR_LOGIN/_PASSWORD, a user
in *Copilot executor*); a credit note above the high tier also needs a second approver
(COPILOT_LIVE_SECOND_APPROVER_LOGIN/_PASSWORD). Each run moves P00002's receipt one day later than it is now.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import odoorpc
import pytest

from copilot.approvals import AddonBackend, Executor, RequestState, decide, executor_client, load_policy
from copilot.approvals import proposals_from_supplier_email as propose
from copilot.config import Settings
from copilot.email import parse_email
from copilot.odoo import OdooClient
from copilot.skills.supplier_email import summarize_supplier_email
from copilot.tools import _values as v

REPO = Path(__file__).resolve().parents[2]


def _login(settings: Settings, login: str, password: str) -> odoorpc.ODOO:
    """An odoorpc session of ``login`` on the configured Odoo."""
    url = str(settings.odoo_url).rstrip("/")
    host, port = url.split("://", 1)[1].rsplit(":", 1) if url.count(":") > 1 else (url.split("://", 1)[1], "80")
    odoo = odoorpc.ODOO(host, port=int(port), timeout=60)
    odoo.login(settings.odoo_db, login, password)
    return odoo


@pytest.fixture
def approver(live_settings: Settings) -> odoorpc.ODOO:
    login, password = os.environ.get("COPILOT_LIVE_APPROVER_LOGIN"), os.environ.get("COPILOT_LIVE_APPROVER_PASSWORD")
    if not (login and password and live_settings.executor_password):
        pytest.skip("set COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD and COPILOT_EXECUTOR_PASSWORD for the approval loop")
    return _login(live_settings, login, password)


def test_supplier_delay_to_executed_reschedule_on_live_odoo(
    live_client: OdooClient, live_settings: Settings, approver: odoorpc.ODOO
) -> None:
    mail = parse_email((REPO / "tests" / "fixtures" / "emails" / "02_p00002_new_ship_date.eml").read_bytes())
    summary = summarize_supplier_email(mail, client=live_client, settings=live_settings)
    receipts = live_client.search_read(
        "stock.picking",
        [("origin", "=", "P00002"), ("picking_type_id.code", "=", "incoming"), ("state", "not in", ["done", "cancel"])],
        ["name", "scheduled_date"],
    )
    if not receipts:
        pytest.skip("P00002 has no open receipt in this database (Odoo's plain demo leaves it a draft RFQ)")
    [receipt] = receipts
    new_day = (v.when(receipt["scheduled_date"]) + timedelta(days=1)).date()  # type: ignore[operator]
    change = next(c for c in summary.changes if c.po_name == "P00002" and c.email_date)
    summary = summary.model_copy(update={"changes": [change.model_copy(update={"email_date": new_day})]})
    [proposal] = propose(summary, live_client, on_behalf_of="live-test")

    now = datetime.now(UTC)
    backend = AddonBackend(live_client)
    request = backend.submit(proposal, decide(load_policy(REPO / "policy.example.yaml"), proposal, now=now))
    assert request.created and request.state is RequestState.PENDING

    approver.env[live_client.approval_model].browse(request.id).action_approve()
    assert backend.get(request.id).state is RequestState.APPROVED

    executor = Executor(executor_client(live_settings), now=lambda: datetime.now(UTC))
    outcomes = [o for o in executor.run_once().outcomes if o.request_id == request.id]
    assert [o.result for o in outcomes] == ["executed"], outcomes
    done = backend.get(request.id)
    assert done.state is RequestState.EXECUTED and done.execution_outcome
    moved = live_client.read("stock.picking", [receipt["id"]], ["scheduled_date"])[0]["scheduled_date"]
    assert moved.startswith(new_day.isoformat())
    po = live_client.search_read("purchase.order", [("name", "=", "P00002")], ["date_planned"])[0]
    assert po["date_planned"].startswith(new_day.isoformat())  # the PO shows the new expected arrival
    assert not [o for o in executor.run_once().outcomes if o.request_id == request.id]  # never twice


def test_credit_note_through_odoos_reversal_wizard_on_live_odoo(
    live_client: OdooClient, live_settings: Settings, approver: odoorpc.ODOO
) -> None:
    """The wizard-based actions run in real Odoo only (the sandbox does not emulate wizards)."""
    from copilot.approvals import Mode, Policy, Proposal
    from copilot.approvals.policy import ActionPolicy
    from copilot.approvals.schemas import ActionType

    invoices = live_client.search_read(
        "account.move",
        [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("reversal_move_ids", "=", False)],
        ["name", "amount_total", "write_date", "state"],
        limit=1,
    )
    if not invoices:
        pytest.skip("no posted customer invoice without a credit note left in this database")
    inv = invoices[0]
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")  # a new proposal each run: a refused one is never reopened
    proposal = Proposal.model_validate(
        {
            "title": f"Credit note for {inv['name']}",
            "payload": {"action_type": "issue_credit_note", "invoice_id": inv["id"], "invoice_name": inv["name"],
                        "amount": inv["amount_total"], "currency": "USD", "reason": f"live test {run}: damaged goods"},
            "target": {"model": "account.move", "id": inv["id"], "display_name": inv["name"],
                       "write_date": inv["write_date"],
                       "expect": {"state": "posted", "amount_total": inv["amount_total"]}},
            "diff": [], "source": "live-test", "amount": inv["amount_total"],
        }
    )  # fmt: skip
    policy = Policy(version=1, actions={ActionType.ISSUE_CREDIT_NOTE: ActionPolicy(mode=Mode.APPROVAL)})
    request = AddonBackend(live_client).submit(proposal, decide(policy, proposal, now=datetime.now(UTC)))
    approver.env[live_client.approval_model].browse(request.id).action_approve()
    if AddonBackend(live_client).get(request.id).state is not RequestState.APPROVED:  # high tier: a second approver
        login = os.environ.get("COPILOT_LIVE_SECOND_APPROVER_LOGIN")
        password = os.environ.get("COPILOT_LIVE_SECOND_APPROVER_PASSWORD")
        if not (login and password):
            approver.env[live_client.approval_model].browse(request.id).action_refuse()  # leave nothing pending
            pytest.skip("the invoice needs two approvers: set COPILOT_LIVE_SECOND_APPROVER_LOGIN/_PASSWORD")
        _login(live_settings, login, password).env[live_client.approval_model].browse(request.id).action_approve()
        assert AddonBackend(live_client).get(request.id).state is RequestState.APPROVED
    executor = Executor(executor_client(live_settings), now=lambda: datetime.now(UTC))
    [outcome] = [o for o in executor.run_once().outcomes if o.request_id == request.id]
    assert outcome.result == "executed", outcome.detail
    assert live_client.search_count("account.move", [("reversed_entry_id", "=", inv["id"])]) == 1
