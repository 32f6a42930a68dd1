"""The approval policy: per action type a mode and the thresholds that raise its risk tier.

Modes: ``advisory`` (shown only, no request), ``approval`` (one approver), ``dual_control`` (two
distinct approvers), ``pre_approved`` (explicitly low-risk types: a request is still created, approved
by policy and audited; anything above the low tier falls back to ``approval``; and only for proposals
the copilot derived itself from a skill, never for one an API client submitted). An action type the
policy does not name is advisory: everything new starts by only being shown.

Tiers follow the financial exposure the server computed (e.g. a price change: |new - old| x open
quantity): the action's ``amount_tiers`` first, else the policy-wide ``exposure_tiers`` (by default
high from 10,000 and critical from 50,000, in the target's currency).

The policy is a YAML file (``COPILOT_POLICY_FILE``; without one, everything is advisory), validated
when the copilot starts: a typo in it is a configuration error, not a surprise at approval time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.approvals.schemas import ActionType, Proposal, RiskTier
from copilot.errors import ConfigError

__all__ = ["COPILOT_SOURCES", "ActionPolicy", "Decision", "Mode", "Policy", "load_policy"]

#: Proposals the copilot derived itself (a skill's ``source``): the only ones policy may pre-approve.
COPILOT_SOURCES = frozenset({"supplier_email", "triage"})
#: The default exposure thresholds of every action type (its own ``amount_tiers`` take precedence).
DEFAULT_EXPOSURE_TIERS = {RiskTier.HIGH: 10_000.0, RiskTier.CRITICAL: 50_000.0}


class Mode(StrEnum):
    """How a proposal of one action type is handled."""

    ADVISORY = "advisory"
    APPROVAL = "approval"
    DUAL_CONTROL = "dual_control"
    PRE_APPROVED = "pre_approved"


class ActionPolicy(BaseModel):
    """The rules for one action type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = Mode.ADVISORY
    tier: RiskTier = Field(default=RiskTier.LOW, description="The tier before thresholds")
    amount_tiers: dict[RiskTier, float] = Field(
        default_factory=dict, description="Minimum financial exposure for a tier, e.g. {high: 10000}"
    )
    key_account_tier: RiskTier | None = Field(default=None, description="At least this tier for key accounts")
    stock_impact_tier: RiskTier | None = Field(
        default=None, description="At least this tier when the action changes what is available to promise"
    )
    expires_after_hours: int = Field(default=72, ge=1, le=24 * 90)


class Policy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    actions: dict[ActionType, ActionPolicy] = Field(default_factory=dict)
    flagged_input_tier: RiskTier = Field(
        default=RiskTier.HIGH, description="At least this tier when the source was flagged by an input guardrail"
    )
    exposure_tiers: dict[RiskTier, float] = Field(
        default_factory=lambda: dict(DEFAULT_EXPOSURE_TIERS),
        description="Minimum exposure for a tier, for every action type (its amount_tiers take precedence)",
    )

    @model_validator(mode="after")
    def _pre_approved_is_low(self) -> Policy:
        for action, rules in self.actions.items():
            if rules.mode is Mode.PRE_APPROVED and rules.tier is not RiskTier.LOW:
                raise ValueError(f"{action.value}: pre_approved is only for low-risk types (tier: low)")
        return self

    def rules(self, action: ActionType) -> ActionPolicy:
        """The rules of ``action`` (advisory when the file does not name it)."""
        return self.actions.get(action, ActionPolicy())


class Decision(BaseModel):
    """What the policy says about one proposal."""

    model_config = ConfigDict(frozen=True)

    mode: Mode
    tier: RiskTier
    reasons: list[str]
    approvers_needed: int = Field(description="Distinct approvers needed (0: none or policy pre-approval)")
    expires_at: datetime

    @property
    def creates_request(self) -> bool:
        """Advisory proposals are only shown; every other mode creates a request in Odoo."""
        return self.mode is not Mode.ADVISORY


def _raise(tier: RiskTier, to: RiskTier | None) -> RiskTier:
    return to if to is not None and to.rank > tier.rank else tier


def decide(
    policy: Policy,
    proposal: Proposal,
    *,
    now: datetime,
    key_account: bool = False,
    stock_impact: bool = False,
    flagged_input: bool = False,
) -> Decision:
    """The mode, tier and expiry of ``proposal`` under ``policy``, with the reasons for the tier."""
    rules = policy.rules(proposal.action_type)
    tier = _raise(rules.tier, proposal.risk_tier)
    reasons = [f"{proposal.action_type.value}: {rules.mode.value}, base tier {tier.value}"]
    amount = abs(proposal.amount or 0.0)
    thresholds = {**policy.exposure_tiers, **rules.amount_tiers}
    for level, minimum in sorted(thresholds.items(), key=lambda kv: kv[0].rank):
        if amount >= minimum and level.rank > tier.rank:
            tier = level
            reasons.append(f"amount {amount:,.2f} {proposal.currency or ''} ≥ {minimum:,.2f}: {level.value}".strip())
    if key_account and rules.key_account_tier and rules.key_account_tier.rank > tier.rank:
        tier = rules.key_account_tier
        reasons.append(f"key account: {tier.value}")
    if stock_impact and rules.stock_impact_tier and rules.stock_impact_tier.rank > tier.rank:
        tier = rules.stock_impact_tier
        reasons.append(f"changes available stock: {tier.value}")
    flagged_input = flagged_input or proposal.flagged_input
    if flagged_input and policy.flagged_input_tier.rank > tier.rank:
        tier = policy.flagged_input_tier
        reasons.append(f"the source was flagged by an input guardrail: {tier.value}")
    mode = rules.mode
    if mode is Mode.PRE_APPROVED and proposal.source not in COPILOT_SOURCES:
        mode = Mode.APPROVAL
        reasons.append(f"pre-approval is for the copilot's own proposals; source {proposal.source!r} needs an approver")
    if mode is Mode.PRE_APPROVED and tier is not RiskTier.LOW:
        mode = Mode.APPROVAL
        reasons.append(f"pre-approval is for low risk only; tier {tier.value} needs an approver")
    if mode is Mode.DUAL_CONTROL and tier.rank < RiskTier.HIGH.rank:
        tier = RiskTier.HIGH  # the request's tier is what Odoo enforces two approvers on
    approvers = {Mode.ADVISORY: 0, Mode.PRE_APPROVED: 0, Mode.APPROVAL: 1, Mode.DUAL_CONTROL: 2}[mode]
    if mode is Mode.APPROVAL and tier.rank >= RiskTier.HIGH.rank:
        approvers = 2
    return Decision(
        mode=mode,
        tier=tier,
        reasons=reasons,
        approvers_needed=approvers,
        expires_at=now + timedelta(hours=rules.expires_after_hours),
    )


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path`` (``ConfigError`` naming the problem), or all-advisory without a file."""
    if path is None:
        return Policy(version=1)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Policy.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(f"COPILOT_POLICY_FILE: {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"COPILOT_POLICY_FILE: {path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(f"COPILOT_POLICY_FILE: {path}: {where}: {first.get('msg')}") from None
