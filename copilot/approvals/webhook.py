"""The executor's wake-up webhook: Odoo says "a request was approved", the executor runs now.

Polling (``COPILOT_EXECUTOR_INTERVAL``) stays the backstop; the webhook only shortens the wait. It
carries no authority: a valid call makes the executor run its usual pass, which reads Odoo with the
executor's own credential and acts only on what Odoo shows as approved. A forged or replayed call can
at most make it poll early, and the checks below refuse those too.

Wire format (what the ``copilot_approval`` addon sends when ``copilot_approval.executor_webhook_url``
and ``copilot_approval.executor_webhook_secret`` are set)::

    POST /executor/wake HTTP/1.1
    Content-Type: application/json
    X-Copilot-Timestamp: 1767225600
    X-Copilot-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + raw body)>

    {"event_id": "3f1c...", "request_id": 12, "state": "approved", "db": "demo"}

Answers: 202 ``{"accepted": true}`` (the executor was woken); 401 missing or bad signature, or a
timestamp more than 300 s away from the receiver's clock; 409 an event id already accepted (replay
or retry); 411 no Content-Length; 413 a body over 64 KB; 400 not a JSON event; 422 an event for
another database; 404 another path; 405 another method. The shared secret and the body are never
logged; the event id and request id are.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from copilot.guardrails.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify_signature

__all__ = [
    "MAX_BODY",
    "PATH",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE",
    "WakeEvent",
    "WebhookReceiver",
    "sign",
]

log = logging.getLogger(__name__)

#: The only path the receiver answers.
PATH = "/executor/wake"
#: Largest accepted body, in bytes.
MAX_BODY = 64 * 1024
#: Largest accepted difference, in seconds, between the sender's timestamp and the receiver's clock.
TOLERANCE = 300
#: How many accepted event ids are remembered to refuse replays (oldest forgotten first).
SEEN_EVENTS = 4096
#: A too-large body up to this size is read and discarded before answering 413; a larger one is not.
DRAIN_LIMIT = 1024 * 1024
#: Seconds a client may take to send its request before the connection is dropped.
READ_TIMEOUT = 10.0


class WakeEvent(BaseModel):
    """The body of a wake-up call: which request changed, to what, in which database."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(min_length=1, max_length=200, description="Unique per notification; replays are refused.")
    request_id: int = Field(gt=0, description="The copilot.approval.request that changed.")
    state: str = Field(min_length=1, max_length=32, description="Its new state, e.g. approved.")
    db: str | None = Field(default=None, max_length=200, description="The Odoo database it lives in.")


