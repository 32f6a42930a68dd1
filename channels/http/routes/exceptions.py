"""The scheduled controls' exceptions: list them, acknowledge one, snooze one.

Through the facade as the API client: the exceptions show what the controls read from Odoo, as an answer
would, so every route needs the ``ask`` scope (``list_exceptions``, ``acknowledge_exception`` and
``snooze_exception`` need the ``ask`` permission).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channels.http.auth import Client, Scope
from channels.http.deps import CopilotDep, IdempotencyDep, actor, require
from channels.http.schemas import ErrorResponse
from copilot.controls.engine import ExceptionNotFound, InvalidSnooze
from copilot.controls.model import Severity, TrackedException

router = APIRouter(prefix="/exceptions", tags=["exceptions"])
# The path names the exception ``exception_key``: ``key`` is the Idempotency-Key header's parameter.

#: Longest snooze.
MAX_SNOOZE = timedelta(days=90)
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such exception (or it is closed)"}}


class ExceptionList(BaseModel):
    """Tracked exceptions, worst first."""

    data: list[TrackedException]
    count: int


class SnoozeRequest(BaseModel):
    """Until when: a time (``until``, ISO 8601 with its zone) or a number of ``hours`` from now."""

    model_config = ConfigDict(extra="forbid")

    until: datetime | None = None
    hours: float | None = Field(default=None, gt=0, le=MAX_SNOOZE.total_seconds() / 3600)

    @model_validator(mode="after")
    def _one(self) -> SnoozeRequest:
        if (self.until is None) == (self.hours is None):
            raise ValueError("give either until or hours")
        return self

    def end(self, now: datetime) -> datetime:
        """The snooze's end."""
        if self.until is not None:
            return self.until if self.until.tzinfo else self.until.replace(tzinfo=UTC)
        return now + timedelta(hours=self.hours or 0)


def _missing(exc: ExceptionNotFound) -> HTTPException:
    return HTTPException(404, {"type": "not_found", "message": str(exc)})


@router.get(
    "",
    response_model=ExceptionList,
    summary="The exceptions the scheduled controls track, worst first",
)
def list_exceptions(
    client: Annotated[Client, Depends(require(Scope.ASK))],
    copilot: CopilotDep,
    state: Annotated[
        Literal["open", "acknowledged", "snoozed", "closed", "all"], Query(description="Their state (all: any)")
    ] = "open",
    control: Annotated[str | None, Query(max_length=64, description="Only this control's")] = None,
    severity: Annotated[Severity | None, Query()] = None,
) -> ExceptionList:
    """Each with its finding (reason, evidence, factors), first and last seen, and who acknowledged it."""
    rows = copilot.list_exceptions(
        actor(client), state=None if state == "all" else state, control=control, severity=severity
    )
    return ExceptionList(data=rows, count=len(rows))


@router.post(
    "/{control}/{exception_key}/acknowledge",
    response_model=TrackedException,
    summary="Acknowledge an exception: it is not sent again unless its severity gets worse",
    responses=_NOT_FOUND,
)
def acknowledge(
    control: Annotated[str, Path(min_length=1, max_length=64, description="The control, e.g. late_pos")],
    exception_key: Annotated[str, Path(min_length=1, max_length=200, description="The key, e.g. purchase.order:9")],
    client: Annotated[Client, Depends(require(Scope.ASK))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """The exception, acknowledged by this API client."""
    try:
        return idem.respond(copilot.acknowledge_exception(actor(client), control, exception_key))
    except ExceptionNotFound as exc:
        raise _missing(exc) from None


@router.post(
    "/{control}/{exception_key}/snooze",
    response_model=TrackedException,
    summary="Snooze an exception: silent until then, sent again after if a run still finds it",
    responses={**_NOT_FOUND, 422: {"model": ErrorResponse, "description": "Not a time in the future"}},
)
def snooze(
    control: Annotated[str, Path(min_length=1, max_length=64, description="The control, e.g. late_pos")],
    exception_key: Annotated[str, Path(min_length=1, max_length=200, description="The key, e.g. purchase.order:9")],
    body: SnoozeRequest,
    client: Annotated[Client, Depends(require(Scope.ASK))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """The exception, snoozed until the given time (at most 90 days ahead)."""
    now = datetime.now(UTC)
    until = body.end(now)
    if until - now > MAX_SNOOZE:
        raise HTTPException(422, {"type": "invalid_snooze", "message": "snooze at most 90 days"})
    try:
        return idem.respond(copilot.snooze_exception(actor(client), control, exception_key, until))
    except ExceptionNotFound as exc:
        raise _missing(exc) from None
    except InvalidSnooze as exc:
        raise HTTPException(422, {"type": "invalid_snooze", "message": str(exc)}) from None
