"""The approval loop on Odoo 19 over JSON-2: the copilot and the executor each with their own API key.

The copilot proposes and creates the request (``create`` on the approval model, its only write), a manager
approves it, the executor (its own key, ``COPILOT_EXECUTOR_API_KEY``; ``auto`` picks JSON-2 on 19) executes it
once. Nothing goes over the deprecated ``/jsonrpc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from copilot.approvals import (
    AddonBackend,
    Executor,
    RequestState,
    decide,
    executor_client,
    proposals_from_supplier_email,
)
from copilot.config import load_settings
from copilot.email import parse_email
from copilot.errors import MethodNotAllowed
from copilot.odoo import OdooClient
from copilot.skills.supplier_email import summarize_supplier_email
from odoo_sandbox import SandboxServer
from tests.integration.test_approvals import POLICY

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(odoo="odoo19") as odoo:
        yield odoo


def key(server: SandboxServer, login: str) -> str:
    """The sandbox user's API key."""
    return str(next(u.api_key for u in server.users if u.login == login))


def test_delay_email_to_executed_reschedule_over_json2(server: SandboxServer) -> None:
    now = server.anchor.replace(tzinfo=UTC)
    settings = load_settings(odoo_backoff=0.01)
    agent = OdooClient.connect(
        settings, url=server.url, db=server.db, login="copilot", secret="", api_key=key(server, "copilot")
    )
    mail = parse_email((EMAILS / "02_p00002_new_ship_date.eml").read_bytes())
    summary = summarize_supplier_email(mail, client=agent, settings=settings)
    [proposal] = proposals_from_supplier_email(summary, agent, on_behalf_of="buyer@example.com")
    request = AddonBackend(agent).submit(proposal, decide(POLICY, proposal, now=now))
    assert request.created and request.state is RequestState.PENDING
    assert agent.protocol == "json2"
    with pytest.raises(MethodNotAllowed):  # the agent's key never approves: refused before it is sent
        agent.execute("copilot.approval.request", "action_approve", [request.id])

    approved = httpx.post(
        f"{server.url}/json/2/copilot.approval.request/action_approve",
        json={"ids": [request.id]},
        headers={"Authorization": f"bearer {key(server, 'manager')}", "X-Odoo-Database": server.db},
    )
    assert approved.status_code == 200, approved.text
    assert AddonBackend(agent).get(request.id).state is RequestState.APPROVED

    executor_settings = settings.model_copy(update={"executor_api_key": SecretStr(key(server, "executor"))})
    executor = Executor(executor_client(executor_settings, url=server.url, db=server.db), now=lambda: now)
    report = executor.run_once()
    assert [o.result for o in report.outcomes] == ["executed"]
    assert executor.client.protocol == "json2"
    assert AddonBackend(agent).get(request.id).state is RequestState.EXECUTED
    assert executor.run_once().outcomes == []  # once, never again
    assert not [r for r in server.requests if r.path == "/jsonrpc"]  # everything went over JSON-2
