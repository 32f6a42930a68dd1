"""Inbound webhooks: ``POST /v1/webhooks/{source}`` from n8n, a signing proxy in front of Odoo, other tools.

Authentication is the sender's HMAC signature, not a bearer token: each source has its own secret in
``COPILOT_WEBHOOK_SECRETS`` and signs ``"<timestamp>.<raw body>"`` (``copilot.guardrails.signatures``).
Unsigned, stale (outside ``COPILOT_WEBHOOK_TOLERANCE``), tampered calls and unknown sources get the same
401 and a WARNING log line naming the source and the reason (never the body). Each event has an id
(``X-Copilot-Event-Id``); a second call with that id, or the same signed request again, answers 200
``{"status": "duplicate"}`` and does nothing, unless the replica that first accepted it died before
queueing it: a retry ``QUEUE_GRACE_SECONDS`` later takes it over and queues it. Bodies over 1 MB get
413. See ``channels/http/README.md``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from channels.http.auth import Scope
from channels.http.budget import SkillRunner
from channels.http.deps import require
from channels.http.schemas import (
    ApprovalApproved,
    CarrierStatusChanged,
    ErrorResponse,
    PurchaseOrderDateChanged,
    QuestionAsked,
    SupplierEmailReceived,
    TicketCreated,
    WebhookAccepted,
    WebhookEvent,
)
from channels.http.webhook_events import EventLedger
from copilot.application import ServiceClient
from copilot.email import parse_email
from copilot.errors import CopilotError
from copilot.guardrails.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify_signature
from copilot.observability import CopilotMetrics
from copilot.skills.carrier_status import CarrierUpdate
from copilot.skills.triage import TriageInput

__all__ = ["EVENT_ADAPTER", "MAX_WEBHOOK_BODY", "router", "run_event"]

log = logging.getLogger("channels.http.webhooks")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

#: Largest accepted body, in bytes.
MAX_WEBHOOK_BODY = 1024 * 1024
EVENT_ID_HEADER = "X-Copilot-Event-Id"
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(WebhookEvent)
_EVENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_REFUSED = "invalid or missing webhook signature"


def _printable(value: str) -> str:
    """An attacker-chosen path segment, safe for one log line."""
    return repr(value[:64])


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_WEBHOOK_BODY:
        raise HTTPException(413, f"the body is over {MAX_WEBHOOK_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BODY:
            raise HTTPException(413, f"the body is over {MAX_WEBHOOK_BODY} bytes")
    return bytes(body)


def _refuse(request: Request, source: str, reason: str) -> HTTPException:
    client = request.client.host if request.client else "?"
    log.warning("webhook from %s refused: %s (client %s)", _printable(source), reason, client)
    metrics: CopilotMetrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.webhook(source if source in request.app.state.webhook_secrets else "unknown", "-", "refused")
    return HTTPException(401, _REFUSED)


def _actor(source: str) -> ServiceClient:
    """The webhook source whose signature was verified, as the facade's principal."""
    return ServiceClient.webhook(source)


def run_event(copilot: Any, source: str, event: Any, *, wake: Callable[[], bool] | None = None) -> Any:
    """Do what the event asks through the facade; returns a JSON-able result (skill errors propagate).

    ``wake`` wakes this process's executor (False when none runs here); replays from the CLI pass none.
    """
    actor = _actor(source)
    if isinstance(event, TicketCreated):
        return copilot.classify(actor, TriageInput(ticket_id=event.ticket_id))
    if isinstance(event, SupplierEmailReceived):
        # a JSON string is Unicode: its 8-bit text is parsed as the UTF-8 it arrived in (a str would be mojibake)
        return copilot.ingest_supplier_email(actor, parse_email(event.raw.encode("utf-8", "replace")))
    if isinstance(event, PurchaseOrderDateChanged):  # re-score the orders that PO feeds, and tell their owners now
        return copilot.run_control(actor, "orders_at_risk", scope={"purchase_orders": [event.purchase_order]})
    if isinstance(event, CarrierStatusChanged):
        return copilot.carrier_status(actor, CarrierUpdate.model_validate(event.model_dump(exclude={"type"})))
    if isinstance(event, QuestionAsked):
        return copilot.ask(actor, event.text)
    if isinstance(event, ApprovalApproved):
        if wake is None or not wake():
            return {"woken": False, "detail": "no executor runs in this process; it picks the request up at its poll"}
        return {"woken": True, "request_id": event.request_id}
    raise AssertionError(f"unhandled event {event!r}")  # pragma: no cover - the union is exhaustive


