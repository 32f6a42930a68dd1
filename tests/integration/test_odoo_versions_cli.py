"""``copilot odoo po``, ``copilot ask`` and ``copilot demo`` on Odoo 18 and Odoo 19, over JSON-RPC and JSON-2.

The embedded sandbox serves the 18 recording (``odoo18``) or the 19 one (``odoo19``: ``purchase.order.line``'s
unit is ``product_uom_id`` there, and roles come from ``has_group``); the client reads the version at login
and asks for its own field names. On 19 with the copilot's API key, ``auto`` talks JSON-2; ``jsonrpc`` forces
the deprecated ``/jsonrpc``. Both in-process transports are socket-free (JSON-2: the real httpx transport over
``httpx.MockTransport``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.odoo.json2 import Json2Transport
from odoo_sandbox import SandboxTransport

#: (sandbox flavour, COPILOT_ODOO_PROTOCOL, the protocol that must carry the calls)
SETUPS = [
    pytest.param("odoo19", "auto", "json2", id="odoo19-json2"),
    pytest.param("odoo19", "jsonrpc", "jsonrpc", id="odoo19-jsonrpc"),
    pytest.param("odoo18", "auto", "jsonrpc", id="odoo18"),
]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """``model.method`` of each call, per protocol (spies on both in-process transports)."""
    seen: dict[str, list[str]] = {"json2": [], "jsonrpc": []}
    json2_call, rpc_call = Json2Transport._call, SandboxTransport.execute_kw

    def over_json2(self: Json2Transport, model: str, method: str, body: dict[str, Any]) -> Any:
        seen["json2"].append(f"{model}.{method}")
        return json2_call(self, model, method, body)

    def over_jsonrpc(self: SandboxTransport, model: str, method: str, args: Any, kwargs: Any) -> Any:
        seen["jsonrpc"].append(f"{model}.{method}")
        return rpc_call(self, model, method, args, kwargs)

    monkeypatch.setattr(Json2Transport, "_call", over_json2)
    monkeypatch.setattr(SandboxTransport, "execute_kw", over_jsonrpc)
    return seen


def run(args: list[str], odoo: str, protocol: str) -> Any:
    """The command's result (exit code checked), against the sandbox flavour over the protocol."""
    env = {"COPILOT_SANDBOX_ODOO": odoo, "COPILOT_ODOO_PROTOCOL": protocol, "COPILOT_SANDBOX_KEEP_WRITES": "false"}
    result = CliRunner().invoke(app, args, env={**env, "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(("odoo", "protocol", "wire"), SETUPS)
def test_odoo_po_shows_the_lines_with_their_unit(
    calls: dict[str, list[str]], odoo: str, protocol: str, wire: str
) -> None:
    """P00002's two lines with quantity and unit (19's ``product_uom_id``, 18's ``product_uom``)."""
    po = json.loads(run(["odoo", "po", "P00002", "--json"], odoo, protocol).stdout)
    assert po["vendor"]["name"] == "Gemini Furniture"
    assert [(line["product_code"], line["quantity"], line["uom"]) for line in po["lines"]] == [
        ("FURN_8888", 20.0, "Units"),
        ("FURN_7777", 5.0, "Units"),
    ]
    assert "purchase.order.line.search_read" in calls[wire]
    other = "jsonrpc" if wire == "json2" else "json2"
    assert calls[other] == []


@pytest.mark.parametrize(("odoo", "protocol", "wire"), SETUPS)
def test_ask_what_gemini_said_about_p00002(calls: dict[str, list[str]], odoo: str, protocol: str, wire: str) -> None:
    """The supplier's revised ship date, cited from the PO's chatter."""
    answer = json.loads(run(["ask", "what did Gemini say about P00002?", "--json"], odoo, protocol).stdout)
    assert answer["intent"] == "supplier_said"
    assert "Revised ship date" in answer["text"]
    assert ("2026-12-10" if odoo == "odoo19" else "2026-12-03") in answer["text"]
    assert {(c["model"], c["display_name"]) for c in answer["citations"]} >= {
        ("purchase.order", "P00002"),
        ("mail.message", "Re: P00002 - Revised ship date"),
    }
    assert "mail.message.search_read" in calls[wire]


@pytest.mark.parametrize(("odoo", "protocol", "wire"), SETUPS)
def test_demo_summarizes_the_13_supplier_emails(
    calls: dict[str, list[str]], tmp_path: Path, odoo: str, protocol: str, wire: str
) -> None:
    """The demo reads every recorded supplier email and links each to its PO."""
    report = tmp_path / "demo.json"
    output = run(["demo", "--report", str(report)], odoo, protocol).output
    assert "13 supplier emails" in output
    assert "new ship date" in output
    assert calls[wire] and not calls["jsonrpc" if wire == "json2" else "json2"]
