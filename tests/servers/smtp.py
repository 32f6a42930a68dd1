"""A capturing SMTP server on 127.0.0.1 (aiosmtpd): every message the copilot sends is kept for the test."""

from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers.dovecot import free_port

__all__ = ["CapturedMail", "SmtpCapture"]


@dataclass(frozen=True)
class CapturedMail:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpCapture:
    """The server; use as a context manager."""

    port: int = field(default_factory=free_port)
    messages: list[CapturedMail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def _add(self, mail: CapturedMail) -> None:
        with self._lock:
            self.messages.append(mail)

    def received(self) -> list[CapturedMail]:
        """The messages so far, in order."""
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[CapturedMail]:
        """Wait until ``count`` messages arrived (``TimeoutError`` otherwise)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise TimeoutError(f"{len(self.received())} message(s) after {timeout}s, expected {count}")

    def __enter__(self) -> SmtpCapture:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class _Handler:
    def __init__(self, capture: SmtpCapture) -> None:
        self.capture = capture

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        self.capture._add(CapturedMail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"
