"""The embedded default (no ``COPILOT_ODOO_URL``) reaches the sandbox in this process: no port, no socket."""

from __future__ import annotations

import pytest

from copilot.config import load_settings
from copilot.errors import MethodNotAllowed
from copilot.odoo.session import odoo_session

#: A valid approval request (the copilot may create these, nothing else).
REQUEST = {
    "name": "Accept price change on P00008",
    "action_type": "accept_price_change",
    "res_model": "purchase.order",
    "res_id": 8,
    "payload": {"price_unit": 312.5},
    "idempotency_key": "k-1",
    "risk_tier": "low",
}


def test_the_embedded_sandbox_answers_in_process_and_says_so() -> None:
    """Sockets are disabled here: the session works, as the copilot's read-only user, and its label is honest."""
    with odoo_session(load_settings()) as odoo:
        assert odoo.sandbox and odoo.label.startswith("embedded Odoo sandbox in-process (data recorded 2026-11-26")
        assert "http" not in odoo.label
        assert odoo.client.uid == 8  # copilot/copilot
        assert odoo.client.search_count("purchase.order", [["name", "=", "P00002"]]) == 1


def test_the_in_process_client_keeps_the_allow_list() -> None:
    """The client's allow-list stands in front of the in-process transport: a write is refused unsent."""
    with odoo_session(load_settings()) as odoo, pytest.raises(MethodNotAllowed):
        odoo.client.execute("purchase.order", "write", [2], {"notes": "x"})


def test_writes_kept_in_the_data_dir_are_seen_by_the_next_session() -> None:
    """The state file works in-process as over HTTP: an approval request made in one command is there in the next."""
    settings = load_settings()
    with odoo_session(settings) as first:
        created = first.client.execute("copilot.approval.request", "create", REQUEST)
    with odoo_session(settings) as second:
        [row] = second.client.read("copilot.approval.request", [created], ["name"])
    assert row["name"] == REQUEST["name"]
