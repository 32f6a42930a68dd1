"""OpenTelemetry traces: one HTTP request gives the chain channel (HTTP server span) -> facade use case ->
skill run -> each Odoo call, on the process's own tracer provider (never the global one); Odoo spans carry
the method, the model and the protocol, never argument values; the exporter is off by default, and asking
for OTLP without its package fails with a clear message. Socket-free: the embedded sandbox, in-process app."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from channels.http import create_app
from copilot.config import Settings
from copilot.errors import ConfigError
from copilot.observability.tracing import Tracing, build_tracing

OPS = "ops-token-0123456789abcdefghij"
SECRET_QUESTION = "Which purchase orders are late? sesame-4711"


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        api_tokens=SecretStr(f"ops:{OPS}:*"),
        injection_embeddings=False,  # no model load: the rules alone
        **kw,
    )  # type: ignore[arg-type]


def _in_memory() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def _parent(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)


def _chain(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    names = [span.name]
    parent = _parent(span, spans)
    while parent is not None:
        names.append(parent.name)
        parent = _parent(parent, spans)
    return names


def test_one_http_request_is_one_trace_from_the_channel_through_the_facade_and_skill_to_odoo(tmp_path: Path) -> None:
    tracing, exporter = _in_memory()
    app = create_app(_settings(tmp_path), tracing=tracing)
    with TestClient(app) as client:
        exporter.clear()  # the lifespan's own Odoo calls (login, schema) are not the request's
        response = client.post(
            "/v1/questions?note=sesame-4712",  # a query string is not recorded either
            json={"question": SECRET_QUESTION},
            headers={"Authorization": f"Bearer {OPS}"},
        )
        assert response.status_code == 200, response.text
    spans = list(exporter.get_finished_spans())
    odoo = [s for s in spans if s.name.startswith("odoo ")]
    assert odoo, f"no Odoo span among {[s.name for s in spans]}"
    assert len({s.context.trace_id for s in spans}) == 1, "the request's spans are not one trace"
    chain = _chain(odoo[0], spans)
    assert chain[1:4] == ["skill ask", "copilot ask", "POST /v1/questions"], chain
    server = next(s for s in spans if s.name == "POST /v1/questions")
    assert server.parent is None
    facade = next(s for s in spans if s.name == "copilot ask")
    assert facade.attributes is not None
    assert facade.attributes["copilot.use_case"] == "ask"
    assert facade.attributes["copilot.channel"] == "http"
    for span in odoo:
        attributes = dict(span.attributes or {})
        assert attributes["rpc.system"] == "odoo"
        assert attributes["odoo.protocol"] == "jsonrpc"
        assert attributes["rpc.method"] == span.name.split(" ")[1]
        assert attributes["rpc.method"] == "login" or attributes["odoo.model"]
    every_value = " ".join(str(v) for s in spans for v in (s.attributes or {}).values())
    every_value += " ".join(e.name + str(dict(e.attributes or {})) for s in spans for e in s.events)
    assert "sesame" not in every_value and "purchase orders are" not in every_value  # no untrusted text, no arguments


def test_a_failed_odoo_call_marks_its_span_as_an_error() -> None:
    from opentelemetry.trace import StatusCode

    from copilot.errors import OdooServerError
    from copilot.observability import CopilotMetrics
    from copilot.observability.odoo import TimedTransport

    class Inner:
        protocol = "json2"

        def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
            raise OdooServerError("refused", model=model, method=method)

    tracing, exporter = _in_memory()
    transport = TimedTransport(Inner(), CopilotMetrics(), tracer=tracing.tracer)
    with pytest.raises(OdooServerError):
        transport.execute_kw("purchase.order", "write", [[1], {"partner_ref": "secret-ref"}], {})
    (span,) = exporter.get_finished_spans()
    assert span.name == "odoo write"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {}) == {
        "rpc.system": "odoo",
        "rpc.method": "write",
        "odoo.model": "purchase.order",
        "odoo.protocol": "json2",
    }


def test_tracing_is_off_by_default_and_the_console_exporter_can_be_chosen(tmp_path: Path) -> None:
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    off = build_tracing(Settings(data_dir=tmp_path))
    assert off.provider is None and not off.enabled
    with off.tracer.start_as_current_span("x") as span:
        assert not span.is_recording()
    console = build_tracing(Settings(data_dir=tmp_path, otel_exporter="console"))
    try:
        assert console.enabled
        exporters = [p.span_exporter for p in console.provider._active_span_processor._span_processors]  # type: ignore[union-attr]
        assert any(isinstance(e, ConsoleSpanExporter) for e in exporters)
    finally:
        console.shutdown()


def test_otlp_without_its_package_is_a_clear_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_otlp(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry.exporter.otlp"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otlp)
    with pytest.raises(ConfigError, match=r"COPILOT_OTEL_EXPORTER=otlp.*opentelemetry-exporter-otlp"):
        build_tracing(Settings(data_dir=tmp_path, otel_exporter="otlp"))


def test_an_unknown_exporter_is_refused_at_start_up() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(otel_exporter="jaeger")  # type: ignore[arg-type]
