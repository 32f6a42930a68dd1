"""``GET /metrics`` in the Prometheus text format, from the process's ``prometheus_client`` registry.

Exposed (``copilot.observability.CopilotMetrics``): requests by method, route template and status; request
latency histogram by route; webhook events by source, type and outcome; executor outcomes and the approval
cycle time; Odoo API latency by method and protocol; chat model latency and tokens. Read at scrape time
(``StateCollector``): each worker's health, its counters when it keeps a ``stats`` mapping (e.g. processed,
parked), its backlog when it has a ``backlog()`` (count, age in seconds of the oldest item); dead letters
still parked, by channel.

Access: clients on loopback need nothing (a Prometheus agent on the same host); any other client needs
a bearer token with the ``read`` scope (Prometheus ``authorization: {credentials: <token>}``). The client
is the direct peer, or, when the peer is a trusted proxy (``COPILOT_TRUSTED_PROXIES``, loopback by
default), the address its ``X-Forwarded-For``/``Forwarded`` names (``channels.http.client_address``): a
same-host reverse proxy that appends the address it saw does not make its clients local. A proxy that
passes a client's header on unchanged must not be listed as trusted.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from channels.http.auth import Scope
from channels.http.client_address import TrustedProxies, client_host, is_loopback
from copilot.observability import CopilotMetrics

__all__ = ["MetricsMiddleware", "StateCollector", "router"]

ASGIScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[ASGIScope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class StateCollector(Collector):
    """Workers and dead letters of an app, read when Prometheus scrapes (``state`` is ``app.state``)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """The worker and dead-letter families (empty families when there is nothing to report)."""
        workers = list(getattr(self.state, "workers", []) or [])
        up = GaugeMetricFamily("copilot_worker_up", "1 while the background worker is healthy.", labels=["worker"])
        items = CounterMetricFamily(
            "copilot_worker_items", "Items a background worker handled, by outcome.", labels=["worker", "outcome"]
        )
        backlog = GaugeMetricFamily(
            "copilot_worker_backlog", "Items a worker has seen and not yet finished (e.g. mail).", labels=["worker"]
        )
        age = GaugeMetricFamily(
            "copilot_worker_backlog_age_seconds",
            "Seconds since the worker first saw its oldest unfinished item (0: none).",
            labels=["worker"],
        )
        for worker in workers:
            up.add_metric([worker.name], 1 if _healthy(worker) else 0)
            stats = getattr(worker, "stats", None)
            if isinstance(stats, dict):
                for outcome, n in sorted(stats.items()):
                    if isinstance(n, int | float):
                        items.add_metric([worker.name, str(outcome)], n)
            pending = _backlog(worker)
            if pending is not None:
                backlog.add_metric([worker.name], pending[0])
                age.add_metric([worker.name], pending[1])
        parked = GaugeMetricFamily(
            "copilot_deadletters_parked", "Dead letters waiting for a person.", labels=["channel"]
        )
        for channel, n in sorted((_parked(self.state) or {}).items()):
            parked.add_metric([channel], n)
        yield from (up, items, backlog, age, parked)


def _healthy(worker: Any) -> bool:
    try:
        return bool(worker.healthy())
    except Exception:
        return False


def _backlog(worker: Any) -> tuple[int, float] | None:
    method = getattr(worker, "backlog", None)
    if not callable(method):
        return None
    try:
        count, age = method()
        return int(count), float(age)
    except Exception:
        return None


def route_template(scope: ASGIScope) -> str:
    """The matched route's full template (``/v1/proposals/{request_id}``), or ``unmatched`` (never the raw path).

    An included router's route knows only its own part of the template; the prefix is the same number
    of leading segments of the requested path (path parameters never span a ``/`` here).
    """
    suffix = getattr(scope.get("route"), "path", None)
    if not suffix:
        return "unmatched"
    path = scope.get("path", "")
    taken = len([s for s in suffix.split("/") if s])
    segments = [s for s in path.split("/") if s]
    prefix = segments[: max(0, len(segments) - taken)]
    return ("/" + "/".join(prefix) if prefix else "") + suffix


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template (``/v1/proposals/{request_id}``)."""

    def __init__(self, app: ASGIApp, metrics: CopilotMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(
        self, scope: ASGIScope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.request(
                scope.get("method", "?"), route_template(scope), status[0], time.perf_counter() - started
            )


router = APIRouter(tags=["health"])


def _trusted(request: Request) -> TrustedProxies:
    trusted: TrustedProxies = request.app.state.trusted_proxies  # parsed once by create_app
    return trusted


def _parked(state: Any) -> dict[str, int] | None:
    store = getattr(state, "deadletters", None)
    if store is None:
        return None
    counts: dict[str, int] = defaultdict(int)
    try:
        for letter in store.list(status="parked", limit=100_000):
            counts[letter.channel] += 1
    except Exception:
        return None
    return dict(counts)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (loopback, or a bearer token with the read scope)",
    responses={401: {"description": "Not on loopback and no valid token"}, 403: {"description": "Token lacks read"}},
)
def metrics(request: Request) -> Response:
    """The process's registry (HTTP, webhooks, executor, Odoo, LLM, workers, dead letters) as Prometheus text."""
    peer = request.client.host if request.client else None
    if not is_loopback(client_host(peer, request.headers, _trusted(request))):
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        client = request.app.state.tokens.find(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if client is None:
            raise HTTPException(401, "a bearer token is required off loopback", headers={"WWW-Authenticate": "Bearer"})
        if Scope.READ not in client.scopes:
            raise HTTPException(403, {"type": "insufficient_scope", "message": "this token lacks the scope 'read'"})
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))  # OpenMetrics when asked for
    return Response(encoder(request.app.state.metrics.registry), media_type=content_type)
