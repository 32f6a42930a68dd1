"""A manager approves the copilot's request in Odoo's web client: Copilot > Approval Requests, Approve."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from copilot.config import Settings
from copilot.odoo import OdooClient
from tests.browser.conftest import OdooSite
from tests.browser.odoo_ui import log_in, open_menu, status

REQUEST = {
    "name": "Reschedule WH/IN/00012 to 2026-12-09",
    "action_type": "reschedule_receipt",
    "res_model": "res.partner",
    "res_id": 1,
    "res_name": "Wood Corner",
    "payload": {"picking_id": 12, "new_date": "2026-12-09 10:00:00"},
    "diff": "Scheduled date: 2026-12-03 -> 2026-12-09",
    "risk_tier": "low",
    "source": "browser_test",
}


def _copilot_client(odoo: OdooSite) -> OdooClient:
    """The copilot's own Odoo client (allow-listed, read-only but for approval requests) as ``copilot``."""
    user = odoo.users["copilot"]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        odoo_url=odoo.url,
        odoo_db=odoo.server.db,
        odoo_login=user.login,
        odoo_password=user.password,
        odoo_protocol="jsonrpc",
    )
    return OdooClient.from_settings(settings)


def test_a_manager_approves_the_copilots_request_from_the_copilot_menu(odoo: OdooSite, page: Any) -> None:
    request_id = _copilot_client(odoo).create_approval_request({**REQUEST, "idempotency_key": f"browser-{odoo.series}"})
    manager = odoo.users["manager"]

    log_in(page, odoo.url, manager.login, manager.password)
    open_menu(
        page,
        "copilot_approval.menu_copilot_root",
        "copilot_approval.menu_copilot_approval_request",
        "Approval Requests",
    )
    row = page.locator(".o_list_view .o_data_row", has_text=REQUEST["name"])
    expect(row).to_contain_text("To Approve")
    expect(row).to_contain_text("Ops Copilot")  # requested by the copilot's user
    row.locator("td[name=name]").click()
    expect(status(page)).to_have_text("To Approve")
    page.locator(".o_form_view .o_statusbar_buttons button[name=action_approve]").click()

    expect(status(page)).to_have_text("Approved")
    expect(page.locator(".o_form_view .o_statusbar_buttons button[name=action_approve]")).to_have_count(0)
    [record] = odoo.admin.call("copilot.approval.request", "read", [request_id], fields=["state", "decision_ids"])
    assert record["state"] == "approved"
    [decision] = odoo.admin.call(
        "copilot.approval.decision", "read", record["decision_ids"], fields=["user_id", "decision"]
    )
    assert decision["user_id"][0] == manager.uid and decision["decision"] == "approve"
