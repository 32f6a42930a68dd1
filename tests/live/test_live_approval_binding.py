"""Issue 13 against a real Odoo 18 or 19 with the copilot_approval addon: an approval binds to its payload.

The same flow as ``tests/unit/test_approval_binding.py`` on the sandbox: a ``propose`` token POSTs a
price change that says one PO line and sets another; the copilot refuses it (422); honestly targeted,
the request shows Odoo's own title, exposure and tier, needs two approvers, and one approval runs
nothing. Needs an approver (COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD) and the executor's credential
(COPILOT_EXECUTOR_PASSWORD); the request it creates is refused at the end (nothing changes in Odoo).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import odoorpc
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from copilot.approvals import Executor, executor_client
from copilot.config import Settings
from copilot.odoo import OdooClient

REPO = Path(__file__).resolve().parents[2]
TOKEN = "live-proposer-token-0123456789abc"


@pytest.fixture
def approver(live_settings: Settings) -> odoorpc.ODOO:
    login, password = os.environ.get("COPILOT_LIVE_APPROVER_LOGIN"), os.environ.get("COPILOT_LIVE_APPROVER_PASSWORD")
    if not (login and password and live_settings.executor_password):
        pytest.skip("set COPILOT_LIVE_APPROVER_LOGIN/_PASSWORD and COPILOT_EXECUTOR_PASSWORD for the approval loop")
    url = str(live_settings.odoo_url).rstrip("/")
    host, port = url.split("://", 1)[1].rsplit(":", 1) if url.count(":") > 1 else (url.split("://", 1)[1], "80")
    odoo = odoorpc.ODOO(host, port=int(port), timeout=60)
    odoo.login(live_settings.odoo_db, login, password)
    return odoo


@pytest.fixture
def api(live_settings: Settings) -> Iterator[TestClient]:
    settings = live_settings.model_copy(
        update={"api_tokens": SecretStr(f"live:{TOKEN}:propose"), "policy_file": REPO / "policy.example.yaml"}
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _line(client: OdooClient, po: str) -> dict[str, Any]:
    rows = client.search_read(
        "purchase.order.line",
        [("order_id.name", "=", po), ("display_type", "=", False)],
        ["order_id", "price_unit", "product_qty", "qty_received", "name", "write_date"],
        limit=1,
        order="id asc",
    )
    if not rows:
        pytest.skip(f"no product line on {po} in this database")
    return rows[0]


def test_a_disguised_price_change_is_refused_and_an_honest_one_needs_two_approvers_on_live_odoo(
    live_client: OdooClient, live_settings: Settings, approver: odoorpc.ODOO, api: TestClient
) -> None:
    shown, real = _line(live_client, "P00008"), _line(live_client, "P00009")
    cents = int(datetime.now(UTC).timestamp() * 100) % 10_000  # a new proposal each run: a refused one stays refused
    new_price = round(float(real["price_unit"]) * 10 + cents / 100, 2)
    payload = {"action_type": "accept_price_change", "po_id": real["order_id"][0], "po_name": "P00009",
               "line_id": real["id"], "product": "x", "quantity": 3, "old_price": real["price_unit"],
               "new_price": new_price, "currency": "USD"}  # fmt: skip
    body = {
        "title": "Accept P00008 Drawer Black at 281.00 USD", "payload": payload,
        "target": {"model": "purchase.order.line", "id": shown["id"], "display_name": "P00008 / Drawer Black",
                   "write_date": shown["write_date"]},
        "diff": [{"field": "Unit price", "before": "280.80", "after": "281.00"}],
        "amount": 3, "risk_tier": "medium", "source": "supplier_email",
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKEN}"}
    refused = api.post("/v1/proposals", json=body, headers=headers)
    assert refused.status_code == 422, refused.text

    honest = api.post("/v1/proposals", json={**body, "target": {**body["target"], "id": real["id"]}}, headers=headers)
    assert honest.status_code in (200, 201), honest.text
    request = honest.json()["request"]
    try:
        assert request["target_id"] == real["id"] and request["approvals_required"] == 2
        assert request["risk_tier"] in ("high", "critical") and not request["name"].startswith("Accept P00008")
        model = live_client.approval_model
        row = approver.env[model].read([request["id"]], ["payload_hash", "amount"])[0]
        assert len(row["payload_hash"]) == 64
        approver.env[model].browse(request["id"]).action_approve()
        executor = Executor(executor_client(live_settings), now=lambda: datetime.now(UTC))
        assert not [o for o in executor.run_once().outcomes if o.request_id == request["id"]]
        after = live_client.read("purchase.order.line", [real["id"]], ["price_unit"])[0]["price_unit"]
        assert after == real["price_unit"]
    finally:
        state = approver.env[live_client.approval_model].read([request["id"]], ["state"])[0]["state"]
        if state == "pending":
            approver.env[live_client.approval_model].browse(request["id"]).action_refuse()
