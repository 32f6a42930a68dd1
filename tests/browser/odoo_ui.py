"""What a person does in Odoo's web client (18 and 19), as Playwright steps."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

__all__ = ["log_in", "open_menu", "status"]


def log_in(page: Any, url: str, login: str, password: str) -> None:
    """Log in on ``/web/login`` and wait for the web client's top bar."""
    page.goto(f"{url}/web/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator(".o_main_navbar .o_navbar_apps_menu")).to_be_visible()


def open_menu(page: Any, app_xml_id: str, menu_xml_id: str, label: str) -> None:
    """Open an app from the apps menu, then one of its top-bar menus (checked by XML id and by its label)."""
    page.locator(".o_navbar_apps_menu button").click()
    page.locator(f'.o_app[data-menu-xmlid="{app_xml_id}"]').click()  # the apps dropdown (an overlay)
    menu = page.locator(f'.o_menu_sections [data-menu-xmlid="{menu_xml_id}"]')
    expect(menu).to_have_text(label)
    menu.click()
    expect(page.locator(".o_breadcrumb")).to_contain_text(label)


def status(page: Any) -> Any:
    """The form's current status (the status bar's highlighted step)."""
    return page.locator(".o_form_view .o_statusbar_status .o_arrow_button_current")
