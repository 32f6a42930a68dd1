"""A manager opens Copilot > Exceptions in Odoo's web client and acknowledges what the copilot found.

The copilot's user puts the exceptions in Odoo the only way it may (``copilot.exception.copilot_sync``, an upsert
by control and key); the manager (a Copilot approver) acknowledges one from the list and one from its form; Odoo
then says who acknowledged it, and an employee who may only read sees no Acknowledge button.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import OdooSite
from tests.browser.odoo_ui import log_in, open_menu, status

EXCEPTIONS_MENU = "copilot_approval.menu_copilot_exceptions"
COPILOT_APP = "copilot_approval.menu_copilot_root"
ACKNOWLEDGE = "button[name=action_acknowledge]"


def _sync(odoo: OdooSite, key: str, title: str, severity: str) -> int:
    """The copilot's user upserts one exception (its only write on the model); returns its id."""
    values = {
        "key": key,
        "control": "orders_at_risk",
        "severity": severity,
        "score": 0.93 if severity == "critical" else 0.41,
        "title": title,
        "reason": "P00009 is 6 days late and nothing else covers S00024's 4 corner desks before 2026-12-07.",
        "record_model": "res.partner",
        "record_id": 1,
        "record_name": "S00024",
        "evidence": [{"model": "res.partner", "id": 1, "display_name": "P00009"}],
        "factors": [{"label": "Receipt late", "value": "6 days", "contribution": 0.6}],
    }
    [exception_id] = odoo.rpc("copilot").call("copilot.exception", "copilot_sync", [values])
    return int(exception_id)


def _read(odoo: OdooSite, exception_id: int) -> dict[str, Any]:
    [record] = odoo.admin.call(
        "copilot.exception", "read", [exception_id], fields=["state", "acknowledged_by", "acknowledged_at"]
    )
    return dict(record)


def _open_exceptions(page: Any, odoo: OdooSite, login: str) -> None:
    user = odoo.users[login]
    log_in(page, odoo.url, user.login, user.password)
    open_menu(page, COPILOT_APP, EXCEPTIONS_MENU, "Exceptions")


def test_a_manager_acknowledges_an_exception_from_the_exceptions_list(odoo: OdooSite, page: Any) -> None:
    late = _sync(odoo, "sale.order:24", "S00024 at risk: corner desks wait for late P00009", "critical")
    _sync(odoo, "sale.order:31", "S00031 at risk: cabinets short by 2", "medium")

    _open_exceptions(page, odoo, "manager")
    row = page.locator(".o_list_view .o_data_row", has_text="S00024 at risk")
    other = page.locator(".o_list_view .o_data_row", has_text="S00031 at risk")
    expect(row).to_contain_text("Critical")
    expect(row).to_contain_text("Open")
    expect(other).to_contain_text("Medium")
    expect(page.locator(".o_list_view .o_data_row").first).to_contain_text("S00024")  # worst first
    row.locator(ACKNOWLEDGE).click()

    # the list shows open exceptions by default: the acknowledged one leaves it, the other stays
    expect(row).to_have_count(0)
    expect(other.locator(ACKNOWLEDGE)).to_be_visible()
    record = _read(odoo, late)
    assert record["state"] == "acknowledged"
    assert record["acknowledged_by"][0] == odoo.users["manager"].uid and record["acknowledged_at"]


def test_a_manager_acknowledges_an_exception_from_its_form(odoo: OdooSite, page: Any) -> None:
    exception_id = _sync(odoo, "sale.order:40", "S00040 at risk: office chairs wait for P00012", "high")

    _open_exceptions(page, odoo, "manager")
    page.locator(".o_list_view .o_data_row", has_text="S00040 at risk").locator("td[name=title]").click()
    expect(status(page)).to_have_text("Open")
    expect(page.locator(".o_form_view")).to_contain_text("P00009 is 6 days late")  # the copilot's reason
    page.locator(f".o_form_view .o_statusbar_buttons {ACKNOWLEDGE}").click()

    expect(status(page)).to_have_text("Acknowledged")
    expect(page.locator(".o_form_view div[name=acknowledged_by]")).to_contain_text("Mia Manager")
    expect(page.locator(f".o_form_view .o_statusbar_buttons {ACKNOWLEDGE}")).to_have_count(0)
    record = _read(odoo, exception_id)
    assert record["state"] == "acknowledged" and record["acknowledged_by"][0] == odoo.users["manager"].uid


def test_an_employee_reads_the_exceptions_without_an_acknowledge_button(odoo: OdooSite, page: Any) -> None:
    exception_id = _sync(odoo, "sale.order:52", "S00052 at risk: lamps wait for P00015", "low")

    _open_exceptions(page, odoo, "employee")
    row = page.locator(".o_list_view .o_data_row", has_text="S00052 at risk")
    expect(row).to_contain_text("Open")
    expect(row.locator(ACKNOWLEDGE)).to_have_count(0)
    assert _read(odoo, exception_id)["state"] == "open"


def test_the_kanban_groups_exceptions_by_severity_and_acknowledges_from_the_card(odoo: OdooSite, page: Any) -> None:
    exception_id = _sync(odoo, "purchase.order:9", "P00009 six days late: 3 orders wait for it", "critical")

    _open_exceptions(page, odoo, "manager")
    page.locator(".o_control_panel .o_switch_view.o_kanban").click()
    column = page.locator(".o_kanban_group", has=page.locator(".o_column_title", has_text="Critical"))
    card = column.locator(".o_kanban_record", has_text="P00009 six days late")
    expect(card).to_contain_text("orders_at_risk")
    card.locator(ACKNOWLEDGE).click()

    expect(card).to_have_count(0)  # the open exceptions only, by default
    assert _read(odoo, exception_id)["state"] == "acknowledged"
