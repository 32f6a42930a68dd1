"""Request body size limits, enforced before anything reads the body (and so before authentication).

An ASGI middleware, not a dependency: FastAPI reads and parses a JSON body before it runs the route's
dependencies (the bearer-token check among them), so a 200 MB unauthenticated POST was read into memory
whole. Here a declared ``Content-Length`` over the limit is refused with 413 before one byte is read, and a
body without one (``Transfer-Encoding: chunked``) is counted while it streams: the chunk that crosses the
limit raises 413 to whatever is reading, so at most the limit plus one chunk is ever held.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodySizeLimit", "BodyTooLarge"]

log = logging.getLogger("channels.http.limits")


class BodyTooLarge(HTTPException):
    """413, raised from ``receive`` when a streamed body crosses its limit (the error handlers format it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, {"type": "payload_too_large", "message": f"the request body is over {limit} bytes"})


class BodySizeLimit:
    """Refuse bodies over a per-path-prefix limit with 413; paths under no prefix are not limited here."""

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, int]]) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda item: len(item[0]), reverse=True)  # longest prefix first

    def limit_for(self, path: str) -> int | None:
        """The limit of the longest prefix that ``path`` starts with, if any."""
        for prefix, limit in self.limits:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``Content-Length`` up front; count streamed bytes as the app reads them."""
        limit = self.limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "bad_request", "the Content-Length header is not a number")
            return
        if declared is not None and declared > limit:
            client = scope.get("client") or ("?",)
            log.warning(
                "%s %s refused: body of %d bytes over %d (client %s)",
                scope.get("method"),
                scope.get("path"),
                declared,
                limit,
                client[0],
            )
            await _refuse(send, 413, "payload_too_large", f"the request body is over {limit} bytes")
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    client = scope.get("client") or ("?",)
                    log.warning(
                        "%s %s refused: streamed body over %d bytes (client %s)",
                        scope.get("method"),
                        scope.get("path"),
                        limit,
                        client[0],
                    )
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent; -1 when unreadable."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _refuse(send: Send, status: int, type_: str, message: str) -> None:
    body = json.dumps({"error": {"type": type_, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
