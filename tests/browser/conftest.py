"""Headless-browser tests: Playwright drives Debian's Chromium against a throwaway real Odoo with the addon.

Each Odoo series the machine provides (``ODOO18_BIN``, ``ODOO19_BIN``; see tests/servers/odoo.py) gets one server
for the session, with three users: ``copilot`` (the copilot's technical user, *Copilot agent*), ``manager`` (a
person who decides: *Copilot approver*) and ``employee`` (an internal user, nothing more). Without an Odoo the
tests are skipped (Odoo is on no package registry; CI runs them when its machine has one); without Chromium
(``CHROMIUM_BIN``, else Debian's) or Playwright they are skipped too, except under ``COPILOT_REQUIRE_SERVICES=1``
(CI), where that fails. A failed test leaves a screenshot and the page's HTML in a temporary folder named in its
report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers.chromium import chromium_binary
from tests.servers.odoo import OdooInstall, OdooRpc, OdooServer, odoo_installs

#: Read at import: the test-isolation fixture clears every COPILOT_* variable before each test.
SERVICES_REQUIRED = os.environ.get("COPILOT_REQUIRE_SERVICES", "").strip() == "1"
#: Read at collection: one server per series.
INSTALLS = odoo_installs()
NO_ODOO = (
    "no Odoo on this machine: set ODOO18_BIN and/or ODOO19_BIN (odoo-bin), ODOO18_PY / ODOO19_PY (its Python) and "
    "ODOO_ARGS (database options) to run the browser tests"
)
try:
    import playwright  # noqa: F401 (only whether the dev extras are installed)
except ImportError:  # without Playwright the test modules do not even import: skip them (CI: let that fail)
    collect_ignore_glob = [] if SERVICES_REQUIRED else ["test_*.py"]

#: Milliseconds a page may take: the first request of a new database builds the web client's assets.
PAGE_TIMEOUT_MS = 90_000

AGENT_GROUPS = ("base.group_user", "copilot_approval.group_copilot_agent")
MANAGER_GROUPS = ("base.group_user", "copilot_approval.group_copilot_approver")
EMPLOYEE_GROUPS = ("base.group_user",)
#: res.users' many2many of groups: Odoo 19 renamed it.
GROUPS_FIELD = {"18.0": "groups_id", "19.0": "group_ids"}


@dataclass(frozen=True)
class OdooUser:
    """A user of the test database."""

    login: str
    password: str
    uid: int
    name: str


@dataclass
class OdooSite:
    """A running Odoo with the addon, its administrator's RPC and the test users."""

    server: OdooServer
    admin: OdooRpc
    users: dict[str, OdooUser] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    @property
    def series(self) -> str:
        """``18.0`` or ``19.0``."""
        return self.server.install.series

    def rpc(self, login: str) -> OdooRpc:
        """JSON-RPC as one of the test users."""
        user = self.users[login]
        return self.server.rpc(user.login, user.password)

    def group_id(self, xml_id: str) -> int:
        """The database id of a group, from its XML id."""
        module, name = xml_id.split(".")
        rows = self.admin.call(
            "ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], fields=["res_id"]
        )
        if not rows:
            raise LookupError(f"no group {xml_id} in Odoo {self.series}")
        return int(rows[0]["res_id"])

    def add_user(self, login: str, name: str, groups: tuple[str, ...]) -> OdooUser:
        """Create a user with exactly ``groups`` (XML ids)."""
        password = f"{login}-browser-test-pw"
        values = {
            "name": name,
            "login": login,
            "password": password,
            GROUPS_FIELD[self.series]: [(6, 0, [self.group_id(group) for group in groups])],
        }
        uid = int(self.admin.call("res.users", "create", values))
        self.users[login] = OdooUser(login, password, uid, name)
        return self.users[login]


def _unavailable(message: str) -> None:
    if SERVICES_REQUIRED:
        pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser is a browser test and talks to its servers on loopback."""
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.enable_socket)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that uses ``odoo_install`` runs once per Odoo series on this machine (or once, skipped, on none)."""
    if "odoo_install" in metafunc.fixturenames:
        params: list[OdooInstall | None] = list(INSTALLS) or [None]
        ids = [f"odoo{install.series.split('.')[0]}" if install else "no-odoo" for install in params]
        metafunc.parametrize("odoo_install", params, ids=ids, scope="session")


@pytest.fixture(scope="session")
def odoo(odoo_install: OdooInstall | None, request: pytest.FixtureRequest) -> Iterator[OdooSite]:
    """A throwaway Odoo of one series with the addon installed and the users ``copilot``, ``manager``, ``employee``."""
    if odoo_install is None:
        pytest.skip(NO_ODOO)
    request.getfixturevalue("chromium_path")  # no Odoo is started for a browser that is not there
    with OdooServer(odoo_install) as server:
        site = OdooSite(server, server.rpc())
        site.add_user("copilot", "Ops Copilot", AGENT_GROUPS)
        site.add_user("manager", "Mia Manager", MANAGER_GROUPS)
        site.add_user("employee", "Eli Employee", EMPLOYEE_GROUPS)
        yield site


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (``apt-get install chromium``)."""
    path = chromium_binary()
    if path is None:
        _unavailable("Chromium is not installed: the browser tests need it (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """Headless Chromium driven by Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: the browser tests need it (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new page in its own browser context (no cookies from another test)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a browser test fails, save the page's screenshot and HTML and name the folder in the report."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or page is None:
        return
    folder = Path(tempfile.mkdtemp(prefix="copilot-browser-"))
    try:
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
        (folder / "page.html").write_text(page.content(), encoding="utf-8")
        saved = f"{folder}/screenshot.png and page.html (at {page.url})"
    except Exception as error:  # a crashed page: say so rather than hide the test's own failure
        saved = f"none: the page could not be captured ({error})"
    report.sections.append(("browser", f"screenshot: {saved}"))
