"""OpenTelemetry traces of one request: channel (HTTP server span) -> facade use case -> skill -> each Odoo call.

``Tracing`` holds a process's own ``TracerProvider`` (never OpenTelemetry's global one, like the metrics'
registry): the composition root builds it from ``COPILOT_OTEL_EXPORTER`` (``build_tracing``) and hands its
tracer to the facade and the Odoo transport; the HTTP app instruments FastAPI with the same provider. Off by
default: no provider, a no-op tracer, nothing recorded or sent. Spans carry names and identifiers only (the use
case, the channel, the skill, the Odoo method, model and protocol), never arguments or untrusted text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from copilot.config import Settings
from copilot.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["TRACER_NAME", "Tracing", "build_tracing", "odoo_span", "span"]

#: The instrumentation scope of the copilot's own spans.
TRACER_NAME = "copilot"


class Tracing:
    """A process's tracer provider (None: tracing off) and the tracer the copilot's spans come from."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider
        self.tracer: trace.Tracer = provider.get_tracer(TRACER_NAME) if provider is not None else trace.NoOpTracer()

    @property
    def enabled(self) -> bool:
        """True when spans are recorded and exported."""
        return self.provider is not None

    def shutdown(self) -> None:
        """Flush and close the exporter (nothing when off)."""
        if self.provider is not None:
            self.provider.shutdown()


def build_tracing(settings: Settings, *, exporter: SpanExporter | None = None) -> Tracing:
    """Tracing for ``settings.otel_exporter`` (``none``: off), or onto ``exporter`` when one is given (tests).

    ``otlp`` needs the package opentelemetry-exporter-otlp-proto-grpc (endpoint and headers from the standard
    ``OTEL_EXPORTER_OTLP_*`` variables); without it this raises ``ConfigError`` saying so.
    """
    if exporter is None:
        if settings.otel_exporter == "none":
            return Tracing(None)
        exporter = _exporter(settings.otel_exporter)
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))
    # The console prints each span as it ends (a person reads it); a collector gets batches in the background.
    processor = SimpleSpanProcessor if settings.otel_exporter == "console" else BatchSpanProcessor
    provider.add_span_processor(processor(exporter))
    return Tracing(provider)


def _exporter(kind: str) -> SpanExporter:
    if kind == "console":
        import sys

        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(out=sys.stderr)  # stdout is the commands' output (--json)
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigError(
            "COPILOT_OTEL_EXPORTER=otlp needs the package opentelemetry-exporter-otlp-proto-grpc "
            "(pip install opentelemetry-exporter-otlp-proto-grpc), or set COPILOT_OTEL_EXPORTER=console or none"
        ) from None
    return OTLPSpanExporter()


@contextmanager
def span(tracer: trace.Tracer, name: str, attributes: dict[str, str], *, kind: Any = None) -> Iterator[Any]:
    """A span that, on an exception, is marked as an error naming only the exception's type (its message may
    quote untrusted text or an argument, so no exception event is recorded)."""
    options: dict[str, Any] = {"attributes": attributes, "record_exception": False, "set_status_on_exception": False}
    if kind is not None:
        options["kind"] = kind
    with tracer.start_as_current_span(name, **options) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
            raise


@contextmanager
def odoo_span(tracer: trace.Tracer, model: str | None, method: str, protocol: str) -> Iterator[Any]:
    """A client span ``odoo <method>`` around one Odoo call: method, model and protocol, never the arguments."""
    attributes = {"rpc.system": "odoo", "rpc.method": method, "odoo.protocol": protocol}
    if model:
        attributes["odoo.model"] = model
    with span(tracer, f"odoo {method}", attributes, kind=trace.SpanKind.CLIENT) as current:
        yield current
