"""Mount the Slack app on the FastAPI application: ``POST /slack/events`` for events, commands and clicks.

The route only translates (Starlette request -> ``BoltRequest`` -> Bolt -> Starlette response); Bolt's
dispatch runs in the thread pool so a slow first ``auth.test`` never blocks the event loop. When Bolt
refuses a request (401) the route logs one warning with the reason (unsigned, stale, bad signature),
never the body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from channels.slack.app import SlackChannel
from copilot.config import Settings
from copilot.service import Copilot
from copilot.state import Database, DeadLetterStore

__all__ = ["EVENTS_PATH", "mount_slack", "refusal_reason"]

log = logging.getLogger("channels.slack")

EVENTS_PATH = "/slack/events"
#: Slack's replay window: a signature older (or newer) than this is refused.
MAX_SKEW_SECONDS = 300


def refusal_reason(headers: Mapping[str, str], body: bytes, signing_secret: str, *, now: float | None = None) -> str:
    """Why a Slack request fails verification, in a few words for the log (no content)."""
    signature = headers.get("x-slack-signature")
    stamp = headers.get("x-slack-request-timestamp")
    if not signature or not stamp:
        return "unsigned (no X-Slack-Signature or X-Slack-Request-Timestamp)"
    try:
        age = (now if now is not None else time.time()) - int(stamp)
    except ValueError:
        return "malformed X-Slack-Request-Timestamp"
    if abs(age) > MAX_SKEW_SECONDS:
        return f"stale timestamp ({int(age)} s from now; the window is {MAX_SKEW_SECONDS} s)"
    expected = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    if expected != signature:
        return "signature mismatch (tampered body or wrong signing secret)"
    return "refused by Bolt"


def _enqueue(app: FastAPI) -> Callable[[str, dict[str, Any]], Any]:
    """Hand an acknowledged event to the workers through the app's task queue (opened by the lifespan)."""

    def enqueue(kind: str, body: dict[str, Any]) -> Any:
        queue = getattr(app.state, "task_queue", None)
        if queue is None:
            raise RuntimeError("no task queue in this process")
        return queue.slack(kind, body)

    return enqueue


def mount_slack(
    app: FastAPI,
    settings: Settings,
    get_copilot: Callable[[], Copilot] | None = None,
    *,
    db: Database,
    deadletters: DeadLetterStore | None = None,
    path: str = EVENTS_PATH,
) -> SlackChannel:
    """Add ``POST {path}`` for the Slack app; the ``Copilot`` comes from ``app.state.copilot`` by default.

    ``db``: the process's database (the composition root's) for the channel's state.

    Returns the channel (also ``app.state.slack``): call ``close()`` on shutdown to let running work finish.
    """
    channel = SlackChannel(
        settings,
        get_copilot or (lambda: app.state.copilot),
        db=db,
        deadletters=deadletters,
        enqueue=_enqueue(app) if settings.redis_url is not None else None,
        # A scaled-out replica (restarted and added under load) asks auth.test once at start-up, so the burst
        # that reaches it first does not wait on Slack before its acks; a single process asks on its first request.
        verify_token=settings.redis_url is not None,
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app.state.slack = channel

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(channel.bolt.dispatch, to_bolt_request(request, body))
        if bolt_response.status == 401:
            reason = refusal_reason(request.headers, body, secret)
            client = request.client.host if request.client else "?"
            log.warning("Slack request refused with 401 from %s: %s", client, reason)
        return to_starlette_response(bolt_response)

    app.add_api_route(path, slack_events, methods=["POST"], include_in_schema=False, name="slack_events")
    return channel
