"""The sandbox's HTTP server: stdlib ``ThreadingHTTPServer``, request log, fault injection."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

from odoo_sandbox._flavours import HELPDESK_APPS, HelpdeskApp, dataset_for
from odoo_sandbox._journal import Journal, clear_journal
from odoo_sandbox._releases import OdooRelease, release_for
from odoo_sandbox._rpc import Backend, Reply
from odoo_sandbox._security import SandboxUser

__all__ = ["FaultMode", "LoggedRequest", "SandboxServer", "serve_forever"]

FaultMode = Literal["close", "http503", "delay"]
_FAULT_MODES = ("close", "http503", "delay")


class LoggedRequest(NamedTuple):
    """One request the sandbox received: URL path and parsed JSON body (None if not JSON)."""

    path: str
    body: Any


class _Fault(NamedTuple):
    mode: FaultMode
    delay: float


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    sandbox: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that went away is not the sandbox's problem."""


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "OdooSandbox/18.0"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        """Answer a GET (``/web/health``; ``/web/version`` on Odoo 19)."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Answer a JSON-RPC POST."""
        self._serve("POST")

    def _serve(self, method: str) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        sandbox._record(path, body)
        fault = sandbox._take_fault()
        if fault is not None:
            if fault.mode == "close":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.mode == "http503":
                self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html")
                return
            if sandbox._stopping.wait(fault.delay):
                return
        if method == "POST" and sandbox.latency > 0 and sandbox._stopping.wait(sandbox.latency):
            return  # stopping while it waited
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = sandbox._backend.handle(method, path, body, self._session_id(), headers, raw)
        if isinstance(reply.body, str) and not reply.content_type.startswith("application/json"):
            payload = reply.body.encode("utf-8")
        else:
            payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        self._send(reply.status, payload, reply.content_type, reply)

    def _session_id(self) -> str | None:
        header = self.headers.get("Cookie")
        if not header:
            return None
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            return None
        morsel = cookie.get("session_id")
        return morsel.value if morsel else None

    def _send(self, status: int, payload: bytes, content_type: str, reply: Reply | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            if reply is not None and reply.new_session:
                expires = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
                self.send_header(
                    "Set-Cookie",
                    f"session_id={reply.new_session}; Expires={expires}; Max-Age=604800; HttpOnly; Path=/",
                )
            for name, value in (reply.headers if reply is not None else {}).items():
                self.send_header(name, value)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


class SandboxServer:
    """A local Odoo 18 JSON-RPC server over the seeded dataset (for tests, evals and the demo).

    Writes by users who may write are kept in this instance's memory only, unless ``state_file``
    names a file that keeps them across processes (``_journal``; the CLI's default, never the tests'
    or evals'); every instance starts from the same recorded snapshot plus that file. ``helpdesk`` picks
    the Helpdesk app it serves: "oca" (recorded OCA helpdesk_mgmt), "enterprise" (derived Enterprise
    helpdesk) or "none" (see ``_flavours``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        users: Iterable[SandboxUser] | None = None,
        anchor: datetime | None = None,
        helpdesk: HelpdeskApp = "oca",
        state_file: Path | None = None,
        odoo: OdooRelease = "odoo18",
    ) -> None:
        if helpdesk not in HELPDESK_APPS:
            raise ValueError(f"helpdesk must be one of {HELPDESK_APPS}, not {helpdesk!r}")
        #: the Odoo version served: "odoo18" or "odoo19" (``_releases``)
        self.release = release_for(odoo)
        self._host = host
        self._requested_port = port
        self._users = tuple(users) if users is not None else self.release.users
        #: the sandbox's clock (UTC, naive): stamps the records it creates or changes
        self.anchor = anchor or self.release.recorded_at
        self.db = self.release.db
        #: the Helpdesk app this server serves ("oca", "enterprise" or "none")
        self.helpdesk: HelpdeskApp = helpdesk
        #: the file that keeps this server's writes (None: memory only)
        self.state_file = state_file
        self._backend = self._new_backend()
        #: Seconds each RPC waits before it is answered over HTTP (an Odoo on another host; 0: at once).
        self.latency = 0.0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[LoggedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._stopping = threading.Event()
        self._on_request: Callable[[LoggedRequest], None] | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> SandboxServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("the sandbox server is already started")
        httpd = _HTTPServer((self._host, self._requested_port), _Handler)
        httpd.sandbox = self
        self._stopping.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"odoo-sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release the port and the state file (idempotent; also for a server never started)."""
        httpd, thread = self._httpd, self._thread
        if httpd is not None:
            self._stopping.set()
            httpd.shutdown()
            httpd.server_close()
            if thread is not None:
                thread.join(timeout=5)
            self._httpd = None
            self._thread = None
        journal = self._backend.store.journal
        if journal is not None:
            journal.close()

    def __enter__(self) -> SandboxServer:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- addresses

    @property
    def host(self) -> str:
        """The host the server listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The bound TCP port (the real one once started, even when created with port 0)."""
        if self._httpd is not None:
            return int(self._httpd.server_address[1])
        if self._requested_port:
            return self._requested_port
        raise RuntimeError("the sandbox server is not started (port 0 is chosen at start)")

    @property
    def serving(self) -> bool:
        """True while it listens on its port (a server never started is reached in-process, ``SandboxTransport``)."""
        return self._httpd is not None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._host}:{self.port}"

    @property
    def users(self) -> tuple[SandboxUser, ...]:
        """The logins this server accepts."""
        return self._users

    # ----------------------------------------------------------------- request log

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the requests logged so far."""
        with self._lock:
            self._requests.clear()

    def _record(self, path: str, body: Any) -> None:
        entry = LoggedRequest(path, body)
        with self._lock:
            self._requests.append(entry)
        if self._on_request is not None:
            self._on_request(entry)

    # ----------------------------------------------------------------- faults

    def fail_next(self, n: int = 1, mode: FaultMode = "close", delay: float = 1.0) -> None:
        """Make the next ``n`` requests fail: drop the connection, answer HTTP 503, or stall ``delay`` s."""
        if mode not in _FAULT_MODES:
            raise ValueError(f"mode must be one of {_FAULT_MODES}, not {mode!r}")
        if n < 0 or delay < 0:
            raise ValueError("n and delay must not be negative")
        with self._lock:
            self._faults.extend(_Fault(mode, float(delay)) for _ in range(n))

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # ----------------------------------------------------------------- state

    def reset(self) -> None:
        """Drop every change and session: back to the snapshot (same Helpdesk flavour and state file,
        whose kept writes are forgotten too)."""
        journal = self._backend.store.journal
        if journal is not None:
            journal.close()
        if self.state_file is not None:
            clear_journal(self.state_file)
        self._backend = self._new_backend()

    def _new_backend(self) -> Backend:
        stamp = self.release.recorded_at.isoformat()
        journal = Journal(self.state_file, stamp) if self.state_file is not None else None
        dataset = dataset_for(self.helpdesk, self.release.name)
        return Backend(self._users, self.anchor, self.db, dataset, journal, self.release)


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8069,
    *,
    verbose: bool = True,
    helpdesk: HelpdeskApp = "oca",
    state_file: Path | None = None,
    odoo: OdooRelease = "odoo18",
    latency: float = 0.0,
) -> None:
    """Run a sandbox in the foreground until Ctrl-C (the ``copilot sandbox`` command); ``latency``: seconds each
    RPC waits before its answer."""
    server = SandboxServer(host, port, helpdesk=helpdesk, state_file=state_file, odoo=odoo)
    server.latency = max(0.0, latency)
    out = sys.stdout

    def show(entry: LoggedRequest) -> None:
        params = entry.body.get("params", {}) if isinstance(entry.body, dict) else {}
        args = params.get("args") if isinstance(params, dict) else None
        what = ""
        if isinstance(params, dict) and params.get("service"):
            what = f" {params.get('service')}.{params.get('method')}"
            if params.get("service") == "object" and isinstance(args, list) and len(args) >= 5:
                what += f" {args[3]}.{args[4]}"
        out.write(f"{time.strftime('%H:%M:%S')} POST {entry.path}{what}\n")
        out.flush()

    if verbose:
        server._on_request = show
    server.start()
    logins = ", ".join(f"{u.login}/{u.password} (uid {u.uid})" for u in server.users)
    series = server.release.series
    out.write(f"Odoo {series} sandbox listening on {server.url}  database {server.db!r}  helpdesk {helpdesk}\n")
    out.write(f"logins: {logins}\n")
    if server.release.json2:
        keys = ", ".join(f"{u.login}: {u.api_key}" for u in server.users if u.api_key)
        out.write(f"JSON-2 API keys: {keys}\n")
    if state_file is not None:
        out.write(f"writes kept in {state_file}; `copilot sandbox reset` restores the recording\n")
    out.write("Press Ctrl-C to stop.\n")
    out.flush()
    try:
        while not server._stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        out.write("stopping the sandbox\n")
    finally:
        server.stop()
