"""Every metric the copilot exposes, registered on one ``prometheus_client.CollectorRegistry``.

No metric lives at module level: the composition root (``copilot.composition.Root.metrics``) or the HTTP app
builds one ``CopilotMetrics`` per process and passes it to whatever records (the HTTP middleware, the
webhook route, the executor, the Odoo transport, the chat model's callback); a test builds its own.
Names are stable: dashboards (``ops/grafana/copilot.json``) and alert rules (``ops/prometheus/alerts.yml``)
use them, and a test checks that every name they reference is registered here.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram

from copilot.config import LLMPrice

__all__ = ["HTTP_BUCKETS", "CopilotMetrics"]

_FREE = LLMPrice()

#: Latency buckets in seconds (HTTP requests, Odoo calls).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: LLM call buckets in seconds.
LLM_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
#: Approval cycle buckets in seconds: a minute to a week.
CYCLE_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0)


class CopilotMetrics:
    """The process's metrics on ``registry`` (a fresh ``CollectorRegistry`` when none is given).

    ``llm_prices`` (``COPILOT_LLM_PRICES``) turns each call's tokens into ``copilot_llm_cost_usd_total``; a model
    it does not list costs 0 (a local model).
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, llm_prices: Mapping[str, LLMPrice] | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.llm_prices = dict(llm_prices or {})
        r = self.registry
        self.http_requests = Counter(
            "copilot_http_requests", "HTTP requests by method, route template and status.",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self.http_latency = Histogram(
            "copilot_http_request_duration_seconds", "HTTP request latency by route template.",
            ["route"], buckets=HTTP_BUCKETS, registry=r,
        )  # fmt: skip
        self.webhook_events = Counter(
            "copilot_webhook_events", "Inbound webhook events by source, type and outcome.",
            ["source", "type", "outcome"], registry=r,
        )  # fmt: skip
        self.executor_outcomes = Counter(
            "copilot_executor_outcomes",
            "Approval requests the executor handled, by action type and result "
            "(executed, failed, reconciled_executed, reconciled_failed, expired, skipped).",
            ["action_type", "result"], registry=r,
        )  # fmt: skip
        self.approval_cycle = Histogram(
            "copilot_approval_cycle_seconds",
            "Time from an approval request's creation to its approval, by action type.",
            ["action_type"], buckets=CYCLE_BUCKETS, registry=r,
        )  # fmt: skip
        self.odoo_latency = Histogram(
            "copilot_odoo_request_duration_seconds", "Odoo API calls by method, protocol and outcome (ok, error).",
            ["method", "protocol", "outcome"], buckets=HTTP_BUCKETS, registry=r,
        )  # fmt: skip
        self.llm_latency = Histogram(
            "copilot_llm_request_duration_seconds", "Chat model calls by model and outcome (ok, error).",
            ["model", "outcome"], buckets=LLM_BUCKETS, registry=r,
        )  # fmt: skip
        self.llm_tokens = Counter(
            "copilot_llm_tokens", "Tokens the chat model used, by model and kind (prompt, completion).",
            ["model", "kind"], registry=r,
        )  # fmt: skip
        self.llm_cost = Counter(
            "copilot_llm_cost_usd", "What the chat model's calls cost in US dollars (tokens x COPILOT_LLM_PRICES).",
            ["model"], registry=r,
        )  # fmt: skip

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished HTTP request."""
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_latency.labels(route=route).observe(seconds)

    def webhook(self, source: str, type_: str, outcome: str) -> None:
        """Count one webhook event (outcome: done, parked, duplicate, refused)."""
        self.webhook_events.labels(source=source, type=type_, outcome=outcome).inc()

    def executor_outcome(self, action_type: str, result: str) -> None:
        """Count one request the executor handled."""
        self.executor_outcomes.labels(action_type=action_type or "unknown", result=result).inc()

    def approval_cycle_time(self, action_type: str, seconds: float) -> None:
        """Observe one request's time from creation to approval."""
        self.approval_cycle.labels(action_type=action_type or "unknown").observe(max(0.0, seconds))

    def odoo_call(self, method: str, protocol: str, outcome: str, seconds: float) -> None:
        """Observe one Odoo API call."""
        self.odoo_latency.labels(method=method, protocol=protocol, outcome=outcome).observe(seconds)

    def llm_call(self, model: str, outcome: str, seconds: float, prompt_tokens: int, completion_tokens: int) -> None:
        """Observe one chat model call and count its tokens."""
        self.llm_latency.labels(model=model, outcome=outcome).observe(seconds)
        if prompt_tokens:
            self.llm_tokens.labels(model=model, kind="prompt").inc(prompt_tokens)
        if completion_tokens:
            self.llm_tokens.labels(model=model, kind="completion").inc(completion_tokens)
        price = self.price(model)
        self.llm_cost.labels(model=model).inc(
            (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1e6
        )

    def price(self, model: str) -> LLMPrice:
        """``model``'s price per million tokens (zero when the table does not list it)."""
        return self.llm_prices.get(model, _FREE)
