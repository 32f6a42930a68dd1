"""The Slack app (Bolt for Python, HTTP mode): ``/copilot``, mentions and DMs, message shortcuts, buttons.

Bolt's built-in chain verifies every request with the signing secret (unsigned, stale or tampered: 401)
before anything else runs. Every listener acknowledges at once and hands the work to a lazy listener on
the channel's thread pool, so Slack gets its answer within its 3-second limit; results arrive later
through the Web API (``chat.postMessage`` in the thread for mentions and DMs) or the request's
``response_url`` (ephemeral, for the slash command and shortcuts: what a person sees depends on their
Odoo role, so their results are shown to them only). A middleware drops redeliveries (Slack retries
with the same ``event_id``; commands and clicks are keyed by ``trigger_id``) before any listener runs.
With a work queue (scale-out), the same middleware acks mentions and DMs itself, after one database
transaction that claims the delivery, queues it and records the hand-over (committed together; a failed
publish records nothing): a replica that dies before that commit leaves no ack and no claim, so Slack's
retry takes the delivery over. No listener runs for a queued delivery (a worker answers it).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from channels.slack import blocks as ui
from channels.slack.digest_actions import DigestActions
from channels.slack.state import SlackState
from channels.slack.text import APOLOGY, HELP, NO_ODOO_USER, message_to_email, parse_command, slack_to_plain
from copilot.application import Outbox
from copilot.config import Settings
from copilot.errors import AccessDenied, RateLimited
from copilot.identity import Actor
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from copilot.state import Database, DeadLetterStore

__all__ = [
    "NO_ODOO_USER",
    "SlackChannel",
    "SlackIdentity",
    "dedupe_key",
]

log = logging.getLogger("channels.slack")

WORKING = "Working on it…"
#: How long a Slack user's actor (email, role) is reused before Slack and Odoo are asked again.
IDENTITY_TTL = 300.0
#: The context flag the dedupe middleware sets once it queued the delivery (and acked it: no listener runs).
QUEUED = "copilot_queued"


def dedupe_key(body: dict[str, Any], headers: dict[str, Any]) -> str | None:
    """What makes a delivery unique: the event id, else the trigger id, else the command and its timestamp."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    if body.get("command"):
        stamp = (headers.get("x-slack-request-timestamp") or [""])[0]
        return f"command:{body.get('user_id')}:{body.get('command')}:{body.get('text')}:{stamp}"
    return None


