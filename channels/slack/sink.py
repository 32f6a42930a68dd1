"""``SlackDigestSink``: the controls' ``ExceptionSink`` that posts each owner's digest to its Slack channel.

An owner is a channel (``#purchasing`` or a channel id such as ``C0123ABCD``) or a role, which
``COPILOT_SLACK_OWNER_CHANNELS`` maps to a channel (JSON, e.g. ``{"buyer": "#purchasing"}``; an entry there
wins over reading the owner as a channel). Posting goes through ``SlackNotifier.post``: every message is
recorded in the outbox under the digest's key, so a retried delivery never posts a message twice, and
without a bot token the outbox row is the delivery. Nothing is dropped silently:

- Slack unreachable or rate-limiting: retried ``attempts`` times with a doubling pause; then the digest is
  parked as a dead letter (channel ``slack``) and ``SlackUnavailable`` is raised, so the caller keeps the
  exceptions unsent and the next run sends them again.
- Slack refusing for good (unknown channel, bot not in it, bad token), or a role with no channel: the
  digest is parked as a dead letter (and kept in the outbox) and an error logged; no exception is raised,
  since sending again would fail the same way.

The "Propose" buttons' proposals are stashed (``SlackState``) for the clicks, like a summary's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from channels.slack.digest import DigestMessage, delivery_summary, digest_messages, proposals_of
from channels.slack.notify import SlackNotifier, SlackUnavailable
from channels.slack.state import SlackState
from copilot.application import Outbox
from copilot.config import Settings
from copilot.controls.model import Delivery
from copilot.errors import CopilotError
from copilot.state import Database, DeadLetterStore

__all__ = ["DIGEST_KIND", "SlackDigestSink", "digest_key", "slack_digest_sink"]

log = logging.getLogger(__name__)

#: The outbox kind of a digest message.
DIGEST_KIND = "exception_digest"


def _is_channel_id(owner: str) -> bool:
    """A Slack conversation id (``C…``, ``G…``, ``D…``: upper-case letters and digits)."""
    return len(owner) >= 9 and owner[0] in "CGD" and owner.isascii() and owner.isalnum() and owner == owner.upper()


def digest_key(owner: str, deliveries: Sequence[Delivery]) -> str:
    """The digest's identity: the owner and each exception's key, change, severity, score and first sighting."""
    items = sorted(
        json.dumps(
            [
                d.exception.finding.control,
                d.exception.finding.key,
                d.change,
                d.exception.finding.severity,
                d.exception.finding.score,
                d.exception.first_seen.isoformat(),
            ]
        )
        for d in deliveries
    )
    digest = hashlib.sha256("\n".join([owner, *items]).encode()).hexdigest()[:32]
    return f"digest:{digest}"


class SlackDigestSink:
    """Posts one owner's new and worsened exceptions to Slack as a digest (``ExceptionSink``)."""

    name = "slack"

    def __init__(
        self,
        settings: Settings,
        notifier: SlackNotifier,
        state: SlackState,
        deadletters: DeadLetterStore,
        *,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.state = state
        self.deadletters = deadletters
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.odoo_url = str(settings.odoo_url) if settings.odoo_url is not None else None

    def channel_for(self, owner: str) -> str | None:
        """The Slack channel of an owner: its entry in ``COPILOT_SLACK_OWNER_CHANNELS``, else the owner as a channel."""
        owner = owner.strip()
        mapped = self.settings.slack_owner_channels.get(owner)
        if mapped:
            return mapped
        if owner.startswith("#") or _is_channel_id(owner):
            return owner
        return None

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        """Post the owner's digest (one message, more when it is long); see the module for failures."""
        messages = digest_messages(owner, deliveries, odoo_url=self.odoo_url, now=self.clock())
        if not messages:
            return
        self.state.stash(proposals_of(deliveries))
        key = digest_key(owner, deliveries)
        channel = self.channel_for(owner)
        data: dict[str, Any] = {"owner": owner, **delivery_summary(deliveries)}
        if channel is None and self.notifier.slack is not None:
            reason = f"no Slack channel for the owner {owner!r}: map it in COPILOT_SLACK_OWNER_CHANNELS"
            log.error("exception digest not posted: %s", reason)
            self._park(key, owner, channel, messages, data, reason=reason, error_type="ConfigError")
        for number, message in enumerate(messages, start=1):
            try:
                self._post(f"{key}:{number}", channel, message, {**data, "blocks": message.blocks})
            except SlackUnavailable as exc:
                self._park(key, owner, channel, messages, data, reason=str(exc), error_type=type(exc).__name__)
                raise
            except CopilotError as exc:  # refused for good: the same post would fail again
                log.error("exception digest for %s refused by Slack: %s", owner, exc)
                self._park(key, owner, channel, messages, data, reason=str(exc), error_type=type(exc).__name__)
                return
        log.info("exception digest for %s: %d exception(s) in %d message(s)", owner, len(deliveries), len(messages))

    def _post(self, key: str, channel: str | None, message: DigestMessage, data: dict[str, Any]) -> None:
        """Post one message, retrying while Slack is unavailable; the last failure propagates."""
        for attempt in range(1, self.attempts + 1):
            try:
                self.notifier.post(
                    key, kind=DIGEST_KIND, target=channel, text=message.text, blocks=message.blocks, data=data
                )
                return
            except SlackUnavailable as exc:
                if attempt == self.attempts:
                    raise
                pause = self.backoff * 2 ** (attempt - 1)
                log.warning("exception digest to %s: %s; retry %d in %.1f s", channel, exc, attempt, pause)
                self.sleep(pause)

    def _park(
        self,
        key: str,
        owner: str,
        channel: str | None,
        messages: list[DigestMessage],
        data: dict[str, Any],
        *,
        reason: str,
        error_type: str,
    ) -> None:
        payload = {**data, "channel": channel, "messages": [{"text": m.text, "blocks": m.blocks} for m in messages]}
        self.deadletters.park(
            channel="slack",
            key=key,
            reason=f"exception digest: {reason}",
            error_type=error_type,
            payload=json.dumps(payload, ensure_ascii=False),
            summary=f"exception digest for {owner} ({len(data.get('deliveries') or [])} exception(s))",
        )


def slack_digest_sink(
    settings: Settings,
    client: Any | None = None,
    *,
    db: Database,
    deadletters: DeadLetterStore | None = None,
) -> SlackDigestSink:
    """The Slack digest sink of the composition root: posts with ``client`` (default: one from the bot token)."""
    notifier = SlackNotifier(settings, Outbox(db), slack_client=client)
    return SlackDigestSink(settings, notifier, SlackState(db), deadletters or DeadLetterStore(db))
