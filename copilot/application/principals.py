"""Who asks: explicit principal types. Authorization looks at the type, never at a channel name or an id prefix.

- ``Person``: someone with an Odoo user; the role and companies come from Odoo and the roles file
  (``Copilot.actor_for``). A plain ``copilot.identity.Actor`` is treated as a person too: without a role it
  may do nothing, whatever its channel or id says.
- ``ServiceClient``: an authenticated machine (an HTTP API token, a signed webhook source, the operator at
  this machine's command line) whose scopes decide.
- ``SharedMailbox``: the copilot's own mailbox processing one outside sender's mail.

Each principal is an ``Actor`` (channel, id, role, companies), so the rate limiter, company scope and audit
record keep naming who asked.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import Literal, get_args

from pydantic import Field, model_validator

from copilot.identity import Actor, Channel, Skill

__all__ = [
    "ALL_SCOPES",
    "USE_CASES",
    "ClientKind",
    "Person",
    "Principal",
    "ServiceClient",
    "SharedMailbox",
    "UseCase",
]

#: What a principal can ask the facade for; each use case needs one permission (``authorization.NEEDS``).
UseCase = Literal[
    "summarize",
    "classify",
    "draft",
    "ask",
    "propose",
    "order_status",
    "orders_at_risk",
    "carrier_status",
    "ingest_supplier_email",
    "summarize_with_proposals",
    "classify_sender",
    "eval",
    "audit",
    "run_control",
    "list_exceptions",
    "acknowledge_exception",
    "snooze_exception",
]
USE_CASES: tuple[UseCase, ...] = get_args(UseCase)
ClientKind = Literal["api", "webhook", "cli", "scheduler"]
#: Every permission a service client can hold (the API's ``*``, the CLI operator).
ALL_SCOPES: frozenset[Skill] = frozenset({"summarize", "classify", "draft", "ask", "propose"})
_CHANNEL: dict[ClientKind, Channel] = {"api": "http", "webhook": "webhook", "cli": "cli", "scheduler": "cli"}
#: What the controls' scheduler may run: the controls (they read Odoo, as a question does).
SCHEDULER_SCOPES: frozenset[Skill] = frozenset({"ask"})
#: What a signed webhook source's events may run (``channels.http.routes.webhooks``).
WEBHOOK_SCOPES: frozenset[Skill] = frozenset({"summarize", "classify", "ask"})


class Person(Actor):
    """A person with an Odoo user: ``role`` and ``company_ids`` decide (no role: nothing)."""


class ServiceClient(Actor):
    """An authenticated machine (API token, signed webhook source, CLI operator): its ``scopes`` decide."""

    kind: ClientKind
    scopes: frozenset[Skill] = Field(default_factory=frozenset)

    @model_validator(mode="after")
    def _consistent(self) -> ServiceClient:
        if self.role is not None:
            raise ValueError("a service client has scopes, not a role")
        if self.channel != _CHANNEL[self.kind]:
            raise ValueError(f"a {self.kind} client is on the {_CHANNEL[self.kind]} channel, not {self.channel}")
        return self

    @property
    def relays_our_mail(self) -> bool:
        """True for a signed webhook source: the mail it relays came through our own receiving server."""
        return self.kind == "webhook"

    @classmethod
    def api(cls, name: str, scopes: Iterable[str]) -> ServiceClient:
        """An HTTP API client authenticated by its bearer token, with the token's scopes."""
        return cls(kind="api", channel="http", external_id=name, scopes=_skills(scopes))

    @classmethod
    def webhook(cls, source: str) -> ServiceClient:
        """A webhook source whose HMAC signature was verified."""
        return cls(kind="webhook", channel="webhook", external_id=source, scopes=WEBHOOK_SCOPES)

    @classmethod
    def scheduler(cls) -> ServiceClient:
        """The controls' scheduler (APScheduler in ``copilot serve``, or a Celery worker's scheduled task)."""
        return cls(kind="scheduler", channel="cli", external_id="scheduler", name="scheduler", scopes=SCHEDULER_SCOPES)

    @classmethod
    def cli_operator(cls) -> ServiceClient:
        """The operator at this machine's command line: whoever runs the CLI holds the configuration."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (containers)
            user = "unknown"
        return cls(kind="cli", channel="cli", external_id=user, name=user, scopes=ALL_SCOPES)


class SharedMailbox(Actor):
    """The shared mailbox processing one outside sender's mail (summarize, classify, draft; never ask or propose).

    The sender is part of its id, so the rate limit applies per outside sender.
    """

    mailbox: str
    sender: str

    @model_validator(mode="after")
    def _consistent(self) -> SharedMailbox:
        if self.role is not None or self.channel != "email":
            raise ValueError("the shared mailbox is on the email channel and has no role")
        return self

    @classmethod
    def for_sender(cls, mailbox: str, sender: str) -> SharedMailbox:
        """The mailbox ``mailbox`` (its IMAP user) handling mail from ``sender``."""
        sender = sender.strip().lower()
        return cls(channel="email", external_id=f"mailbox:{mailbox}:{sender}", mailbox=mailbox, sender=sender)


#: Anything the facade accepts as "who asks" (a plain ``Actor`` counts as a person).
Principal = Person | ServiceClient | SharedMailbox | Actor


def _skills(scopes: Iterable[str]) -> frozenset[Skill]:
    wanted = {str(s) for s in scopes}
    return frozenset(s for s in ALL_SCOPES if s in wanted)