class SlackIdentity:
    """Slack user id -> ``users.info`` email -> the copilot's ``Actor`` (role from Odoo); cached a few minutes."""

    def __init__(self, client: WebClient, get_copilot: Callable[[], Copilot], *, ttl: float = IDENTITY_TTL) -> None:
        self.client = client
        self.get_copilot = get_copilot
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def actor(self, user_id: str) -> Actor:
        """The actor for a Slack user (no role when Slack has no email or Odoo no user for it)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        email, name = self._profile(user_id)
        actor = self.get_copilot().actor_for(channel="slack", external_id=user_id, email=email, name=name)
        with self._lock:
            self._cache[user_id] = (now, actor)
        return actor

    def _profile(self, user_id: str) -> tuple[str | None, str | None]:
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return None, None
        if user.get("deleted") or user.get("is_bot"):
            return None, None
        profile = user.get("profile") or {}
        return profile.get("email") or None, profile.get("real_name") or user.get("real_name") or None


class _NotQueued(Exception):
    """The work queue did not take a delivery (Redis away): the replica answers it itself."""


class _Refused(Exception):
    """A user-facing refusal (no Odoo user, role, rate limit) already phrased for Slack."""


class SlackChannel:
    """The Bolt app with its listeners, the identity cache and the dedupe/proposal state."""

    def __init__(
        self,
        settings: Settings,
        get_copilot: Callable[[], Copilot],
        *,
        db: Database,
        state: SlackState | None = None,
        client: WebClient | None = None,
        deadletters: DeadLetterStore | None = None,
        workers: int = 8,
        socket_mode: bool = False,
        enqueue: Callable[[str, dict[str, Any]], Any] | None = None,
        verify_token: bool = False,
    ) -> None:
        if settings.slack_bot_token is None:
            raise ValueError("the Slack app needs COPILOT_SLACK_BOT_TOKEN")
        if settings.slack_signing_secret is None and not socket_mode:  # Socket Mode has no HTTP request to sign
            raise ValueError("the Slack app over HTTP needs COPILOT_SLACK_SIGNING_SECRET")
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.settings = settings
        self.get_copilot = get_copilot
        #: Scale-out (``COPILOT_REDIS_URL``): mentions and DMs are acked here and answered by a worker.
        self.enqueue = enqueue
        #: The process's database (the composition root's) for the channel's state; its owner closes it.
        self.db = db
        self.state = state or SlackState(self.db)
        self.deadletters = deadletters if deadletters is not None else DeadLetterStore(self.db)
        self.odoo_url = str(settings.odoo_url).rstrip("/") if settings.odoo_url else None
        token = settings.slack_bot_token.get_secret_value()
        self.client = client or WebClient(token=token, base_url=str(settings.slack_api_url), timeout=15)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack")
        self.identity = SlackIdentity(self.client, get_copilot)
        _quiet_bolt_verification_log()
        self.bolt = self._bolt(secret, verify_token=verify_token)
        self.bolt.use(self._dedupe)
        self._register()

    def _bolt(self, secret: str, *, verify_token: bool) -> App:
        """Bolt's app; ``verify_token``: ask Slack who the bot is (``auth.test``) now, once.

        Asked lazily instead, every request arriving before the first answer (a burst right after a replica
        starts) calls ``auth.test`` itself before its ack. When Slack cannot be reached now, Bolt asks on
        the first request (the replica still starts).
        """

        def build(verify: bool) -> App:
            return App(
                name="odoo-ops-copilot",
                signing_secret=secret,
                client=self.client,
                token_verification_enabled=verify,
                process_before_response=False,
                listener_executor=self.executor,
                logger=logging.getLogger("channels.slack.bolt"),
            )

        if verify_token:
            try:
                return build(True)
            except Exception as exc:  # Slack away or the token refused: the first request asks (and reports)
                log.warning("Slack auth.test at start-up failed (%s); asked on the first request", exc)
        return build(False)

    def close(self) -> None:
        """Let running work finish, then release the thread pool."""
        self.executor.shutdown(wait=True, cancel_futures=False)

    # -- middleware ------------------------------------------------------------------------------
    def _dedupe(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        key = dedupe_key(req.body, req.headers)
        if key is None:
            return next()
        kind = self._queue_kind(req.body)
        if kind is not None and self.enqueue is not None:  # claimed, queued and marked handed over in one commit
            try:
                fresh = self.state.first_time(key, hand_over=functools.partial(self._enqueue, kind, req.body))
            except _NotQueued:  # the queue is away (nothing recorded): the lazy listener answers here instead
                log.exception("Slack %s could not be queued; answering in this process", kind)
            else:
                if not fresh:
                    return _redelivery(key, req)
                req.context[QUEUED] = True
                return BoltResponse(status=200, body="")  # the ack: a worker answers, no listener runs here
        if not self.state.first_time(key):
            return _redelivery(key, req)
        response = next()  # acknowledged: the work runs in this process from now on (Bolt may return None)
        if response is None or response.status < 500:
            self._handed(key)
        return response

    def _handed(self, key: str) -> None:
        try:
            self.state.handed(key)
        except Exception:  # still ack: a retry may queue it again, and the worker answers it once
            log.exception("Slack delivery %s: handed over, but that could not be recorded", key.split(":", 1)[0])

    def _enqueue(self, kind: str, body: dict[str, Any]) -> None:
        """Queue the delivery for a worker; ``_NotQueued`` when the queue refused it (a database error is not one)."""
        assert self.enqueue is not None
        try:
            self.enqueue(kind, body)
        except Exception as exc:
            raise _NotQueued(str(exc)) from exc

    def _queue_kind(self, body: dict[str, Any]) -> str | None:
        """``mention`` or ``direct_message`` when a worker should answer this delivery, else None."""
        if self.enqueue is None or body.get("type") != "event_callback":
            return None
        event = body.get("event") or {}
        if event.get("type") == "app_mention":
            return "mention"
        if event.get("type") == "message" and _is_question(event):
            return "direct_message"
        return None

    # -- listeners -------------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.bolt
        app.command("/copilot")(ack=self._ack_command, lazy=[self._run_command])
        # A mention or DM the dedupe middleware queued never reaches these (it acks them itself).
        app.event("app_mention")(ack=_ack, lazy=[self._run_mention])
        app.event("message")(ack=_ack, lazy=[self._run_direct_message])
        app.message_shortcut("draft_reply")(ack=_ack, lazy=[self._run_draft_shortcut])
        app.message_shortcut("summarize_supplier_email")(ack=_ack, lazy=[self._run_summary_shortcut])
        app.action(ui.PROPOSE_ACTION_ID)(ack=_ack, lazy=[self._run_propose])
        app.action({"type": "block_actions", "action_id": _open_in_odoo_pattern()})(_ack)
        self.digest_actions = DigestActions(
            actor_of=self.identity.actor,
            get_facade=self.get_copilot,  # type: ignore[arg-type]  # the controls' facade methods
            client=self.client,
            find_proposal=lambda key: self._find_proposal(key, "slack"),
            park=self._park,
        )
        self.digest_actions.register(app)

    def _ack_command(self, ack: Callable[..., None], command: dict[str, Any]) -> None:
        parsed = parse_command(command.get("text") or "")
        if parsed.verb == "help":
            ack(text="Odoo Ops Copilot help", blocks=ui.notice_blocks(HELP), response_type="ephemeral")
        elif parsed.error:
            ack(text=parsed.error, response_type="ephemeral")
        else:
            ack(text=WORKING, response_type="ephemeral")

    def _run_command(self, command: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        parsed = parse_command(command.get("text") or "")
        if parsed.verb == "help" or parsed.error:
            return  # answered by the ack

        def work(actor: Actor) -> ui.Blocks:
            copilot = self.get_copilot()
            if parsed.verb == "ask":
                thread = f"slack:{command.get('channel_id')}:{command.get('user_id')}"
                return ui.answer_blocks(copilot.ask(actor, parsed.text, thread=thread), odoo_url=self.odoo_url)
            if parsed.verb == "draft":
                draft = copilot.draft(actor, DraftRequest(message=parsed.text, customer=parsed.customer))
                return ui.draft_blocks(draft, odoo_url=self.odoo_url)
            assert parsed.ref is not None
            if parsed.ref.startswith("P"):
                answer = copilot.ask(actor, f"what is the status of {parsed.ref}?")
                return ui.answer_blocks(answer, odoo_url=self.odoo_url)
            if parsed.customer is None:  # staff asking about an order: its deliveries, for the role that sees them
                return ui.sale_status_blocks(copilot.order_status(actor, parsed.ref), odoo_url=self.odoo_url)
            request = DraftRequest(message=f"What is the status of order {parsed.ref}?", customer=parsed.customer)
            return ui.order_status_blocks(copilot.draft(actor, request), odoo_url=self.odoo_url)

        self._serve(
            body, user_id=str(command.get("user_id")), work=work, reply=lambda b: _respond(respond, b), what="command"
        )

    def answer(self, kind: str, body: dict[str, Any]) -> None:
        """Answer an event a replica acknowledged and queued (``mention`` or ``direct_message``), in a worker."""
        event = body.get("event") or {}
        if kind == "mention":
            self._run_mention(event, body)
        elif kind == "direct_message":
            self._run_direct_message(event, body)
        else:
            raise ValueError(f"unknown Slack event kind {kind!r}")

    def _run_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._answer_in_thread(event, body)

    def _run_direct_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if not _is_question(event):
            return  # channel chatter, edits, joins and bots' own messages are not questions
        self._answer_in_thread(event, body)

    def _answer_in_thread(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        channel = str(event.get("channel"))
        thread_ts = str(event.get("thread_ts") or event.get("ts"))
        question = slack_to_plain(event.get("text") or "")

        def reply(content: ui.Blocks) -> None:
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=ui.fallback_text(content),
                blocks=content,
                unfurl_links=False,
                unfurl_media=False,
            )

        def work(actor: Actor) -> ui.Blocks:
            if not question:
                return ui.notice_blocks(HELP)
            answer = self.get_copilot().ask(actor, question, thread=f"slack:{channel}:{thread_ts}")
            return ui.answer_blocks(answer, odoo_url=self.odoo_url)

        self._serve(body, user_id=str(event.get("user")), work=work, reply=reply, what=str(event.get("type")))

    def _run_draft_shortcut(self, shortcut: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        message = shortcut.get("message") or {}

        def work(actor: Actor) -> ui.Blocks:
            email = message_to_email(message)
            request = DraftRequest(message=email.text, subject=email.subject, sender_email=email.from_address)
            return ui.draft_blocks(self.get_copilot().draft(actor, request), odoo_url=self.odoo_url)

        self._serve(
            body, user_id=_user(body), work=work, reply=lambda b: _respond(respond, b), what="draft_reply shortcut"
        )

    def _run_summary_shortcut(
        self, shortcut: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]
    ) -> None:
        message = shortcut.get("message") or {}

        def work(actor: Actor) -> ui.Blocks:
            outcome = self.get_copilot().summarize_with_proposals(actor, message_to_email(message))
            assert outcome.summary is not None  # a person's request is always summarized
            self.state.stash(outcome.proposals)
            return ui.summary_blocks(outcome.summary, outcome.proposals, odoo_url=self.odoo_url)

        self._serve(body, user_id=_user(body), work=work, reply=lambda b: _respond(respond, b), what="summary shortcut")

    def _run_propose(self, action: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        def work(actor: Actor) -> ui.Blocks:
            try:
                value = json.loads(action.get("value") or "{}")
            except ValueError:
                value = {}
            key, source = str(value.get("proposal_key") or ""), str(value.get("source") or "slack")
            proposal = self._find_proposal(key, source)
            if proposal is None:
                return ui.notice_blocks("This proposal has expired or is unknown: summarize the email again.")
            outcome = self.get_copilot().propose(actor, proposal)
            return ui.outcome_blocks(outcome, title=proposal.title, who=actor.name or actor.external_id)

        def reply(content: ui.Blocks) -> None:
            self._replace_block(body, action, content, respond)

        self._serve(body, user_id=_user(body), work=work, reply=reply, what="propose button")

    # -- the shared path -------------------------------------------------------------------------
    def _serve(
        self,
        body: dict[str, Any],
        *,
        user_id: str,
        work: Callable[[Actor], ui.Blocks],
        reply: Callable[[ui.Blocks], None],
        what: str,
    ) -> None:
        """Resolve the person, run ``work``, deliver its blocks; refusals and failures become a short reply."""
        try:
            actor = self.identity.actor(user_id)
            if actor.role is None:
                raise _Refused(NO_ODOO_USER)
            content = work(actor)
        except _Refused as exc:
            content = ui.notice_blocks(str(exc))
        except RateLimited as exc:
            wait = max(1, round(exc.retry_after))
            content = ui.notice_blocks(f"You're going faster than I may answer: try again in {wait} s.")
        except AccessDenied as exc:
            content = ui.notice_blocks(f"Your Odoo role doesn't allow this: {ui.escape(str(exc))}.")
        except Exception as exc:  # the person gets an apology; the team gets the log and the dead letter
            log.exception("Slack %s failed for %s", what, user_id)
            self._park(body, what, exc)
            content = ui.notice_blocks(APOLOGY)
        try:
            reply(content)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.error("Slack %s: the reply could not be delivered: %s", what, exc)
            self._park(body, what, exc)

    def _park(self, body: dict[str, Any], what: str, exc: Exception) -> None:
        key = dedupe_key(body, {}) or f"{what}:{time.time():.6f}"
        try:
            self.deadletters.park(
                channel="slack",
                key=key,
                reason=f"{what}: {type(exc).__name__}: {exc}",
                error_type=type(exc).__name__,
                payload=json.dumps(body, ensure_ascii=False),
                summary=f"{what} from {_user(body) or body.get('user_id') or '?'}",
            )
        except Exception:
            log.exception("could not park the failed Slack %s", what)

    def _find_proposal(self, key: str, source: str) -> Any:
        if not key:
            return None
        proposal = self.state.proposal(key)
        if proposal is None and source == "email":  # a button on a mailbox summary: its proposals are in the outbox
            proposal = Outbox(self.db).proposal(key)
        return proposal

    def _replace_block(
        self, body: dict[str, Any], action: dict[str, Any], content: ui.Blocks, respond: Callable[..., Any]
    ) -> None:
        """Put ``content`` where the clicked proposal was (chat.update), or answer the clicker alone."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        original = message.get("blocks") or []
        clicked = action.get("block_id")
        if original and clicked:
            updated: ui.Blocks = []
            for block in original:
                updated.extend(content if block.get("block_id") == clicked else [block])
            if container.get("is_ephemeral"):
                respond(replace_original=True, text=ui.fallback_text(content), blocks=updated)
                return
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            ts = message.get("ts") or container.get("message_ts")
            if channel and ts:
                self.client.chat_update(channel=channel, ts=ts, text=message.get("text") or "", blocks=updated)
                return
        _respond(respond, content)


