"""A local HTTP server standing in for Slack's Web API (``https://slack.com/api/<method>``).

It speaks the Web API's wire format as the Slack SDK uses it: a POST per method, the arguments as a form
(``application/x-www-form-urlencoded``) or JSON body, the bot token in ``Authorization: Bearer``, and a
JSON answer with ``ok``. Every call is recorded so tests can assert what the copilot posted.
``users.lookupByEmail`` and ``users.info`` answer from the ``users`` given to the server.

It also serves the ``response_url`` of slash commands and interactions (``response_url(...)`` makes one):
Slack's app posts JSON there (``text``, ``blocks``, ``response_type``, ``replace_original``) without a
token, and Slack answers ``ok``. Those posts are recorded as calls of the method ``response_url``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class SlackCall:
    """One recorded Web API call."""

    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class SlackUser:
    """A workspace member as ``users.info`` returns it (only the fields the copilot reads)."""

    id: str
    email: str
    name: str = "user"
    is_bot: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "real_name": self.name,
            "is_bot": self.is_bot,
            "deleted": False,
            "profile": {"email": self.email, "real_name": self.name, "display_name": self.name},
        }


@dataclass
class FakeSlackAPI:
    """The server; use as a context manager. ``url`` is the base URL for ``WebClient(base_url=...)``."""

    users: list[SlackUser] = field(default_factory=list)
    token: str = "xoxb-fake"
    calls: list[SlackCall] = field(default_factory=list)
    fail_methods: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = 1_700_000_000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def response_url(self, name: str = "1") -> str:
        """A ``response_url`` as Slack puts in a command or interaction payload, served by this fake."""
        return self.url.replace("/api/", f"/commands/T1/{name}/hook-secret")

    def __enter__(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what tests read ------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[SlackCall]:
        """The recorded calls of one Web API method, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[SlackCall]:
        """Wait until ``count`` calls of ``method`` arrived (raises ``TimeoutError`` otherwise)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise TimeoutError(f"{method}: {len(self.calls_to(method))} call(s) after {timeout}s, expected {count}")

    # -- answers --------------------------------------------------------------------------------
    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self._lock:
            self.calls.append(SlackCall(method, args, token))
            self._ts += 1
            ts = f"{self._ts}.000100"
        if token != self.token:
            return {"ok": False, "error": "invalid_auth"}
        if method in self.fail_methods:
            return {"ok": False, "error": self.fail_methods[method]}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "copilot"}
        if method == "users.lookupByEmail":
            email = str(args.get("email", "")).lower()
            for user in self.users:
                if user.email.lower() == email:
                    return {"ok": True, "user": user.as_json()}
            return {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            for user in self.users:
                if user.id == args.get("user"):
                    return {"ok": True, "user": user.as_json()}
            return {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0].lstrip("U")}}
        if method in {"chat.postMessage", "chat.postEphemeral", "chat.update"}:
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"text": args.get("text")}}
        return {"ok": True}


def _handler(api: FakeSlackAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            if self.path.startswith("/commands/"):
                with api._lock:
                    api.calls.append(SlackCall("response_url", {**json.loads(raw or "{}"), "url": self.path}, None))
                self._reply(b"ok", "text/html")
                return
            method = self.path.split("/api/", 1)[-1].split("?", 1)[0]
            if "json" in (self.headers.get("Content-Type") or ""):
                args: dict[str, Any] = json.loads(raw or "{}")
            else:
                args = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            for key in ("blocks", "attachments"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
            self._reply(json.dumps(api._answer(method, args, token)).encode(), "application/json; charset=utf-8")

        def _reply(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
