"""The FastAPI application: ``create_app(settings)``; the lifespan holds one Odoo session for all requests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from channels.http.auth import TokenTable
from channels.http.errors import ERROR_RESPONSES, install_error_handlers
from channels.http.idempotency import IdempotencyStore
from channels.http.routes import health, proposals, skills
from copilot import __version__
from copilot.approvals import load_policy
from copilot.config import Settings, get_settings
from copilot.llm import build_chat_model
from copilot.runtime import odoo_session
from copilot.state import ConversationStore

__all__ = ["create_app"]

log = logging.getLogger("channels.http")

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes (no token needed)."},
    {"name": "supplier emails", "description": "What a supplier's email changes on the purchase orders."},
    {"name": "issues", "description": "Helpdesk triage with calibrated confidence."},
    {"name": "drafts", "description": "Reply drafts grounded in Odoo; never sent."},
    {"name": "questions", "description": "Buyers' questions answered from Odoo with sources."},
    {"name": "proposals", "description": "Approval requests in Odoo: the copilot's only write."},
]

DESCRIPTION = """The copilot's skills over HTTP. Every `/v1` route needs `Authorization: Bearer <token>`
with the route's scope (`COPILOT_API_TOKENS`); every POST honours an `Idempotency-Key` header
(the stored response is replayed for 24 h, marked `Idempotent-Replayed: true`).
Errors are `{"error": {"type", "message"}}` (422 adds FastAPI's list under `error.detail`)."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the Odoo session (the embedded sandbox without an Odoo URL) and the local stores; close on exit."""
    settings: Settings = app.state.settings
    with ExitStack() as stack:
        odoo = stack.enter_context(odoo_session(settings))
        app.state.odoo = odoo
        conversations = ConversationStore.from_settings(settings)
        stack.callback(conversations.close)
        app.state.conversations = conversations
        idempotency = IdempotencyStore.from_settings(settings)
        stack.callback(idempotency.close)
        app.state.idempotency = idempotency
        app.state.triager = None
        log.info("HTTP API ready on %s", odoo.label)
        yield
        log.info("HTTP API stopping")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: the process settings); bad tokens or policy raise ``ConfigError`` here."""
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
    app.state.policy = load_policy(settings.policy_file)
    app.state.llm = build_chat_model(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    v1 = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
    v1.include_router(skills.router)
    v1.include_router(proposals.router)
    app.include_router(v1)
    return app