class _Reject(Exception):
    """An answer other than 202 (control flow inside the handler)."""

    def __init__(self, status: HTTPStatus, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT
    server_version = "copilot-executor"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhook: %s %s", self.address_string(), format % args)

    def _answer(self, status: HTTPStatus, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        if path != PATH:
            self._answer(HTTPStatus.NOT_FOUND, {"accepted": False, "error": "not found"})
            return
        if self.command != "POST":
            self.close_connection = True
            self._answer(HTTPStatus.METHOD_NOT_ALLOWED, {"accepted": False, "error": "use POST"}, {"Allow": "POST"})
            return
        try:
            self._answer(HTTPStatus.ACCEPTED, self.server.receiver._handle(self._body(), self.headers))
        except _Reject as exc:
            self.close_connection = True
            self._answer(exc.status, {"accepted": False, "error": exc.error})

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise _Reject(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
        try:
            size = int(length)
        except ValueError:
            raise _Reject(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if size < 0:
            raise _Reject(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if size > MAX_BODY:
            if size <= DRAIN_LIMIT:  # read it anyway, so the client sees the answer rather than a reset
                self.rfile.read(size)
            raise _Reject(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes")
        body = self.rfile.read(size)
        if len(body) != size:
            raise _Reject(HTTPStatus.BAD_REQUEST, "truncated body")
        return body

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class WebhookReceiver:
    """An HTTP listener, in a daemon thread, that calls ``wake`` on each authentic, fresh event.

    ::

        receiver = WebhookReceiver(secret, executor.wake, host="127.0.0.1", port=8766).start()
        receiver.url  # http://127.0.0.1:8766/executor/wake
        receiver.stop()

    ``port=0`` picks a free port (read it back from ``url`` or ``port``). Loopback by default: the
    listener speaks plain HTTP, so bind it elsewhere only on a trusted network or behind a TLS proxy.
    ``db``, when given, refuses (422) events for another database. ``clock`` is for tests.
    """

    def __init__(
        self,
        secret: str | bytes | SecretStr,
        wake: Callable[[], None],
        *,
        host: str = "127.0.0.1",
        port: int = 8766,
        db: str | None = None,
        tolerance: float = TOLERANCE,
        max_events: int = SEEN_EVENTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        key = raw.encode() if isinstance(raw, str) else raw
        if not key:
            raise ValueError("the webhook secret is empty")
        self._key = key
        self._wake = wake
        self.host = host
        self._port = port
        self.db = db
        self.tolerance = tolerance
        self._max_events = max_events
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:  # never shows the secret
        return f"WebhookReceiver(host={self.host!r}, port={self.port})"

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port once started (the one asked for before)."""
        return self._server.server_address[1] if self._server is not None else self._port

    @property
    def url(self) -> str:
        """Where Odoo should POST: the value of ``copilot_approval.executor_webhook_url`` on loopback."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PATH}"

    def start(self) -> WebhookReceiver:
        """Bind and serve in a daemon thread; returns ``self``. Raises ``OSError`` if the port is taken."""
        if self._server is not None:
            return self
        if not _is_loopback(self.host):
            log.warning("webhook: listening on %s (plain HTTP): keep it on a trusted network or behind TLS", self.host)
        server_class = _Server6 if ":" in self.host else _Server
        server = server_class((self.host, self._port), _Handler)
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.1,), name="copilot-webhook", daemon=True)
        self._thread.start()
        log.info("webhook: listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one request ------------------------------------------------------------------------------
    def _verify(self, body: bytes, timestamp: str | None, signature: str | None) -> None:
        try:
            verify_signature(self._key, body, timestamp, signature, tolerance=self.tolerance, clock=self._clock)
        except SignatureError as exc:
            reason = "timestamp outside the allowed window" if exc.reason == "stale timestamp" else exc.reason
            raise _Reject(HTTPStatus.UNAUTHORIZED, reason) from None

    def _first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            while len(self._seen) > self._max_events:
                self._seen.popitem(last=False)
            return True

    def _handle(self, body: bytes, headers: Any) -> dict[str, Any]:
        """Authenticate, parse, de-duplicate, wake: the answer's body, or ``_Reject``."""
        self._verify(body, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER))
        try:
            event = WakeEvent.model_validate_json(body)
        except ValidationError:
            raise _Reject(HTTPStatus.BAD_REQUEST, "not a wake event") from None
        if self.db is not None and event.db is not None and event.db != self.db:
            log.warning("webhook: event %s for database %r ignored (serving %r)", event.event_id, event.db, self.db)
            raise _Reject(HTTPStatus.UNPROCESSABLE_ENTITY, "another database")
        if not self._first_time(event.event_id):
            log.info("webhook: event %s (request %s) already seen; ignored", event.event_id, event.request_id)
            raise _Reject(HTTPStatus.CONFLICT, "duplicate event")
        log.info(
            "webhook: event %s: request %s is %s; waking the executor", event.event_id, event.request_id, event.state
        )
        try:
            self._wake()
        except Exception:
            log.exception("webhook: event %s: waking the executor failed", event.event_id)
            with self._lock:
                self._seen.pop(event.event_id, None)  # a retry of this event may try again
            raise _Reject(HTTPStatus.INTERNAL_SERVER_ERROR, "wake failed") from None
        return {"accepted": True}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
