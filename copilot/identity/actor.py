"""The actor of a request: channel, the person's id there, their Odoo user, role and companies."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CHANNELS", "ROLES", "SKILLS", "Actor", "Channel", "Role", "Skill"]

Role = Literal["customer_service", "buyer", "manager", "evaluator"]
Channel = Literal["http", "slack", "email", "cli", "webhook"]
#: What a person can ask the copilot for; each role has an allow-list of these (``rules.ROLE_SKILLS``).
Skill = Literal["summarize", "classify", "draft", "ask", "propose", "eval", "audit"]
ROLES: tuple[Role, ...] = get_args(Role)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
SKILLS: tuple[Skill, ...] = get_args(Skill)


class Actor(BaseModel):
    """Who makes a request, as the audit record and rate limiter name them. ``role`` None: no role.

    The principal types (person, service client, shared mailbox) in ``copilot.application.principals`` are
    actors; a plain ``Actor`` is a person, and without a role it may do nothing.
    """

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
