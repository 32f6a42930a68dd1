"""The mailbox worker: polls (or IDLEs on) the shared mailbox and processes each message exactly once.

For each unprocessed message: fetch it without marking it, parse it, claim its key in the ledger (skip it
if already done or parked, leave it if another worker holds it: ``copilot worker`` processes share the
ledger), park it at once if it is unreadable, otherwise route it (``EmailRouter``). On
success the ledger records it done and only then is it flagged ``\\Seen`` on the server. A transient
failure (Odoo, Slack or SMTP away) leaves the message to the next poll, up to ``max_attempts`` tries;
then it is parked in the dead-letter store with the reason, like any other failure. A rate limit only
defers the rest of the poll. ``stop()`` lets the message in flight finish and takes no new one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from channels.email.ledger import EmailLedger, message_key
from channels.email.mailbox import Mailbox, MailboxUnavailable
from channels.email.router import EmailRouter, Outcome, unreadable_reason
from channels.email.smtp import SmtpSender, SmtpUnavailable
from copilot.application import NotifierUnavailable, Outbox, OutboxNotifier, ResultNotifier
from copilot.config import Settings
from copilot.email import InboundEmail, parse_email
from copilot.errors import CopilotError, EmailParseError, LLMError, OdooUnavailable, RateLimited
from copilot.service import Copilot
from copilot.state.database import Database
from copilot.state.deadletters import DeadLetter, DeadLetterStore

__all__ = ["CHANNEL", "MailWorker", "MessageResult", "PollReport"]

log = logging.getLogger(__name__)

CHANNEL = "email"
#: Failures worth retrying: the service behind them may be back at the next poll.
TRANSIENT: tuple[type[BaseException], ...] = (
    OdooUnavailable,
    LLMError,
    NotifierUnavailable,
    SmtpUnavailable,
    TimeoutError,
    ConnectionError,
)
RECONNECT_MAX_SECONDS = 60.0

Status = Literal["processed", "skipped", "parked", "retry", "deferred"]


@dataclass(frozen=True)
class MessageResult:
    """What happened to one message."""

    uid: int
    key: str
    status: Status
    detail: str
    kind: str = ""
    #: Seconds to wait before trying again (a rate limit deferred it).
    retry_after: float = 0.0


@dataclass
class PollReport:
    """Counts of one poll of the mailbox."""

    fetched: int = 0
    processed: int = 0
    skipped_duplicates: int = 0
    parked: int = 0
    retried: int = 0
    deferred: int = 0
    seconds: float = 0.0
    results: list[MessageResult] = field(default_factory=list)

    def add(self, result: MessageResult) -> None:
        """Count one message's result."""
        self.results.append(result)
        if result.status == "processed":
            self.processed += 1
        elif result.status == "skipped":
            self.skipped_duplicates += 1
        elif result.status == "parked":
            self.parked += 1
        elif result.status == "retry":
            self.retried += 1
        else:
            self.deferred += 1

    def line(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"fetched {self.fetched}, processed {self.processed}, duplicates skipped {self.skipped_duplicates}, "
            f"parked {self.parked}, to retry {self.retried}, deferred {self.deferred} in {self.seconds:.2f} s"
        )


