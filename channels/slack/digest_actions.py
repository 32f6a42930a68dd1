"""The exception digest's buttons: "Acknowledge", "Snooze" and "Propose", as the person who clicked.

Each listener acks at once (Slack's 3-second limit) and works in a lazy listener: the clicking Slack user
becomes the copilot's actor (``SlackIdentity``, as every other request), the facade authorizes, changes the
exception (``acknowledge_exception``, ``snooze_exception``) or submits the finding's first proposal through
the existing propose path (``propose``, the stashed proposal), and the digest message is updated in place
(``chat.update``) to say who did what. A person with no Odoo user, or whose role may not do it, gets an
ephemeral refusal and the message stays as it was; a failure gets an apology and a dead letter.

Two clicks on one message in this process are applied one after the other on the latest blocks, so one
update does not undo another.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from channels.slack.blocks import Blocks, escape, notice_blocks
from channels.slack.digest import (
    ACK_ACTION_ID,
    PROPOSE_ACTION_ID,
    SNOOZE_ACTION_ID,
    SNOOZE_DAYS,
    ExceptionRef,
    mark_handled,
    mark_proposed,
)
from channels.slack.text import APOLOGY, NO_ODOO_USER
from copilot.approvals import Proposal
from copilot.controls.model import TrackedException
from copilot.errors import AccessDenied, OdooNotFound, RateLimited
from copilot.identity import Actor
from copilot.service import ProposalOutcome

__all__ = ["MAX_SNOOZE_DAYS", "DigestActions", "ExceptionFacade", "outcome_line"]

log = logging.getLogger("channels.slack")

#: The longest snooze a button may ask for (its value is ours, but it is read back from Slack).
MAX_SNOOZE_DAYS = 30
#: Messages whose latest blocks this process remembers (for clicks in quick succession).
_RECENT_MESSAGES = 256

Transform = Callable[[Blocks], Blocks]


class ExceptionFacade(Protocol):
    """What the buttons need of the facade (``copilot.service.Copilot``)."""

    def acknowledge_exception(self, actor: Actor, control: str, key: str) -> TrackedException:
        """Acknowledge one exception as ``actor``."""
        ...

    def snooze_exception(self, actor: Actor, control: str, key: str, until: datetime) -> TrackedException:
        """Snooze one exception until ``until`` as ``actor``."""
        ...

    def propose(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        """Submit a proposal under the approval policy as ``actor``."""
        ...


class _Refused(Exception):
    """A refusal already phrased for the person (shown to them alone)."""


def _who(actor: Actor) -> str:
    return actor.name or actor.email or actor.external_id


def outcome_line(outcome: ProposalOutcome, who: str) -> str:
    """What became of "Propose", in one line (plain text): the approval request, or advisory only."""
    request = outcome.request
    if request is None:
        why = "; ".join(outcome.decision.reasons[:2]) or "the approval policy makes it advisory"
        return f"Proposed by {who}: advisory only, no approval request was created ({why})"
    again = ", already requested" if not request.created else ""
    needed = outcome.decision.approvers_needed or "no"
    state = f"{request.state.value}{again}, {needed} approval(s) needed in Odoo"
    return f"Proposed by {who}: approval request {request.name} ({state})"


class DigestActions:
    """The listeners of the digest's buttons, registered on the Slack channel's Bolt app."""

    def __init__(
        self,
        *,
        actor_of: Callable[[str], Actor],
        get_facade: Callable[[], ExceptionFacade],
        client: Any,
        find_proposal: Callable[[str], Proposal | None],
        park: Callable[[dict[str, Any], str, Exception], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.actor_of = actor_of
        self.get_facade = get_facade
        self.client = client
        self.find_proposal = find_proposal
        self.park = park
        self.clock = clock
        self._lock = threading.Lock()
        self._latest: OrderedDict[tuple[str, str], Blocks] = OrderedDict()

    def register(self, app: App) -> None:
        """Add the listeners ("Open in Odoo" is a url button the app already acks)."""
        app.action(ACK_ACTION_ID)(ack=_ack, lazy=[self.acknowledge])
        app.action(SNOOZE_ACTION_ID)(ack=_ack, lazy=[self.snooze])
        app.action(PROPOSE_ACTION_ID)(ack=_ack, lazy=[self.propose])

    # -- the buttons -------------------------------------------------------------------------------
    def acknowledge(self, action: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        """ "Acknowledge": the exception is not sent again; the message says who acknowledged it."""

        def work(actor: Actor, ref: ExceptionRef) -> Transform:
            self.get_facade().acknowledge_exception(actor, ref.control, ref.key)
            return lambda blocks: mark_handled(blocks, ref, f"Acknowledged by {_who(actor)}")

        self._handle(action, respond, body, work, what="acknowledge button")

    def snooze(self, action: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        """ "Snooze": silenced for the button's days; the message says who snoozed it and until when."""

        def work(actor: Actor, ref: ExceptionRef) -> Transform:
            days = min(max(ref.days or SNOOZE_DAYS, 1), MAX_SNOOZE_DAYS)
            until = self.clock() + timedelta(days=days)
            tracked = self.get_facade().snooze_exception(actor, ref.control, ref.key, until)
            shown = tracked.snoozed_until or until
            line = f"Snoozed by {_who(actor)} until {shown.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            return lambda blocks: mark_handled(blocks, ref, line)

        self._handle(action, respond, body, work, what="snooze button")

    def propose(self, action: dict[str, Any], respond: Callable[..., Any], body: dict[str, Any]) -> None:
        """ "Propose": the finding's first proposal becomes an approval request (under the policy)."""

        def work(actor: Actor, ref: ExceptionRef) -> Transform:
            proposal = self.find_proposal(ref.proposal_key) if ref.proposal_key else None
            if proposal is None:
                raise _Refused("This proposal has expired or is unknown: wait for the next digest.")
            outcome = self.get_facade().propose(actor, proposal)
            line = outcome_line(outcome, _who(actor))
            return lambda blocks: mark_proposed(blocks, ref, line)

        self._handle(action, respond, body, work, what="propose button")

    # -- the shared path -----------------------------------------------------------------------------
    def _handle(
        self,
        action: dict[str, Any],
        respond: Callable[..., Any],
        body: dict[str, Any],
        work: Callable[[Actor, ExceptionRef], Transform],
        *,
        what: str,
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        ref = ExceptionRef.parse(action.get("value"))
        try:
            if ref is None:
                raise _Refused("This button is not one of mine.")
            actor = self.actor_of(user)
            if actor.role is None:
                raise _Refused(NO_ODOO_USER)
            transform = work(actor, ref)
        except _Refused as exc:
            self._tell(respond, str(exc), what)
        except RateLimited as exc:
            self._tell(
                respond,
                f"You're going faster than I may answer: try again in {max(1, round(exc.retry_after))} s.",
                what,
            )
        except AccessDenied as exc:
            self._tell(respond, f"Your Odoo role doesn't allow this: {escape(str(exc))}.", what)
        except (LookupError, OdooNotFound):
            self._tell(respond, "This exception is no longer tracked (closed, or unknown).", what)
        except Exception as exc:  # the person gets an apology; the team gets the log and the dead letter
            log.exception("Slack %s failed for %s", what, user)
            self.park(body, what, exc)
            self._tell(respond, APOLOGY, what)
        else:
            try:
                self._update(body, transform)
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.error("Slack %s: the digest could not be updated: %s", what, exc)
                self.park(body, what, exc)
                self._tell(respond, "Done, but I could not update the digest message.", what)

    def _tell(self, respond: Callable[..., Any], text: str, what: str) -> None:
        """An answer for the clicker alone (the message is left as it was)."""
        blocks = notice_blocks(text)
        try:
            respond(text=text[:3000], blocks=blocks, response_type="ephemeral", replace_original=False)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.error("Slack %s: the refusal could not be delivered: %s", what, exc)

    def _update(self, body: dict[str, Any], transform: Transform) -> None:
        """Apply ``transform`` to the message's latest blocks and ``chat.update`` it."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        ts = message.get("ts") or container.get("message_ts")
        if not channel or not ts:
            raise OSError("the click names no message to update")
        where = (str(channel), str(ts))
        with self._lock:  # clicks on one message, one after the other, each on the blocks the last one left
            blocks = transform(self._latest.get(where) or message.get("blocks") or [])
            self.client.chat_update(channel=channel, ts=ts, text=message.get("text") or "", blocks=blocks)
            self._latest[where] = blocks
            self._latest.move_to_end(where)
            while len(self._latest) > _RECENT_MESSAGES:
                self._latest.popitem(last=False)


def _ack(ack: Callable[..., None]) -> None:
    ack()
