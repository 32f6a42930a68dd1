"""The exactly-once proof: every input compared with what PostgreSQL and the Slack stand-in recorded.

An input counts as processed exactly once when its ledger row is finished and its effects happened once:
one successful audit record for its input hash (a second processing would append a second one; a failed
attempt that was retried records an error and is counted apart), and one delivery of its result (one
Slack answer in its thread, one outbox row per target of a mailbox result). The dead letters may hold
only what was bad on purpose; the forged webhook must have been refused and left no row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from benchmarks.load.inputs import EmailInput, SlackInput, WebhookInput, question_hash
from benchmarks.load.ledgers import DeadLetterInfo, EmailState, WebhookState
from channels.slack.text import slack_to_plain
from copilot.email import parse_email

__all__ = ["KindCheck", "Proof", "check_emails", "check_slack", "check_webhooks", "unexpected_dead_letters"]

SHOWN = 10


class KindCheck(BaseModel):
    """One kind of input: how many were processed exactly once, and the first few that were not."""

    kind: str
    expected: int
    once: int = 0
    missing: list[str] = Field(default_factory=list, description="No finished ledger row, or no effect at all.")
    repeated: list[str] = Field(default_factory=list, description="Processed or delivered more than once.")
    failed: list[str] = Field(default_factory=list, description="Finished as failed (or parked).")

    @property
    def ok(self) -> bool:
        """Every input exactly once."""
        return self.once == self.expected

    def note(self, bucket: list[str], item: str) -> None:
        """Keep the first few offenders of a kind (the counts are what matter)."""
        if len(bucket) < SHOWN:
            bucket.append(item)


class Proof(BaseModel):
    """The whole verdict."""

    webhooks: KindCheck
    emails: KindCheck
    slack: KindCheck
    forged_webhook_status: int | None
    forged_webhook_recorded: bool
    dead_letters: int
    unexpected_dead_letters: list[str]
    failed_attempts: int = Field(default=0, description="Audit records of attempts that failed (then retried).")

    @property
    def once(self) -> int:
        """Inputs processed exactly once."""
        return self.webhooks.once + self.emails.once + self.slack.once

    @property
    def expected(self) -> int:
        """Inputs sent (the deliberately bad ones excluded)."""
        return self.webhooks.expected + self.emails.expected + self.slack.expected

    @property
    def ok(self) -> bool:
        """Exactly once for all, nothing unexpected parked, the forged webhook refused and not recorded."""
        return (
            self.once == self.expected
            and not self.unexpected_dead_letters
            and self.forged_webhook_status == 401
            and not self.forged_webhook_recorded
        )


def check_webhooks(
    sent: Sequence[WebhookInput], ledger: dict[str, WebhookState], audit: Counter[tuple[str, str]]
) -> KindCheck:
    """Each webhook: a ``done`` row in ``webhook_events`` and exactly one audit record of its question."""
    check = KindCheck(kind="webhooks", expected=len(sent))
    for item in sent:
        row = ledger.get(item.event_id)
        records = audit[("webhook", question_hash(item.text))]
        if records > 1:
            check.note(check.repeated, f"{item.event_id}: {records} audit records")
        elif row is None or row.status not in ("done", "failed") or records == 0:
            check.note(check.missing, f"{item.event_id}: {row.status if row else 'no ledger row'}, {records} records")
        elif row.status == "failed":
            check.note(check.failed, item.event_id)
        else:
            check.once += 1
    return check


def check_slack(
    sent: Sequence[SlackInput],
    seen: set[str],
    answers: Counter[str],
    audit: Counter[tuple[str, str]],
) -> KindCheck:
    """Each mention: its dedupe key kept, one answer in its thread, one audit record of its question."""
    check = KindCheck(kind="slack", expected=len(sent))
    for item in sent:
        posts = answers[item.thread_ts]
        records = audit[("slack", question_hash(slack_to_plain(item.text)))]
        if posts > 1 or records > 1:
            check.note(check.repeated, f"{item.event_id}: {posts} answers, {records} audit records")
        elif posts == 0 or records == 0 or f"event:{item.event_id}" not in seen:
            check.note(check.missing, f"{item.event_id}: {posts} answers, {records} audit records")
        else:
            check.once += 1
    return check


def check_emails(
    sent: Sequence[EmailInput],
    ledger: dict[str, EmailState],
    outbox: Counter[tuple[str, str]],
    audit: Counter[tuple[str, str]],
) -> KindCheck:
    """Each email: ``done`` in the email ledger, one audit record, each delivery target recorded once."""
    check = KindCheck(kind="emails", expected=len(sent))
    deliveries: dict[str, list[int]] = {}
    for (key, _target), count in outbox.items():
        deliveries.setdefault(key, []).append(count)
    for item in sent:
        email = parse_email(item.raw)
        records = audit[("email", question_hash(f"{email.subject}\n{email.text}"))]
        row = ledger.get(item.key)
        counts = deliveries.get(item.key, [])
        if records > 1 or any(c > 1 for c in counts):
            check.note(check.repeated, f"{item.key}: {records} audit records, deliveries {counts}")
        elif row is None or row.status == "pending" or records == 0 or not counts:
            check.note(check.missing, f"{item.key}: {row.status if row else 'no ledger row'}, {records} records")
        elif row.status == "parked":
            check.note(check.failed, item.key)
        else:
            check.once += 1
    return check


def unexpected_dead_letters(letters: Sequence[DeadLetterInfo], bench_keys: set[str]) -> list[str]:
    """Parked items other than the malformed email (one ``UnreadableEmail`` that is none of the good ones)."""
    out: list[str] = []
    malformed_seen = False
    for letter in letters:
        bad_on_purpose = (
            letter.channel == "email" and letter.error_type == "UnreadableEmail" and letter.key not in bench_keys
        )
        if bad_on_purpose and not malformed_seen:
            malformed_seen = True
            continue
        out.append(f"{letter.channel} {letter.key}: {letter.error_type}: {letter.reason[:160]}")
    return out
