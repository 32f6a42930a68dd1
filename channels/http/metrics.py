"""``GET /metrics`` in the Prometheus text format, from the process's ``prometheus_client`` registry.

Exposed (``copilot.observability.CopilotMetrics``): requests by method, route template and status, and their
latency by route, timed by prometheus-fastapi-instrumentator (``instrument``); webhook events by source, type
and outcome; executor outcomes and the approval cycle time; Odoo API latency by method and protocol; chat
model latency, tokens and cost. Read at scrape time (``StateCollector``): each worker's health, its counters
when it keeps a ``stats`` mapping (e.g. processed, parked), its backlog when it has a ``backlog()`` (count,
age in seconds of the oldest item); dead letters still parked, by channel; with ``COPILOT_REDIS_URL``, the
length of each Celery queue (``copilot.observability.queues``).

Access: clients on loopback need nothing (a Prometheus agent on the same host); any other client needs
a bearer token with the ``read`` scope (Prometheus ``authorization: {credentials: <token>}``). The client
is the direct peer, or, when the peer is a trusted proxy (``COPILOT_TRUSTED_PROXIES``, loopback by
default), the address its ``X-Forwarded-For``/``Forwarded`` names (``channels.http.client_address``): a
same-host reverse proxy that appends the address it saw does not make its clients local. A proxy that
passes a client's header on unchanged must not be listed as trusted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info

from channels.http.auth import Scope
from channels.http.client_address import TrustedProxies, client_host, is_loopback
from copilot.observability import CopilotMetrics

__all__ = ["StateCollector", "instrument", "router"]


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


def _route(info: Info) -> str:
    """The request's route template (``/v1/proposals/{request_id}``): ``unmatched`` for no route, ``redirect`` for a
    path the router redirects (a trailing slash: the instrumentator names it by its raw path)."""
    handler = info.modified_handler
    if handler == "none":
        return "unmatched"
    if info.modified_status.startswith("3") and handler == info.request.scope.get("path"):
        return "redirect"
    return handler


def instrument(app: FastAPI, metrics: CopilotMetrics) -> None:
    """Time and count every HTTP request of ``app`` with prometheus-fastapi-instrumentator, into ``metrics``.

    The instrumentator resolves the route template (routers' prefixes included) and times the request; the
    numbers go to the process's own registry under the copilot's names (``copilot_http_requests_total``,
    ``copilot_http_request_duration_seconds``), never to prometheus_client's global registry.
    """

    def record(info: Info) -> None:
        metrics.request(info.method, _route(info), int(info.modified_status), info.modified_duration)

    instrumentator = Instrumentator(
        should_group_status_codes=False, should_group_untemplated=True, registry=metrics.registry
    )
    instrumentator.add(record).instrument(app)


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
