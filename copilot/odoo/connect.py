"""Which transport talks to Odoo: ``COPILOT_ODOO_PROTOCOL`` (auto, jsonrpc, json2) and the server's version.

``auto`` uses JSON-2 on Odoo 19 or newer when an API key is configured (``/jsonrpc`` is deprecated on 19 and
goes away in 20), JSON-RPC otherwise. The version is asked once, at login, from the public ``/web/version``.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from copilot.errors import ConfigError
from copilot.odoo.json2 import Json2Transport
from copilot.odoo.schema import parse_series
from copilot.odoo.transport import OdooRPCTransport, OdooTransport

__all__ = ["AutoTransport", "Protocol", "make_transport"]

Protocol = Literal["auto", "jsonrpc", "json2"]
#: The first series that serves JSON-2.
JSON2_SINCE = 19


def make_transport(
    *,
    url: str,
    db: str,
    login: str,
    secret: str,
    api_key: str | None,
    protocol: Protocol,
    timeout: float,
    http: httpx.BaseTransport | None = None,
) -> OdooTransport:
    """The transport ``protocol`` asks for (``auto``: decided at login from the server's version)."""
    if protocol == "json2":
        if not api_key:
            raise ConfigError("COPILOT_ODOO_PROTOCOL=json2 needs an API key (COPILOT_ODOO_API_KEY)")
        return Json2Transport(url=url, db=db, api_key=api_key, timeout=timeout, http=http)
    rpc = OdooRPCTransport(url=url, db=db, login=login, secret=secret, timeout=timeout)
    if protocol == "jsonrpc" or not api_key:
        return rpc
    return AutoTransport(rpc, Json2Transport(url=url, db=db, api_key=api_key, timeout=timeout, http=http))


class AutoTransport:
    """JSON-2 when the server is Odoo 19 or newer, else JSON-RPC: chosen once, at login."""

    def __init__(self, jsonrpc: OdooTransport, json2: Json2Transport) -> None:
        self._jsonrpc = jsonrpc
        self._json2 = json2
        self._chosen: OdooTransport | None = None

    @property
    def protocol(self) -> str:
        """``json2`` or ``jsonrpc`` once logged in (``auto`` before)."""
        return str(getattr(self._chosen, "protocol", "auto"))

    def login(self) -> int:
        """Ask the version, pick the transport, log in through it."""
        if parse_series(self._json2.server_version()) >= JSON2_SINCE:
            self._chosen = self._json2
        else:
            self._json2.close()
            self._chosen = self._jsonrpc
        return self._chosen.login()

    def server_version(self) -> Any:
        """The version the server reported."""
        return self._json2.server_version()

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Through the chosen transport."""
        if self._chosen is None:
            self.login()
        assert self._chosen is not None
        return self._chosen.execute_kw(model, method, args, kwargs)
