"""``COPILOT_ODOO_PROTOCOL=auto`` against the sandbox on loopback: JSON-2 on Odoo 19 with a key, JSON-RPC on 18."""

from __future__ import annotations

import pytest

from copilot.config import load_settings
from copilot.errors import MethodNotAllowed, OdooAuthenticationError
from copilot.odoo import OdooClient
from odoo_sandbox import SandboxServer


@pytest.mark.parametrize(("odoo", "protocol", "series"), [("odoo18", "jsonrpc", 18), ("odoo19", "json2", 19)])
def test_auto_with_an_api_key_picks_by_version(odoo: str, protocol: str, series: int) -> None:
    """The same settings (a key and a password) reach 18 over JSON-RPC and 19 over JSON-2, with each one's names."""
    with SandboxServer(odoo=odoo) as server:  # type: ignore[arg-type]
        key = next(u.api_key for u in server.users if u.login == "copilot") or "copilot"
        secret = key if series >= 19 else "copilot"  # a real 18 takes the API key as the password
        client = OdooClient.connect(
            load_settings(), url=server.url, db=server.db, login="copilot", secret=secret, api_key=key
        )
        rows = client.search_read("purchase.order.line", [("order_id.name", "=", "P00002")], ["product_uom_id"])
        assert client.protocol == protocol and client.schema.series == series
        assert [r["product_uom_id"][1] for r in rows] == ["Units", "Units"]
        assert any(r.path.startswith("/json/2/") for r in server.requests) is (protocol == "json2")


def test_a_wrong_api_key_is_an_authentication_error() -> None:
    """Odoo 19 answers 401 "Invalid apikey": the copilot says the key was refused, it does not retry."""
    with SandboxServer(odoo="odoo19") as server:
        client = OdooClient.connect(
            load_settings(), url=server.url, db=server.db, login="copilot", secret="", api_key="0" * 40
        )
        with pytest.raises(OdooAuthenticationError, match="Invalid apikey"):
            client.search_count("purchase.order", [])


def test_a_refused_write_never_reaches_the_odoo19_server() -> None:
    """Over JSON-2 on a real socket: the allow-list refuses ``write``/``unlink`` before anything is sent."""
    with SandboxServer(odoo="odoo19") as server:
        key = next(u.api_key for u in server.users if u.login == "copilot")
        client = OdooClient.connect(
            load_settings(), url=server.url, db=server.db, login="copilot", secret="", api_key=key
        )
        assert client.search_count("purchase.order", [("state", "=", "purchase")]) == 10  # recorded: json2/13
        with pytest.raises(MethodNotAllowed):
            client.execute("res.partner", "write", [10], {"comment": "copilot write attempt: must be refused"})
        with pytest.raises(MethodNotAllowed):
            client.execute("purchase.order", "unlink", [10])
        paths = [r.path for r in server.requests]
        assert "/json/2/purchase.order/search_count" in paths
        assert not [p for p in paths if p.endswith(("/write", "/unlink"))]
