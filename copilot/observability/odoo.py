"""``TimedTransport``: any ``OdooTransport`` with each call's latency recorded by method and protocol."""

from __future__ import annotations

import time
from typing import Any

from copilot.observability.metrics import CopilotMetrics

__all__ = ["TimedTransport", "protocol_of"]


def protocol_of(transport: Any) -> str:
    """The ``protocol`` label of a transport: its ``protocol`` attribute (every transport of ours names one), else
    its class name."""
    named = getattr(transport, "protocol", None)
    return named if isinstance(named, str) and named else type(transport).__name__


class TimedTransport:
    """Wraps a transport (``OdooRPCTransport``, a JSON-2 one) and times ``login`` and ``execute_kw``."""

    def __init__(self, inner: Any, metrics: CopilotMetrics, *, protocol: str | None = None) -> None:
        self.inner = inner
        self.metrics = metrics
        self.protocol = protocol or protocol_of(inner)

    def _timed(self, method: str, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = call(*args)
            outcome = "ok"
            return result
        finally:
            self.metrics.odoo_call(method, self.protocol, outcome, time.perf_counter() - started)

    def login(self) -> int:
        """Authenticate through the wrapped transport, timed as method ``login``."""
        return int(self._timed("login", self.inner.login))

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call through the wrapped transport, timed under the Odoo method name (never the model or ids)."""
        return self._timed(method, self.inner.execute_kw, model, method, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
