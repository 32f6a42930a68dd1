"""IMAP access to the shared mailbox (``imapclient``): unprocessed messages by UID, read without marking them.

Messages are fetched with ``BODY.PEEK[]`` so that reading never sets ``\\Seen``; a message is flagged
``\\Seen $CopilotDone`` only after it was processed, or ``$CopilotParked`` (left unread for a person) when
it went to the dead-letter store. The poller waits with IDLE when the server advertises it, otherwise
it polls. Every network call has a timeout; failures raise ``MailboxUnavailable`` and the worker
reconnects with backoff. UIDVALIDITY is read at every SELECT: a change means the server renumbered
the folder, which the ledger's Message-ID keys survive.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from copilot.config import Settings
from copilot.errors import ConfigError, CopilotError

__all__ = ["DONE_FLAG", "PARKED_FLAG", "Mailbox", "MailboxUnavailable"]

log = logging.getLogger(__name__)

DONE_FLAG = b"$CopilotDone"
PARKED_FLAG = b"$CopilotParked"
#: IDLE is renewed well before the 29 minutes after which RFC 2177 lets a server drop the connection.
IDLE_RENEW_SECONDS = 600.0
#: Longest single wait on the IDLE socket: ``stop()`` is noticed within this.
IDLE_SLICE_SECONDS = 0.5

T = TypeVar("T")


class MailboxUnavailable(CopilotError):
    """The IMAP server could not be reached, refused the login, or dropped the connection."""


class Mailbox:
    """One IMAP connection to ``settings.imap_folder``; not thread-safe (the worker's thread owns it)."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.imap_host or not settings.imap_user or settings.imap_password is None:
            raise ConfigError("COPILOT_IMAP_HOST: the mailbox needs COPILOT_IMAP_HOST, _USER and _PASSWORD")
        self.settings = settings
        self.folder = settings.imap_folder
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.keywords = False
        self.idle_supported = False

    # -- connection -------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while a logged-in connection is open."""
        return self._client is not None

    def connect(self) -> None:
        """Connect, log in and select the folder (raises ``MailboxUnavailable``)."""
        self.close()
        s = self.settings
        with _mapped("connect"):
            client = IMAPClient(
                s.imap_host or "",
                port=s.imap_port,
                ssl=s.imap_tls == "ssl",
                ssl_context=self._ssl_context,
                timeout=self.timeout,
            )
            try:
                if s.imap_tls == "starttls":
                    client.starttls(self._ssl_context)
                client.login(s.imap_user or "", s.imap_password.get_secret_value() if s.imap_password else "")
                info = client.select_folder(self.folder)
            except BaseException:
                _quietly(client.logout)
                raise
        self._client = client
        validity = int(info.get(b"UIDVALIDITY", 0) or 0)
        if self.uidvalidity is not None and validity != self.uidvalidity:
            log.warning(
                "UIDVALIDITY of %s changed (%s -> %s): the server renumbered the folder; Message-IDs keep "
                "processed messages from being processed again",
                self.folder,
                self.uidvalidity,
                validity,
            )
        self.uidvalidity = validity
        flags = info.get(b"PERMANENTFLAGS") or ()
        self.keywords = b"\\*" in flags or (DONE_FLAG in flags and PARKED_FLAG in flags)
        self.idle_supported = client.has_capability("IDLE")
        log.info(
            "mailbox %s on %s:%s ready (UIDVALIDITY %s, %s)",
            self.folder,
            s.imap_host,
            s.imap_port,
            validity,
            "IDLE" if self.idle_supported else f"polling every {s.imap_poll_interval:g} s",
        )

    def close(self) -> None:
        """Log out (errors ignored)."""
        client, self._client = self._client, None
        if client is not None:
            _quietly(client.logout)

    def _require(self) -> IMAPClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def _call(self, what: str, fn: Callable[[IMAPClient], T]) -> T:
        client = self._require()
        try:
            with _mapped(what):
                return fn(client)
        except MailboxUnavailable:
            self.close()  # the connection is in an unknown state: the next call reconnects
            raise

    # -- messages ---------------------------------------------------------------------------
    def pending_uids(self) -> list[int]:
        """UIDs of unread messages the copilot has not finished (oldest first)."""
        criteria: list[Any] = ["UNSEEN"]
        if self.keywords:
            criteria += ["NOT", "KEYWORD", DONE_FLAG.decode(), "NOT", "KEYWORD", PARKED_FLAG.decode()]
        return sorted(int(u) for u in self._call("search", lambda c: c.search(criteria)))

    def fetch(self, uid: int) -> bytes | None:
        """The raw message at ``uid`` without setting ``\\Seen`` (None when it is gone)."""
        data = self._call("fetch", lambda c: c.fetch([uid], [b"BODY.PEEK[]"]))
        item = data.get(uid) or {}
        raw = item.get(b"BODY[]")
        return bytes(raw) if raw is not None else None

    def mark_done(self, uid: int) -> None:
        """Flag the message read and processed."""
        flags = [b"\\Seen", DONE_FLAG] if self.keywords else [b"\\Seen"]
        self._call("store", lambda c: c.add_flags([uid], flags, silent=True))

    def mark_parked(self, uid: int) -> None:
        """Flag the message parked (left unread so that a person notices it)."""
        if self.keywords:
            self._call("store", lambda c: c.add_flags([uid], [PARKED_FLAG], silent=True))

    # -- waiting ----------------------------------------------------------------------------
    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to ``seconds`` for new mail (IDLE, or a plain sleep); True when the server reported changes."""
        if not self.idle_supported:
            stop.wait(seconds)
            return False
        client = self._require()
        deadline = time.monotonic() + min(seconds, IDLE_RENEW_SECONDS)
        try:
            with _mapped("idle"):
                client.idle()
                try:
                    while not stop.is_set() and time.monotonic() < deadline:
                        responses = client.idle_check(timeout=min(IDLE_SLICE_SECONDS, deadline - time.monotonic()))
                        if any(_is_change(r) for r in responses):
                            return True
                finally:
                    client.idle_done()
        except MailboxUnavailable:
            self.close()
            raise
        return False


def _is_change(response: Any) -> bool:
    """``* n EXISTS`` or ``* n RECENT``: mail arrived."""
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Translate imapclient, socket and TLS errors into ``MailboxUnavailable`` once."""
    try:
        yield
    except (IMAPClientError, OSError, EOFError) as exc:  # OSError covers timeouts and TLS errors
        raise MailboxUnavailable(f"IMAP {what} failed: {type(exc).__name__}: {exc}") from exc


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # closing a broken connection may fail in many ways; nothing to do about it
        log.debug("IMAP logout failed", exc_info=True)
