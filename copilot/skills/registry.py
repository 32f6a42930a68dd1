"""Every skill the facade runs, by name: each one a ``Skill`` with one ``run(ctx, input)``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from copilot.skills.answer.skill import ANSWER
from copilot.skills.at_risk.skill import AT_RISK
from copilot.skills.base import Skill
from copilot.skills.draft_reply.skill import DRAFT_REPLY
from copilot.skills.order_status import ORDER_STATUS
from copilot.skills.supplier_email.skill import SUPPLIER_EMAIL
from copilot.skills.triage.skill import TRIAGE

__all__ = ["ANSWER", "AT_RISK", "DRAFT_REPLY", "ORDER_STATUS", "SKILLS", "SUPPLIER_EMAIL", "TRIAGE"]

#: The registered skills by name (read-only; the skill objects hold no state).
SKILLS: Mapping[str, Skill[Any, Any]] = MappingProxyType(
    {s.name: s for s in (SUPPLIER_EMAIL, TRIAGE, DRAFT_REPLY, ANSWER, ORDER_STATUS, AT_RISK)}
)
