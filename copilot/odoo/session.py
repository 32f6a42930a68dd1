"""Wires settings to live components: the Odoo client (real Odoo or the embedded sandbox) and the LLM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr

from copilot.config import Settings
from copilot.odoo import OdooClient, OdooTransport

if TYPE_CHECKING:
    from odoo_sandbox import SandboxServer

__all__ = ["OdooSession", "odoo_session", "sandbox_database"]


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
def odoo_session(settings: Settings, *, http: bool = False) -> Iterator[OdooSession]:
    """Connect to the configured Odoo, or open the embedded sandbox when no URL is set.

    The embedded sandbox answers in this process (``SandboxTransport``: its own JSON-RPC handling, no port, no
    socket) unless ``http`` asks for it to be served on a loopback port as well (then the client goes over HTTP).
    """
    if not settings.sandbox:
        client = OdooClient.from_settings(settings)
        yield OdooSession(
            client=client,
            label=f"Odoo at {settings.odoo_url} (database {settings.odoo_db})",
            sandbox=False,
            as_of=datetime.now(UTC),
        )
        return
    from odoo_sandbox import SandboxServer, SandboxTransport, sandbox_json2_transport

    server = SandboxServer(
        helpdesk=settings.sandbox_helpdesk, state_file=settings.sandbox_state_file, odoo=settings.sandbox_odoo
    )
    with server if http else _closing(server):
        # The sandbox's read-only copilot user, as in the recorded Odoo (on 19 with its API key).
        login, password = "copilot", "copilot"
        api_key = next((u.api_key for u in server.users if u.login == login), None)
        json2 = api_key is not None and settings.odoo_protocol != "jsonrpc"
        if http:
            sandbox_settings = settings.model_copy(
                update={
                    "odoo_login": login,
                    "odoo_password": SecretStr(password),
                    "odoo_api_key": SecretStr(api_key) if json2 and api_key else None,
                }
            )
            client = OdooClient.from_settings(sandbox_settings, url=server.url, db=server.db)
            where = f"at {server.url}"
        else:
            transport: OdooTransport
            if json2 and api_key:
                transport = sandbox_json2_transport(server, api_key=api_key, timeout=settings.odoo_timeout)
            else:
                transport = SandboxTransport(server, login=login, secret=password, timeout=settings.odoo_timeout)
            client = OdooClient(
                transport,
                approval_model=settings.approval_model,
                retries=settings.odoo_retries,
                backoff=settings.odoo_backoff,
                description="embedded Odoo sandbox (in-process)",
            )
            where = "in-process"
        flavour = "" if server.helpdesk == "oca" else f", helpdesk {server.helpdesk}"
        if server.release.series != 18:
            flavour += f", Odoo {server.release.series} over {'JSON-2' if json2 else 'JSON-RPC'}"
        recorded_at = server.release.recorded_at
        yield OdooSession(
            client=client,
            label=f"embedded Odoo sandbox {where} (data recorded {recorded_at:%Y-%m-%d}{flavour})",
            sandbox=True,
            as_of=recorded_at.replace(tzinfo=UTC),
            server=server,
        )


@contextmanager
def _closing(server: SandboxServer) -> Iterator[SandboxServer]:
    """An in-process sandbox (served on a port only if someone starts it later): stopped and released on exit."""
    try:
        yield server
    finally:
        server.stop()


def sandbox_database() -> str:
    """The embedded sandbox's database name (what a triage model trained on it records as its database)."""
    from odoo_sandbox import SANDBOX_DB

    return SANDBOX_DB
