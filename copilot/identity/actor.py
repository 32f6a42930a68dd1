"""The actor of a request: channel, the person's id there, their Odoo user, role and companies."""

from __future__ import annotations

import getpass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CHANNELS", "ROLES", "SKILLS", "Actor", "Channel", "Role", "Skill", "local_actor"]

Role = Literal["customer_service", "buyer", "manager", "evaluator"]
Channel = Literal["http", "slack", "email", "cli", "webhook"]
#: What a person can ask the copilot for; each role has an allow-list of these (``rules.ROLE_SKILLS``).
Skill = Literal["summarize", "classify", "draft", "ask", "propose", "eval", "audit"]
ROLES: tuple[Role, ...] = get_args(Role)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
SKILLS: tuple[Skill, ...] = get_args(Skill)


class Actor(BaseModel):
    """A person (or an API client) making a request. ``role`` None: a service client whose scopes decide."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    external_id: str = Field(description="The id on the channel: Slack user id, email address, API client name")
    email: str | None = None
    name: str | None = None
    odoo_user_id: int | None = Field(default=None, description="The matching Odoo user (by email or login)")
    role: Role | None = None
    company_ids: tuple[int, ...] | None = Field(
        default=None, description="Companies whose records the person may see (None: not restricted further)"
    )

    @property
    def key(self) -> str:
        """A stable id for rate limits and the audit trail: ``channel:external_id``."""
        return f"{self.channel}:{self.external_id}"

    @property
    def label(self) -> str:
        """How logs and messages name the person."""
        return f"{self.name or self.external_id} ({self.role or 'service'}, {self.channel})"


def local_actor() -> Actor:
    """The operator at this machine's command line (a service actor: whoever runs the CLI holds the config)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = "unknown"
    return Actor(channel="cli", external_id=user, name=user)
