"""Test helper for the supplier-email tests: the scenario .eml files and a client on the Odoo sandbox."""

from __future__ import annotations

import atexit
from functools import cache
from pathlib import Path

from copilot.odoo import OdooClient
from odoo_sandbox import SandboxServer
from tests.conftest import make_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EMAILS = FIXTURES / "emails"


@cache
def _sandbox() -> SandboxServer:
    server = SandboxServer()  # never started: reached in-process
    atexit.register(server.stop)
    return server


def sandbox_client() -> OdooClient:
    """A fresh client of the read-only copilot user on a sandbox shared by these tests."""
    return make_client(_sandbox())


def scenario_emails() -> list[Path]:
    """The 13 scenario .eml files, in the README's order."""
    return sorted(EMAILS.glob("[0-9][0-9]_*.eml"))