class MailWorker:
    """The email channel as a background worker (``start``/``stop``/``healthy``) or one poll at a time.

    ``notifier`` builds the ``ResultNotifier`` on the worker's outbox (``channels.serve`` passes the Slack one).
    """

    name = "email"

    def __init__(
        self,
        settings: Settings,
        copilot: Copilot,
        *,
        notifier: Callable[[Outbox], ResultNotifier] | None = None,
        smtp: SmtpSender | None = None,
        mailbox: Mailbox | None = None,
        max_attempts: int = 3,
        retry_delay: float = 5.0,
        db: Database | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        db = db if db is not None else getattr(copilot, "db", None)
        if db is None:
            raise ValueError("the mail worker needs the process's database: the composition root's (db=root.db)")
        self.settings = settings
        self.copilot = copilot
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        #: The process's database (the composition root's, given or the Copilot's): one engine per process.
        self.db: Database = db
        self.ledger = EmailLedger(self.db)
        self.deadletters = DeadLetterStore(self.db)
        self.outbox = Outbox(self.db)
        #: Messages by outcome since start (processed, skipped, parked, retry, deferred), for /metrics.
        self.stats: dict[str, int] = {}
        #: UIDs pending in the mailbox, with when this worker first saw each (monotonic), for ``backlog``.
        self._pending_since: dict[int, float] = {}
        #: Where supplier summaries and customer drafts go: ``notifier(outbox)`` (the process assembly injects
        #: Slack's), else the outbox alone.
        self.notifier: ResultNotifier = notifier(self.outbox) if notifier is not None else OutboxNotifier(self.outbox)
        self.router = EmailRouter(settings, copilot, self.notifier, self.outbox, smtp=smtp)
        self._mailbox = mailbox
        self._stop = threading.Event()
        self._poll_lock = threading.Lock()
        self._backlog_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ok = False
        self._last_error: str | None = None
        self._defer_until = 0.0
        #: This worker's claim token, and how long a claim lasts (longer than a worker task may run).
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lease = float(settings.task_time_limit + 30)

    @property
    def mailbox(self) -> Mailbox:
        """The IMAP connection (created on first use; needs COPILOT_IMAP_HOST, _USER, _PASSWORD)."""
        if self._mailbox is None:
            self._mailbox = Mailbox(self.settings)
        return self._mailbox

    # -- the worker protocol ----------------------------------------------------------------
    def start(self) -> None:
        """Run the poll loop on its own thread; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="copilot-mail", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Take no new message, let the one in flight finish (up to ``timeout`` s), then disconnect."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("mail worker still busy after %.0f s; its message stays unmarked and is retried", timeout)
                return
        with self._poll_lock:
            if self._mailbox is not None:
                self._mailbox.close()
        self._ok = False

    def backlog(self) -> tuple[int, float]:
        """Messages pending at the last poll and not finished, and seconds since the oldest was first seen."""
        with self._backlog_lock:
            seen = list(self._pending_since.values())
        return len(seen), (time.monotonic() - min(seen)) if seen else 0.0

    def _track_pending(self, uids: list[int]) -> None:
        now = time.monotonic()
        with self._backlog_lock:
            self._pending_since = {uid: self._pending_since.get(uid, now) for uid in uids}

    def _finished(self, uid: int) -> None:
        with self._backlog_lock:
            self._pending_since.pop(uid, None)

    def healthy(self) -> bool:
        """True while the loop runs and its last poll reached the mailbox."""
        return self._thread is not None and self._thread.is_alive() and self._ok

    def close(self) -> None:
        """Stop (the database is the root's: its owner closes it)."""
        self.stop()

    def __enter__(self) -> MailWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                report = self.run_once()
                self._ok, self._last_error, delay = True, None, 1.0
                if report.fetched:
                    log.info("mail poll: %s", report.line())
                if self._stop.is_set():
                    break
                if report.retried or report.deferred:
                    wait = max(self._defer_until - time.monotonic(), self.retry_delay)
                    self._stop.wait(min(wait, self.settings.imap_poll_interval))
                else:
                    self.mailbox.wait(self.settings.imap_poll_interval, self._stop)
            except MailboxUnavailable as exc:
                self._ok, self._last_error = False, str(exc)
                log.warning("mailbox unavailable (%s); reconnecting in %.0f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            except Exception:  # the loop must survive anything; the next poll tries again
                self._ok = False
                log.exception("mail poll failed; retrying in %.0f s", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    # -- polling ----------------------------------------------------------------------------
    def run_once(self, progress: Callable[[MessageResult], None] | None = None) -> PollReport:
        """Process every pending message once (``MailboxUnavailable`` when the server cannot be reached)."""
        started = time.monotonic()
        report = PollReport()
        with self._poll_lock:
            mailbox = self.mailbox
            if not mailbox.connected:
                mailbox.connect()
            uids = mailbox.pending_uids()
            self._track_pending(uids)
            validity = mailbox.uidvalidity or 0
            for index, uid in enumerate(uids):
                if self._stop.is_set() or time.monotonic() < self._defer_until:
                    for rest in uids[index:]:
                        report.add(MessageResult(rest, "", "deferred", "left for the next poll"))
                    break
                result = self._one(mailbox, uid, validity, report)
                report.add(result)
                self.stats[result.status] = self.stats.get(result.status, 0) + 1
                if result.status in ("processed", "skipped", "parked"):
                    self._finished(uid)
                if progress is not None:
                    progress(result)
        report.seconds = time.monotonic() - started
        return report

    def _one(self, mailbox: Mailbox, uid: int, validity: int, report: PollReport) -> MessageResult:
        folder = mailbox.folder
        known = self.ledger.uid_status(folder, validity, uid)
        if known in ("done", "parked"):
            self._mark(mailbox, uid, known)  # the flag was lost (marking failed, or another client reset it)
            return MessageResult(uid, "", "skipped", f"UID {uid} already {known}")
        raw = mailbox.fetch(uid)
        if raw is None:
            return MessageResult(uid, "", "skipped", "the message is gone")
        report.fetched += 1
        result = self.process(raw, uid=uid, uidvalidity=validity, folder=folder)
        if result.status in ("processed", "skipped", "parked"):
            final = self.ledger.status(result.key) if result.key else None  # a skipped copy: as its original
            self._mark(mailbox, uid, "parked" if final == "parked" or result.status == "parked" else "done")
        return result

    def mark_on_server(self, result: MessageResult, *, uidvalidity: int, folder: str) -> None:
        """Flag a message a worker task finished (done or parked) in the mailbox; the next poll does it otherwise."""
        if result.uid <= 0 or result.status not in ("processed", "skipped", "parked"):
            return
        if not self.settings.imap_host or folder != self.settings.imap_folder:
            return
        with self._poll_lock:
            try:
                mailbox = self.mailbox
                if not mailbox.connected:
                    mailbox.connect()
            except MailboxUnavailable as exc:
                log.warning("could not flag UID %s: %s", result.uid, exc)
                return
            if (mailbox.uidvalidity or 0) != uidvalidity:  # the folder was rebuilt: that UID is another message
                return
            final = self.ledger.status(result.key) if result.key else None
            self._mark(mailbox, result.uid, "parked" if "parked" in (final, result.status) else "done")

    def _mark(self, mailbox: Mailbox, uid: int, status: str) -> None:
        try:
            if status == "parked":
                mailbox.mark_parked(uid)
            else:
                mailbox.mark_done(uid)
        except MailboxUnavailable as exc:  # the ledger already knows; the next poll marks it again
            log.warning("could not flag UID %s as %s: %s", uid, status, exc)

    # -- one message ------------------------------------------------------------------------
    def process(
        self, raw: bytes, *, uid: int = 0, uidvalidity: int = 0, folder: str | None = None, owner: str | None = None
    ) -> MessageResult:
        """Process one raw message exactly once: skip it if done or parked, park it if it fails for good.

        ``owner`` names the claim on the message (a Celery task id: its redelivery takes the claim back);
        while another worker holds it the message is ``deferred``.
        """
        folder = folder if folder is not None else self.settings.imap_folder
        where = {"folder": folder, "uidvalidity": uidvalidity, "uid": uid}
        try:
            email = parse_email(raw)
        except EmailParseError as exc:
            key = message_key(None, raw)
            if self.ledger.status(key) in ("done", "parked"):
                return MessageResult(uid, key, "skipped", "already parked")
            return self._park(key, raw, f"unreadable email: {exc}", "EmailParseError", "", where, attempts=1)
        key = message_key(email.message_id, raw)
        claim = self.ledger.claim(key, owner=owner or self.token, lease=self.lease, **where)
        if claim in ("done", "parked"):
            return MessageResult(uid, key, "skipped", f"{key} already {claim}")
        if claim == "busy":
            return MessageResult(uid, key, "deferred", f"{key} is being processed by another worker")
        reason = unreadable_reason(email)
        if reason is not None:
            return self._park(key, raw, reason, "UnreadableEmail", _label(email), where, attempts=1)
        try:
            outcome = self.router.route(key, email)
        except RateLimited as exc:
            self._defer_until = time.monotonic() + exc.retry_after
            self.ledger.release(key, owner=owner or self.token)
            return MessageResult(uid, key, "deferred", str(exc), retry_after=max(exc.retry_after, 1.0))
        except TRANSIENT as exc:
            error = f"{type(exc).__name__}: {exc}"
            attempts = self.ledger.record_failure(key, error=error, **where)
            if attempts >= self.max_attempts:
                reason = f"gave up after {attempts} attempts: {error}"
                return self._park(key, raw, reason, type(exc).__name__, _label(email), where, attempts=attempts)
            log.warning("message %s failed (attempt %d of %d): %s", key, attempts, self.max_attempts, error)
            return MessageResult(uid, key, "retry", error)
        except Exception as exc:  # not worth retrying (a refusal, a bug): parked at once, with its reason
            if not isinstance(exc, CopilotError):
                log.exception("message %s: unexpected error", key)
            attempts = self.ledger.record_failure(key, error=str(exc), **where)
            return self._park(
                key, raw, f"{type(exc).__name__}: {exc}", type(exc).__name__, _label(email), where, attempts=attempts
            )
        self.ledger.finish(key, status="done", kind=outcome.kind, outcome=outcome.detail, **where)
        log.info("message %s processed as %s", key, outcome.kind)  # details (addresses) stay out of the log
        return MessageResult(uid, key, "processed", outcome.detail, outcome.kind)

    def _park(
        self, key: str, raw: bytes, reason: str, error_type: str, label: str, where: dict[str, Any], *, attempts: int
    ) -> MessageResult:
        self.deadletters.park(
            channel=CHANNEL,
            key=key,
            reason=reason,
            error_type=error_type,
            payload=raw,
            summary=label,
            attempts=max(attempts, 1),
        )
        self.ledger.finish(key, status="parked", kind="", outcome=reason, **where)
        log.warning("message %s parked: %s", key, reason)
        return MessageResult(int(where.get("uid") or 0), key, "parked", reason)

    # -- dead letters -----------------------------------------------------------------------
    def replay(self, letter_id: int) -> Outcome:
        """Run a parked email's original processing again from its stored payload; mark it replayed on success."""
        letter = self.deadletters.get(letter_id)
        if letter is None or letter.channel != CHANNEL:
            raise KeyError(f"no email dead letter {letter_id}")
        if letter.status != "parked":
            raise ValueError(f"dead letter {letter_id} is {letter.status}, not parked")
        raw = letter.payload or b""
        email = parse_email(raw)  # EmailParseError: still unreadable
        reason = unreadable_reason(email)
        if reason is not None:
            raise EmailParseError(f"still unreadable: {reason}")
        outcome = self.router.route(letter.key, email)
        self.ledger.finish(
            letter.key, status="done", folder="", uidvalidity=0, uid=0, kind=outcome.kind, outcome=outcome.detail
        )
        self.deadletters.mark_replayed(letter_id)
        return outcome

    def parked(self) -> list[DeadLetter]:
        """The email channel's parked messages, newest first."""
        return self.deadletters.list(channel=CHANNEL)


def _label(email: InboundEmail) -> str:
    return f"{email.from_address or '?'} · {email.subject or '(no subject)'}"[:500]
