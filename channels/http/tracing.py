"""``trace_requests``: a server span per HTTP request (OpenTelemetry's FastAPI instrumentation) on the process's
own tracer provider, the parent of the facade's, the skill's and the Odoo calls' spans.

The span is named ``<METHOD> <route template>``; the ASGI ``receive``/``send`` sub-spans are left out, and the
URL is recorded without its query string. Nothing is done when tracing is off (``COPILOT_OTEL_EXPORTER=none``,
the default).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from copilot.observability.tracing import Tracing

__all__ = ["trace_requests"]


def trace_requests(app: FastAPI, tracing: Tracing) -> None:
    """Instrument ``app`` with ``tracing``'s provider (never the global one); nothing when tracing is off."""
    if tracing.provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.metrics import NoOpMeterProvider

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracing.provider,
        meter_provider=NoOpMeterProvider(),  # HTTP metrics are prometheus_client's (channels.http.metrics)
        exclude_spans=["receive", "send"],
        server_request_hook=_without_query,
    )


def _without_query(span: Any, scope: dict[str, Any]) -> None:
    """Record the URL without its query string (the route's path is enough to follow a request)."""
    if span is not None and span.is_recording():
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}")