def _run(app_state: Any, source: str, event: Any) -> Any:
    executor = next((w for w in app_state.workers if w.name == "executor"), None)
    queue = getattr(app_state, "task_queue", None)

    def wake() -> bool:
        if queue is not None:  # scale-out: a worker runs the executor
            return bool(queue.wake_executor())
        if executor is None:
            return False
        executor.wake()  # type: ignore[attr-defined]
        return True

    return run_event(app_state.copilot, source, event, wake=wake)


def process_event(app_state: Any, source: str, event_id: str, event: Any, body: bytes) -> Any:
    """Run one event and record its outcome; a failure is recorded and parked as a dead letter."""
    ledger: EventLedger = app_state.webhook_events
    metrics: CopilotMetrics | None = getattr(app_state, "metrics", None)
    runner: SkillRunner | None = getattr(app_state, "skill_runner", None)
    try:
        if runner is None:
            result = jsonable_encoder(_run(app_state, source, event))
        else:  # under the skill budget: past it the event is recorded as failed and parked for a replay
            result = jsonable_encoder(runner.call(f"webhook {source} {event.type}", _run, app_state, source, event))
    except Exception as exc:
        if not isinstance(exc, CopilotError):
            log.exception("webhook %s event %s (%s) failed", source, event_id, event.type)
        else:
            log.warning("webhook %s event %s (%s) failed: %s", source, event_id, event.type, type(exc).__name__)
        reason = f"{type(exc).__name__}: {exc}"
        ledger.finish(source, event_id, error=reason)
        _park(app_state, source, event_id, event.type, reason, type(exc).__name__, body)
        if metrics is not None:
            metrics.webhook(source, event.type, "parked")
        raise
    ledger.finish(source, event_id, result=result)
    if metrics is not None:
        metrics.webhook(source, event.type, "done")
    log.info("webhook %s event %s (%s) done", source, event_id, event.type)
    return result


def _park(app_state: Any, source: str, event_id: str, type_: str, reason: str, error_type: str, body: bytes) -> None:
    store = getattr(app_state, "deadletters", None)
    if store is None:
        return
    try:
        store.park(
            channel="webhook",
            key=f"{source}:{event_id}"[:500],
            reason=reason,
            error_type=error_type,
            payload=body,
            summary=f"{source} {type_}",
        )
    except Exception:  # parking must not hide the original failure
        log.exception("webhook %s event %s could not be parked", source, event_id)


def _mark_queued(ledger: EventLedger, source: str, event_id: str) -> None:
    """Record the hand-over; if even that fails the event still runs (a later retry may queue it again)."""
    try:
        ledger.mark_queued(source, event_id)
    except Exception:  # the worker's start() keeps a second delivery from running it twice
        log.exception("webhook %s event %s: queued, but its hand-over could not be recorded", source, event_id)


def _in_background(app_state: Any, source: str, event_id: str, event: Any, body: bytes) -> None:
    # the caller already has its 202; process_event logged, recorded and parked any failure
    with contextlib.suppress(Exception):
        process_event(app_state, source, event_id, event, body)


