"""The FastAPI application: ``create_app(settings)``; the lifespan holds one Odoo session for all requests.

This module knows only the HTTP channel. ``copilot serve`` builds its app through ``channels.serve``, the process
assembly, which passes ``mount`` (the Slack route) and ``workers`` (the mailbox worker) in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from channels.http.auth import TokenTable
from channels.http.budget import SkillRunner
from channels.http.client_address import TrustedProxies
from channels.http.errors import ERROR_RESPONSES, install_error_handlers
from channels.http.idempotency import IdempotencyStore
from channels.http.limits import BodySizeLimit
from channels.http.metrics import StateCollector, instrument
from channels.http.metrics import router as metrics_router
from channels.http.routes import exceptions, health, proposals, skills, webhooks
from channels.http.routes.webhooks import EVENT_ADAPTER
from channels.http.tracing import trace_requests
from channels.http.webhook_events import EventLedger, parse_webhook_secrets
from channels.http.workers import Worker, build_workers, start_workers, stop_workers
from channels.worker.names import QUEUES
from copilot import __version__
from copilot.approvals import load_policy
from copilot.composition import new_metrics, open_root
from copilot.config import Settings, get_settings
from copilot.guardrails.log_redaction import install_log_redaction
from copilot.llm import build_chat_model, llm_callbacks
from copilot.observability.queues import queue_collector
from copilot.observability.tracing import Tracing, build_tracing
from copilot.service import Copilot, open_copilot
from copilot.state.database import Database, database_url

__all__ = ["Mount", "WorkerFactory", "create_app"]

#: Adds routes of another channel to the app (called once by ``create_app``), e.g. ``/slack/events``.
Mount = Callable[[FastAPI, Settings], None]
#: The background workers to host, built in the lifespan once the facade exists (not started).
WorkerFactory = Callable[[FastAPI, Settings, Copilot], list[Worker]]

log = logging.getLogger("channels.http")

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes (no token needed)."},
    {"name": "supplier emails", "description": "What a supplier's email changes on the purchase orders."},
    {"name": "issues", "description": "Helpdesk triage with calibrated confidence."},
    {"name": "drafts", "description": "Reply drafts grounded in Odoo; never sent."},
    {"name": "questions", "description": "Buyers' questions answered from Odoo with sources."},
    {"name": "proposals", "description": "Approval requests in Odoo: the copilot's only write."},
    {
        "name": "exceptions",
        "description": "What the scheduled controls found (late POs, tickets aging, approvals waiting...), "
        "acknowledged or snoozed by people.",
    },
    {
        "name": "webhooks",
        "description": "Signed inbound events (n8n, Odoo through a signing proxy): HMAC-SHA256, timestamp "
        "window, deduplicated by event id. No bearer token: the signature authenticates.",
    },
]

DESCRIPTION = """The copilot's skills over HTTP. Every `/v1` route needs `Authorization: Bearer <token>`
with the route's scope (`COPILOT_API_TOKENS`); every POST honours an `Idempotency-Key` header
(the stored response is replayed for 24 h, marked `Idempotent-Replayed: true`).
Errors are `{"error": {"type", "message"}}` (422 adds FastAPI's list under `error.detail`); a client over
its rate limit (`COPILOT_RATE_LIMIT_PER_MINUTE`) gets 429 with `Retry-After`.
Webhooks (`/v1/webhooks/{source}`) are authenticated by an HMAC signature instead of a token.
`/metrics` serves Prometheus metrics (loopback, or a token with the `read` scope)."""


def _own_workers(app: FastAPI, settings: Settings, copilot: Copilot) -> list[Worker]:
    """The workers the HTTP channel hosts on its own: the approval executor when configured."""
    return build_workers(settings, metrics=getattr(app.state, "metrics", None))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open Odoo (the sandbox without a URL), the stores and the ``Copilot``; start the workers.

    Shutdown (uvicorn runs it on SIGTERM once in-flight requests are done) stops the workers in reverse
    order, each finishing its item in flight, then closes the stores and the Odoo session.
    """
    settings: Settings = app.state.settings
    install_log_redaction()  # uvicorn's handlers exist by now: its loggers are redacted too
    async with AsyncExitStack() as stack:
        db: Database = app.state.db  # the one engine of this process: every store and the Slack channel
        stack.callback(db.close)
        await run_in_threadpool(db.upgrade)
        stack.callback(app.state.tracing.shutdown)  # flushes the spans last, after the root closed
        root = stack.enter_context(
            open_root(settings, llm=app.state.llm, db=db, metrics=app.state.metrics, tracing=app.state.tracing)
        )  # Odoo, stores, models
        copilot = stack.enter_context(open_copilot(settings, policy=app.state.policy, root=root))
        app.state.copilot = copilot
        app.state.odoo = odoo = copilot.odoo
        app.state.conversations = copilot.conversations
        app.state.idempotency = IdempotencyStore(db)
        app.state.webhook_events = EventLedger(db)
        app.state.deadletters = root.deadletters
        await run_in_threadpool(_open_heavy, app, settings)  # before "ready": no probe or request imports them
        app.state.task_queue = _task_queue(settings)
        if app.state.task_queue is not None:  # workers poll the mailbox and run the executor; this replica enqueues
            stack.callback(app.state.task_queue.close)
            workers = []
        else:
            workers = await run_in_threadpool(app.state.build_workers, app, settings, copilot)
        app.state.workers = await run_in_threadpool(start_workers, workers)
        stack.push_async_callback(_stop, app)
        names = ", ".join(w.name for w in app.state.workers) or "none"
        if app.state.chroma_error:
            log.error("HTTP API started on %s but not ready (/readyz 503): %s", odoo.label, app.state.chroma_error)
        else:
            log.info("HTTP API ready on %s; workers: %s", odoo.label, names)
        yield
        log.info("HTTP API stopping")


def _task_queue(settings: Settings) -> Any | None:
    """With ``COPILOT_REDIS_URL``: the queue to the Celery workers (this replica keeps no background work)."""
    if settings.redis_url is None or not settings.redis_url.get_secret_value().strip():
        return None
    from channels.worker.enqueue import TaskQueue

    log.info("COPILOT_REDIS_URL is set: webhook events, Slack events and mail go to the workers")
    return TaskQueue(settings)


def _open_heavy(app: FastAPI, settings: Settings) -> None:
    """Open the embedded Chroma store and load the embedding model now, not inside the first probe or request."""
    from copilot.retrieval.embeddings import LocalEmbedder
    from copilot.retrieval.store import RetrievalError, open_embedded_client

    started = time.monotonic()
    app.state.chroma_client = None
    app.state.chroma_error = None
    if settings.chroma_url is None:  # a Chroma server is checked over HTTP by /readyz; nothing to open here
        try:
            app.state.chroma_client = open_embedded_client(settings)
        except RetrievalError as exc:
            app.state.chroma_error = str(exc)
    embedder = app.state.copilot.components.embedder  # the root's: triage, search and the detector share it
    try:
        if isinstance(embedder, LocalEmbedder):
            embedder.load()
    except Exception as exc:  # a broken install: the deterministic answers still work, triage and search do not
        log.error("embedding model not loaded (%s): triage and knowledge search will fail", exc)
    log.info("Chroma and the embedding model opened in %.1f s", time.monotonic() - started)


async def _stop(app: FastAPI) -> None:
    started = time.monotonic()
    slack = getattr(app.state, "slack", None)
    if slack is not None:  # answers already acknowledged to Slack are finished and posted first
        log.info("Slack: finishing the answers in flight")
        await run_in_threadpool(slack.close)
    await run_in_threadpool(stop_workers, app.state.workers)
    app.state.workers = []
    app.state.skill_runner.close()
    log.info("HTTP API stopped cleanly in %.1f s", time.monotonic() - started)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's spec plus the webhook event union (the route reads its raw body to verify the signature)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            schema = EVENT_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["WebhookEvent"] = {"title": "WebhookEvent", **schema}
            app.openapi_schema = spec
        return app.openapi_schema

    return build


def create_app(
    settings: Settings | None = None,
    *,
    mounts: Sequence[Mount] = (),
    workers: WorkerFactory | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The API for ``settings`` (default: the process settings); bad tokens or policy raise ``ConfigError`` here.

    ``mounts`` add other channels' routes; ``workers`` builds the background workers (default: the executor);
    ``tracing`` replaces the one ``COPILOT_OTEL_EXPORTER`` gives (a test's in-memory exporter).
    """
    settings = settings or get_settings()
    tokens = TokenTable.from_settings(settings)
    if not len(tokens) and not tokens.allow_anonymous:
        log.warning("no COPILOT_API_TOKENS: every /v1 call will be refused (401)")
    elif tokens.allow_anonymous:
        log.warning("COPILOT_API_ALLOW_ANONYMOUS is on: calls without a token get every scope")
    app = FastAPI(
        title="Odoo Ops Copilot API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.tokens = tokens
    #: The database's engine (no connection yet); the lifespan migrates it and hands it to every store.
    app.state.db = Database(database_url(settings))
    app.state.trusted_proxies = TrustedProxies.parse(settings.trusted_proxies)
    app.state.policy = load_policy(settings.policy_file)
    #: This process's metrics (its own registry): the middleware, webhooks, executor, Odoo client and LLM record here.
    app.state.metrics = metrics = new_metrics(settings)
    metrics.registry.register(StateCollector(app.state))  # workers and dead letters, read at scrape time
    metrics.registry.register(queue_collector(settings, QUEUES))  # Celery queue lengths (with COPILOT_REDIS_URL)
    app.state.llm = build_chat_model(settings, callbacks=llm_callbacks(settings, metrics))
    app.state.webhook_secrets = parse_webhook_secrets(settings.webhook_secrets)
    app.state.workers = []
    app.state.build_workers = workers or _own_workers
    app.state.task_queue = None
    app.state.skill_runner = SkillRunner.from_settings(settings)
    # Body limits run before anything reads the body (before the token check too); metrics wrap them.
    app.add_middleware(
        BodySizeLimit,
        limits=[("/v1", settings.http_max_body_bytes), ("/slack/events", settings.slack_max_body_bytes)],
    )
    instrument(app, app.state.metrics)  # the outer middleware: it times the body limits too
    #: This process's tracing (off by default): each request a server span, parent of the facade's and Odoo's.
    app.state.tracing = tracing if tracing is not None else build_tracing(settings)
    trace_requests(app, app.state.tracing)  # outermost: the request's span is current for everything inside
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    v1 = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
    v1.include_router(skills.router)
    v1.include_router(proposals.router)
    v1.include_router(exceptions.router)
    app.include_router(v1)
    app.include_router(webhooks.router, prefix="/v1")
    for mount in mounts:
        mount(app, settings)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app
