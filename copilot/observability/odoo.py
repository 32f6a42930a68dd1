"""``TimedTransport``: any ``OdooTransport`` with each call's latency recorded by method and protocol, and a span
around each call when tracing is on."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace

from copilot.observability.metrics import CopilotMetrics
from copilot.observability.tracing import odoo_span

__all__ = ["TimedTransport", "protocol_of"]


def protocol_of(transport: Any) -> str:
    """The ``protocol`` label of a transport: its ``protocol`` attribute (every transport of ours names one), else
    its class name."""
    named = getattr(transport, "protocol", None)
    return named if isinstance(named, str) and named else type(transport).__name__


class TimedTransport:
    """Wraps a transport (``OdooRPCTransport``, a JSON-2 one) and times ``login`` and ``execute_kw``; with a
    ``tracer``, each call is a span ``odoo <method>`` (method, model, protocol) under the caller's span."""

    def __init__(
        self,
        inner: Any,
        metrics: CopilotMetrics,
        *,
        protocol: str | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.inner = inner
        self.metrics = metrics
        self.protocol = protocol or protocol_of(inner)
        self.tracer = tracer if tracer is not None else trace.NoOpTracer()

    def _timed(self, model: str | None, method: str, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            with odoo_span(self.tracer, model, method, self.protocol):
                result = call(*args)
            outcome = "ok"
            return result
        finally:
            self.metrics.odoo_call(method, self.protocol, outcome, time.perf_counter() - started)

    def login(self) -> int:
        """Authenticate through the wrapped transport, timed as method ``login``."""
        return int(self._timed(None, "login", self.inner.login))

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call through the wrapped transport, timed under the Odoo method name (the metric never names the model
        or ids; the span names the model, never the arguments)."""
        return self._timed(model, method, self.inner.execute_kw, model, method, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