# -- small helpers ------------------------------------------------------------------------------------
def _is_question(event: dict[str, Any]) -> bool:
    """A direct message a person wrote (not an edit, a join or a bot's own message)."""
    return event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")


def _redelivery(key: str, req: BoltRequest) -> BoltResponse:
    """The ack of a delivery already seen (Slack's retry): nothing else runs."""
    retry = (req.headers.get("x-slack-retry-num") or ["0"])[0]
    log.info("Slack redelivery ignored (%s, retry %s)", key.split(":", 1)[0], retry)
    return BoltResponse(status=200, body="")


def _ack(ack: Callable[..., None]) -> None:
    ack()


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


def _respond(respond: Callable[..., Any], content: ui.Blocks) -> None:
    respond(text=ui.fallback_text(content), blocks=content, response_type="ephemeral", replace_original=False)


def _open_in_odoo_pattern() -> Any:
    import re

    return re.compile("^" + re.escape(ui.OPEN_IN_ODOO_ACTION_ID))


class _NoBodyInVerificationLog(logging.Filter):
    """Bolt logs a refused request with its body: keep the request's content out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Invalid request signature detected")


def _quiet_bolt_verification_log() -> None:
    logger = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, _NoBodyInVerificationLog) for f in logger.filters):
        logger.addFilter(_NoBodyInVerificationLog())
