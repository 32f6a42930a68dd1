"""``GET /metrics`` in the Prometheus text format (0.0.4), from a small in-process registry.

Exposed: requests by method, route template and status; request latency histogram by route; webhook
events by source, type and outcome; each worker's health, and its counters when it keeps a ``stats``
mapping (e.g. processed, parked); dead letters still parked, by channel.

Access: clients on loopback need nothing (a Prometheus agent on the same host); any other client needs
a bearer token with the ``read`` scope (Prometheus ``authorization: {credentials: <token>}``). The client
is the direct peer, or, when the peer is a trusted proxy (``COPILOT_TRUSTED_PROXIES``, loopback by
default), the address its ``X-Forwarded-For``/``Forwarded`` names (``channels.http.client_address``): a
same-host reverse proxy that appends the address it saw does not make its clients local. A proxy that
passes a client's header on unchanged must not be listed as trusted.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from channels.http.auth import Scope
from channels.http.client_address import TrustedProxies, client_host, is_loopback

__all__ = ["BUCKETS", "Metrics", "MetricsMiddleware", "router"]

#: Latency histogram buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

ASGIScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[ASGIScope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def _labels(**labels: str) -> str:
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"'
        for k, v in labels.items()
    )
    return "{" + inner + "}"


class Metrics:
    """Counters and a histogram, thread-safe; ``render`` writes the exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.webhooks: dict[tuple[str, str, str], int] = defaultdict(int)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            buckets = self.latency.setdefault(route, [0] * len(BUCKETS))
            index = bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                buckets[index] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1

    def webhook(self, source: str, type_: str, outcome: str) -> None:
        """Count one webhook event (outcome: done, parked, duplicate, refused)."""
        with self._lock:
            self.webhooks[(source, type_, outcome)] += 1

    def render(self, workers: list[Any] = (), parked: dict[str, int] | None = None) -> str:  # type: ignore[assignment]
        """The exposition text."""
        out: list[str] = []
        with self._lock:
            out += [
                "# HELP copilot_http_requests_total HTTP requests by method, route template and status.",
                "# TYPE copilot_http_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f"copilot_http_requests_total{_labels(method=method, route=route, status=status)} {n}")
            out += [
                "# HELP copilot_http_request_duration_seconds HTTP request latency by route template.",
                "# TYPE copilot_http_request_duration_seconds histogram",
            ]
            for route, buckets in sorted(self.latency.items()):
                running = 0
                for bound, n in zip(BUCKETS, buckets, strict=True):
                    running += n
                    out.append(
                        f"copilot_http_request_duration_seconds_bucket{_labels(route=route, le=f'{bound:g}')} {running}"
                    )
                count = self.latency_count[route]
                out.append(f"copilot_http_request_duration_seconds_bucket{_labels(route=route, le='+Inf')} {count}")
                out.append(
                    f"copilot_http_request_duration_seconds_sum{_labels(route=route)} {self.latency_sum[route]:.6f}"
                )
                out.append(f"copilot_http_request_duration_seconds_count{_labels(route=route)} {count}")
            out += [
                "# HELP copilot_webhook_events_total Inbound webhook events by source, type and outcome.",
                "# TYPE copilot_webhook_events_total counter",
            ]
            for (source, type_, outcome), n in sorted(self.webhooks.items()):
                out.append(f"copilot_webhook_events_total{_labels(source=source, type=type_, outcome=outcome)} {n}")
        out += ["# HELP copilot_worker_up 1 while the background worker is healthy.", "# TYPE copilot_worker_up gauge"]
        for worker in workers:
            out.append(f"copilot_worker_up{_labels(worker=worker.name)} {1 if _healthy(worker) else 0}")
        out += [
            "# HELP copilot_worker_items_total Items a background worker handled, by outcome.",
            "# TYPE copilot_worker_items_total counter",
        ]
        for worker in workers:
            stats = getattr(worker, "stats", None)
            if isinstance(stats, dict):
                for outcome, n in sorted(stats.items()):
                    if isinstance(n, int | float):
                        out.append(f"copilot_worker_items_total{_labels(worker=worker.name, outcome=str(outcome))} {n}")
        if parked is not None:
            out += [
                "# HELP copilot_deadletters_parked Dead letters waiting for a person.",
                "# TYPE copilot_deadletters_parked gauge",
            ]
            for channel, n in sorted(parked.items()):
                out.append(f"copilot_deadletters_parked{_labels(channel=channel)} {n}")
        return "\n".join(out) + "\n"


def _healthy(worker: Any) -> bool:
    try:
        return bool(worker.healthy())
    except Exception:
        return False


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

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
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
    response_class=PlainTextResponse,
    summary="Prometheus metrics (loopback, or a bearer token with the read scope)",
    responses={401: {"description": "Not on loopback and no valid token"}, 403: {"description": "Token lacks read"}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Requests, latency, webhook events, workers and dead letters in the Prometheus text format."""
    peer = request.client.host if request.client else None
    if not is_loopback(client_host(peer, request.headers, _trusted(request))):
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        client = request.app.state.tokens.find(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if client is None:
            raise HTTPException(401, "a bearer token is required off loopback", headers={"WWW-Authenticate": "Bearer"})
        if Scope.READ not in client.scopes:
            raise HTTPException(403, {"type": "insufficient_scope", "message": "this token lacks the scope 'read'"})
    state = request.app.state
    text = state.metrics.render(getattr(state, "workers", []), _parked(state))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