@router.post(
    "/{source}",
    response_model=WebhookAccepted,
    summary="Receive a signed event (n8n, Odoo through n8n): classify, ingest, re-score, match, answer, wake",
    description=(
        "Signed with HMAC-SHA256 over `<X-Copilot-Timestamp>.<raw body>` using the source's secret from "
        "`COPILOT_WEBHOOK_SECRETS`; `X-Copilot-Signature: sha256=<hex>`. Timestamps more than "
        "`COPILOT_WEBHOOK_TOLERANCE` seconds away are refused. `X-Copilot-Event-Id` deduplicates (7 days). "
        "`approval.request.approved` is done at once (200); the other events answer 202 and run in the "
        "background: read the outcome at `status_url`. A failed event is parked in the dead letters."
    ),
    status_code=200,
    responses={
        202: {"model": WebhookAccepted, "description": "Accepted; processed in the background (see status_url)"},
        400: {"model": ErrorResponse, "description": "Missing or malformed X-Copilot-Event-Id, or not JSON"},
        401: {"model": ErrorResponse, "description": "Unsigned, stale or tampered request, or unknown source"},
        413: {"model": ErrorResponse, "description": "Body over 1 MB"},
        422: {"model": ErrorResponse, "description": "Not one of the known event types"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEvent"}}},
        }
    },
)
async def receive(
    request: Request,
    background: BackgroundTasks,
    source: Annotated[str, Path(description="The sender, as named in COPILOT_WEBHOOK_SECRETS")],
    timestamp: Annotated[
        str | None, Header(alias=TIMESTAMP_HEADER, description="Unix seconds when the request was signed")
    ] = None,
    signature: Annotated[
        str | None, Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC-SHA256(secret, timestamp.body)>")
    ] = None,
    event_id: Annotated[
        str | None, Header(alias=EVENT_ID_HEADER, description="Unique per event; a repeat is a duplicate")
    ] = None,
) -> JSONResponse:
    """Verify, deduplicate and run one event."""
    body = await _read_body(request)
    secret = request.app.state.webhook_secrets.get(source)
    if secret is None:
        raise _refuse(request, source, "unknown source")
    try:
        verify_signature(secret, body, timestamp, signature, tolerance=request.app.state.settings.webhook_tolerance)
    except SignatureError as exc:
        raise _refuse(request, source, exc.reason) from None
    if event_id is None or not _EVENT_ID.match(event_id):
        raise HTTPException(400, f"{EVENT_ID_HEADER}: 1 to 200 visible ASCII characters required")
    try:
        event = EVENT_ADAPTER.validate_json(body)
    except ValidationError as exc:
        errors = jsonable_encoder(exc.errors(include_url=False), exclude={"input"})
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            raise HTTPException(400, "the body is not JSON") from None
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return JSONResponse(
            {
                "error": {
                    "type": "validation_error",
                    "message": f"{where}: {first.get('msg', 'invalid')}",
                    "detail": errors,
                }
            },
            status_code=422,
        )
    ledger: EventLedger = request.app.state.webhook_events
    first_time = await run_in_threadpool(ledger.claim, source, event_id, signature or "", event.type)
    if not first_time:
        log.info("webhook %s event %s (%s) is a duplicate; ignored", source, event_id, event.type)
        metrics: CopilotMetrics | None = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.webhook(source, event.type, "duplicate")
        return JSONResponse(WebhookAccepted(status="duplicate", event_id=event_id, type=event.type).model_dump())
    log.info("webhook %s event %s (%s) accepted", source, event_id, event.type)
    state = request.app.state
    if isinstance(event, ApprovalApproved):  # quick: wake the executor and answer (its poll is the fallback)
        await run_in_threadpool(_mark_queued, ledger, source, event_id)
        result = await run_in_threadpool(process_event, state, source, event_id, event, body)
        return JSONResponse(
            WebhookAccepted(status="done", event_id=event_id, type=event.type, result=result).model_dump()
        )
    status_url = str(request.app.url_path_for("webhook_event", source=source, event_id=event_id))
    queue = getattr(state, "task_queue", None)
    if queue is not None:  # scale-out: a worker runs it; the ledger's claim makes it run once
        try:
            await run_in_threadpool(queue.webhook, source, event_id, body)
        except Exception:  # Redis away: forget the claim so that the sender's retry is not a duplicate
            log.exception("webhook %s event %s could not be queued", source, event_id)
            await run_in_threadpool(ledger.release, source, event_id)
            raise HTTPException(503, "the work queue is unavailable; retry later") from None
        await run_in_threadpool(_mark_queued, ledger, source, event_id)
        accepted = WebhookAccepted(status="accepted", event_id=event_id, type=event.type, status_url=status_url)
        return JSONResponse(accepted.model_dump(), status_code=202)
    await run_in_threadpool(_mark_queued, ledger, source, event_id)  # runs here: a retry is a duplicate now
    background.add_task(_in_background, state, source, event_id, event, body)
    status_url = str(request.app.url_path_for("webhook_event", source=source, event_id=event_id))
    accepted = WebhookAccepted(status="accepted", event_id=event_id, type=event.type, status_url=status_url)
    return JSONResponse(accepted.model_dump(), status_code=202, background=background)


@router.get(
    "/{source}/events/{event_id}",
    name="webhook_event",
    summary="The outcome of a received webhook event (bearer token with the read scope)",
    responses={404: {"model": ErrorResponse, "description": "Unknown or expired event"}},
    dependencies=[Depends(require(Scope.READ))],
)
def get_event(source: str, event_id: str, request: Request) -> dict[str, Any]:
    """``accepted`` (still running), ``done`` with its result, or ``failed`` with the error (parked)."""
    record = request.app.state.webhook_events.get(source, event_id)
    if record is None:
        raise HTTPException(404, f"no event {event_id!r} from {source!r} (unknown, or older than 7 days)")
    return {
        "source": record.source,
        "event_id": record.event_id,
        "type": record.type,
        "status": record.status,
        "result": record.result,
        "error": record.error,
    }
