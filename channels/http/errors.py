"""Domain errors become HTTP at the edge; every error body is ``{"error": {"type", "message"}}``.

RequestValidationError       422 validation_error (FastAPI's list under error.detail)
HTTPException                its status; type from the status (unauthorized, forbidden, ...)
OdooNotFound                 404 not_found
OdooUnavailable              503 odoo_unavailable
OdooAuthenticationError      503 odoo_unavailable (the copilot's own Odoo credential is refused)
OdooAccessDenied             403 odoo_access_denied
OdooError (other)            502 odoo_error
AccessDenied                 403 access_denied (the actor's role may not use the skill)
RateLimited                  429 rate_limited, with Retry-After
SkillTimeout                 504 skill_timeout (the skill ran past COPILOT_HTTP_SKILL_TIMEOUT)
SkillBusy                    503 busy, with Retry-After (COPILOT_HTTP_MAX_CONCURRENT_SKILLS are running)
ApprovalError                409 approval_error
StaleModelError              409 stale_model
other CopilotError           400 bad_request
ConfigError                  500 config_error (generic message; the detail goes to the log)
anything else                500 internal_error
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from channels.http.budget import RETRY_AFTER, SkillBusy, SkillTimeout
from channels.http.schemas import ErrorResponse
from copilot.errors import (
    AccessDenied,
    ApprovalError,
    ConfigError,
    CopilotError,
    OdooAccessDenied,
    OdooAuthenticationError,
    OdooError,
    OdooNotFound,
    OdooUnavailable,
    RateLimited,
)
from copilot.skills.triage import StaleModelError

__all__ = ["ERROR_RESPONSES", "IdempotentReplay", "error_response", "install_error_handlers"]

log = logging.getLogger("channels.http")

_STATUS_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}

#: (exception class, status, type), most specific first.
_DOMAIN: list[tuple[type[Exception], int, str]] = [
    (SkillTimeout, 504, "skill_timeout"),
    (OdooNotFound, 404, "not_found"),
    (OdooUnavailable, 503, "odoo_unavailable"),
    (OdooAuthenticationError, 503, "odoo_unavailable"),
    (OdooAccessDenied, 403, "odoo_access_denied"),
    (OdooError, 502, "odoo_error"),
    (AccessDenied, 403, "access_denied"),
    (ApprovalError, 409, "approval_error"),
    (StaleModelError, 409, "stale_model"),
    (CopilotError, 400, "bad_request"),
]

#: OpenAPI ``responses=`` for the /v1 routes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (401, "No or invalid bearer token"),
        (403, "The token lacks the route's scope"),
        (422, "Invalid body, or an Idempotency-Key reused with another body"),
        (413, "Request body over COPILOT_HTTP_MAX_BODY_BYTES"),
        (429, "Too many requests from this client this minute (see Retry-After)"),
        (503, "Odoo is unreachable, or every skill slot is busy (see Retry-After)"),
        (504, "The skill ran past COPILOT_HTTP_SKILL_TIMEOUT"),
    ]
}


class IdempotentReplay(Exception):
    """Raised by the idempotency dependency: answer with the stored response."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


def error_response(
    status_code: int,
    type_: str,
    message: str,
    *,
    detail: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The API's error body."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if detail is not None:
        error["detail"] = detail
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


async def _validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors(), exclude={"input"})  # the input may be a long email: not echoed
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    message = f"{where}: {first.get('msg', 'invalid')}" if first else "invalid request"
    return error_response(422, "validation_error", message, detail=errors)


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    type_ = _STATUS_TYPES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc.detail, dict):  # raised with {"type", "message"}
        type_, message = exc.detail.get("type", type_), exc.detail.get("message", message)
    return error_response(exc.status_code, type_, message, headers=getattr(exc, "headers", None))


async def _domain(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RateLimited):
        retry_after = str(max(1, math.ceil(exc.retry_after)))
        return error_response(429, "rate_limited", str(exc), headers={"Retry-After": retry_after})
    if isinstance(exc, SkillBusy):
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return error_response(503, "busy", str(exc), headers={"Retry-After": str(RETRY_AFTER)})
    for cls, status, type_ in _DOMAIN:
        if isinstance(exc, cls):
            if status >= 500:
                log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
            return error_response(status, type_, str(exc) or type(exc).__name__)
    return await _internal(request, exc)


async def _config(request: Request, exc: Exception) -> Response:
    log.error("%s %s: configuration error: %s", request.method, request.url.path, exc)
    return error_response(500, "config_error", "the service is misconfigured; see its log")


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("%s %s: unexpected %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    return error_response(500, "internal_error", "internal error; see the service's log")


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return Response(
        exc.body,
        status_code=exc.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_exception_handler(CopilotError, _domain)
    app.add_exception_handler(ConfigError, _config)
    app.add_exception_handler(Exception, _internal)
