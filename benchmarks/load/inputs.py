"""The inputs of a run: signed webhooks, Slack events signed as Slack signs them, supplier emails, bad ones.

Every input is unique (its text carries its own reference), so each one has its own audit record and a
second processing of any of them shows up as a repeated input hash. Requests are signed when sent
(``signed()``), not when generated: both signatures carry a timestamp the receiver checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from copilot.guardrails.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

__all__ = [
    "BENCH_CHANNEL",
    "EVENT_ID_HEADER",
    "MALFORMED_EMAIL",
    "SOURCE",
    "EmailInput",
    "SlackInput",
    "WebhookInput",
    "bad_signature_webhook",
    "emails",
    "question_hash",
    "slack_events",
    "slack_headers",
    "webhooks",
]

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "emails"
#: The fixture whose bytes cannot be read as an email: parked at once, on purpose.
MALFORMED_EMAIL = FIXTURES / "binary_garbage.eml"
SOURCE = "bench"
EVENT_ID_HEADER = "X-Copilot-Event-Id"
#: The Slack channel the mentions come from (the answers go to its threads).
BENCH_CHANNEL = "C_BENCH"
POS = ["P00001", "P00002", "P00004", "P00005", "P00006", "P00007", "P00008", "P00009", "P00010", "P00012"]
SLACK_USERS = ["UADMIN", "UBUYER"]


def question_hash(text: str) -> str:
    """The audit trail's input hash of a question (SHA-256 of its text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebhookInput:
    """One webhook event: its id, JSON body and the question it asks."""

    event_id: str
    body: bytes
    text: str

    def headers(self, secret: str, *, now: int | None = None) -> dict[str, str]:
        """Headers of a freshly signed request."""
        stamp = int(time.time()) if now is None else now
        return {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(secret, stamp, self.body),
            EVENT_ID_HEADER: self.event_id,
        }


def webhooks(prefix: str, count: int, start: int = 0) -> list[WebhookInput]:
    """``count`` question events with ids ``<prefix>-<n>``, each asking about a PO with its own reference."""
    out = []
    for n in range(start, start + count):
        text = f"What is the status of {POS[n % len(POS)]}? (ref hook-{prefix}-{n})"
        body = json.dumps({"type": "question", "text": text}).encode()
        out.append(WebhookInput(f"{prefix}-{n:05d}", body, text))
    return out


def bad_signature_webhook() -> WebhookInput:
    """A webhook whose signature will not match (signed with another secret): refused 401, never recorded."""
    return webhooks("forged", 1)[0]


@dataclass(frozen=True)
class SlackInput:
    """One Events API callback (an app_mention) as Slack posts it."""

    event_id: str
    thread_ts: str
    text: str
    body: bytes


def slack_headers(secret: str, body: bytes, *, now: int | None = None) -> dict[str, str]:
    """Slack's signing: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    stamp = str(int(time.time()) if now is None else now)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def slack_events(count: int) -> list[SlackInput]:
    """``count`` mentions of the bot, each a new thread in ``BENCH_CHANNEL`` with its own question."""
    out = []
    for n in range(count):
        ts = f"{1_700_100_000 + n}.{n % 1_000_000:06d}"
        event = {
            "type": "app_mention",
            "user": SLACK_USERS[n % len(SLACK_USERS)],
            "text": f"<@UBOT> what's the status of {POS[n % len(POS)]}? (ref slack-{n})",
            "ts": ts,
            "channel": BENCH_CHANNEL,
            "event_ts": ts,
        }
        body = {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": f"EvBENCH{n:05d}",
            "event_time": 1_700_100_000 + n,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
        out.append(SlackInput(f"EvBENCH{n:05d}", ts, event["text"], json.dumps(body).encode()))
    return out


@dataclass(frozen=True)
class EmailInput:
    """One message for the mailbox and the ledger key it will have (``mid:<Message-ID>``)."""

    key: str
    raw: bytes


def _templates() -> list[tuple[str, str, str]]:
    """(From, Subject, plain text) of the recorded supplier emails (not the question, not the injection)."""
    out = []
    for path in sorted(FIXTURES.glob("[0-9]*.eml")):
        if "question" in path.name or "injection" in path.name:
            continue
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        if body is None:
            continue
        out.append((str(msg["From"]), str(msg["Subject"]), body.get_content()))  # type: ignore[attr-defined]
    return out


def emails(count: int, run: str) -> list[EmailInput]:
    """``count`` supplier emails from the recorded ones, each with its own Message-ID and reference line."""
    templates = _templates()
    out = []
    for n in range(count):
        sender, subject, text = templates[n % len(templates)]
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = "purchasing@yourcompany.example.com"
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        message_id = f"<bench-{run}-{n:05d}@{parseaddr(sender)[1].split('@')[-1] or 'example.com'}>"
        msg["Message-ID"] = message_id
        msg.set_content(f"{text.rstrip()}\n\nOur reference: BENCH-{run}-{n:05d}\n")
        out.append(EmailInput(f"mid:{message_id}", msg.as_bytes(policy=policy.SMTP)))
    return out
