"""Wires settings to live components: the Odoo client (real Odoo or the embedded sandbox) and the LLM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr

from copilot.config import Settings
from copilot.odoo import OdooClient

if TYPE_CHECKING:
    from odoo_sandbox import SandboxServer

__all__ = ["OdooSession", "odoo_session", "sandbox_database", "sandbox_server"]


@dataclass(frozen=True)
class OdooSession:
    """An Odoo client plus what the caller should know about where the data comes from."""

    client: OdooClient
    label: str
    sandbox: bool
    #: "Now" for lateness: the snapshot time in the sandbox, the wall clock against real Odoo.
    as_of: datetime
    #: The embedded sandbox's server (its other users decide and execute in the CLI's loop); None on a real Odoo.
    server: SandboxServer | None = None


@contextmanager
def odoo_session(settings: Settings) -> Iterator[OdooSession]:
    """Connect to the configured Odoo, or start the embedded sandbox when no URL is set."""
    if not settings.sandbox:
        client = OdooClient.from_settings(settings)
        yield OdooSession(
            client=client,
            label=f"Odoo at {settings.odoo_url} (database {settings.odoo_db})",
            sandbox=False,
            as_of=datetime.now(UTC),
        )
        return
    from odoo_sandbox import RECORDED_AT

    with sandbox_server(settings) as server:
        # The sandbox's read-only copilot user, as in the recorded Odoo.
        sandbox_settings = settings.model_copy(
            update={"odoo_login": "copilot", "odoo_password": SecretStr("copilot"), "odoo_api_key": None}
        )
        client = OdooClient.from_settings(sandbox_settings, url=server.url, db=server.db)
        helpdesk = "" if server.helpdesk == "oca" else f", helpdesk {server.helpdesk}"
        yield OdooSession(
            client=client,
            label=f"embedded Odoo sandbox at {server.url} (data recorded {RECORDED_AT:%Y-%m-%d}{helpdesk})",
            sandbox=True,
            as_of=RECORDED_AT.replace(tzinfo=UTC),
            server=server,
        )


@contextmanager
def sandbox_server(settings: Settings) -> Iterator[SandboxServer]:
    """The embedded sandbox of the settings (its Helpdesk flavour, its writes file), started and stopped."""
    from odoo_sandbox import SandboxServer

    with SandboxServer(helpdesk=settings.sandbox_helpdesk, state_file=settings.sandbox_state_file) as server:
        yield server


def sandbox_database() -> str:
    """The embedded sandbox's database name (what a triage model trained on it records as its database)."""
    from odoo_sandbox import SANDBOX_DB

    return SANDBOX_DB
