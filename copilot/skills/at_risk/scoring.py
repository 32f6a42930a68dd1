"""The explainable risk model: each factor a weight times a figure in [0, 1], their sum the line's risk.

A line misses its commitment when any part of it is not shipped by then, so what makes it miss dominates:

* ``commitment_passed``: the commitment has passed with part of the line not in stock;
* ``uncovered``: part of the line has no stock and no incoming receipt;
* ``supplier_no_date``: part waits on a receipt whose vendor's e-mail gives no date (force majeure, on hold);
* ``cover_after_commitment``: the latest receipt it waits for (plus handling) comes after the commitment day.

Each of these weighs at least ``miss_floor`` (``late_floor`` for a late cover) of its weight, more the larger the
share (or the later): one alone makes the line more likely late than not. What only makes a cover less sure adds
less, weighted by the share receipts cover: ``tight_cover`` (little slack before the commitment),
``receipt_late`` (expected later than first promised), ``supplier_revised`` (planned later than promised),
``supplier_unreliable`` (the vendor's share of late done receipts). A risk above 1 is scaled down with its factors,
so the contributions always add up to the risk. The order's risk is its worst line's; its score is that risk times
its priority weight: key account (a partner tag or a configured name) times a weight growing with the logarithm of
the order's untaxed value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from copilot.controls.model import SEVERITIES, Factor, Severity
from copilot.skills.at_risk.cover import Demand, Supply

__all__ = ["LineRisk", "RiskModel", "Spec", "line_risk", "priority_weight", "severity_for"]

_DAY = 86_400.0


class RiskModel(BaseModel):
    """The model's weights and settings (defaults tuned on the sandbox scenario; the control may override)."""

    model_config = ConfigDict(frozen=True)

    commitment_passed: float = Field(default=1.0, ge=0, le=1, description="Weight when the commitment has passed")
    uncovered: float = Field(default=0.9, ge=0, le=1, description="Weight when part of the line has no cover")
    cover_after_commitment: float = Field(default=0.9, ge=0, le=1, description="Weight when the cover comes late")
    #: A line with any part short or late misses its date: its factor is at least this share of its weight.
    miss_floor: float = Field(default=0.75, ge=0, le=1)
    #: A cover a day late weighs this share of ``cover_after_commitment``; a week late, all of it.
    late_floor: float = Field(default=0.7, ge=0, le=1)
    tight_cover: float = Field(default=0.15, ge=0, le=1, description="Weight of a cover with little slack")
    receipt_late: float = Field(default=0.15, ge=0, le=1)
    supplier_revised: float = Field(default=0.1, ge=0, le=1)
    supplier_unreliable: float = Field(default=0.1, ge=0, le=1)
    #: Days a received product takes to ship (receipt, put-away, pick, pack): 0 ships the day it comes in.
    handling_days: float = Field(default=0.0, ge=0)
    #: A vendor late on at least this share of at least ``slip_min_receipts`` done receipts is expected late again
    #: by its usual delay.
    slip_from_rate: float = Field(default=0.5, ge=0, le=1)
    slip_min_receipts: int = Field(default=3, ge=1)
    #: Business days from a ship date the vendor's e-mail gives to the arrival.
    transit_days: int = Field(default=2, ge=0)
    #: Days of lateness at which a lateness factor is full.
    full_after_days: float = Field(default=7.0, gt=0)
    #: Slack under which arriving before the commitment still carries risk.
    slack_days: float = Field(default=2.0, gt=0)
    #: Vendor prior: late rate and weight (in receipts) for vendors with little history; delay when late.
    prior_late_rate: float = Field(default=0.25, ge=0, le=1)
    prior_weight: float = Field(default=4.0, gt=0)
    default_delay_days: float = Field(default=2.0, ge=0)
    history_days: int = Field(default=365, ge=1)
    #: Priority: key accounts' weight, their partner tags (ilike) and names.
    key_account_weight: float = Field(default=1.5, ge=1)
    key_account_tags: tuple[str, ...] = ("key account", "key-account")
    key_accounts: tuple[str, ...] = ()
    #: An order value of this many currency units adds log10(2) to the weight; each tenfold about 1 more.
    value_unit: float = Field(default=1000.0, gt=0)
    #: Lines below this risk are not reported.
    min_risk: float = Field(default=0.05, ge=0, le=1)
    #: Severity by score (risk x weight): the lowest score of each severity; below "medium" is "low".
    severity_thresholds: Mapping[str, float] = Field(
        default_factory=lambda: {"critical": 1.4, "high": 0.9, "medium": 0.5}
    )


class Spec(NamedTuple):
    """A factor before it becomes a ``Factor`` (only the lines an item shows are turned into models)."""

    name: str
    label: str
    value: float
    contribution: float


@dataclass(frozen=True, slots=True)
class LineRisk:
    """One line's risk, its factors (summing to it), the receipt it waits for and when it is covered."""

    demand: Demand
    risk: float
    specs: tuple[Spec, ...]
    worst: Supply | None
    ready: datetime | None
    value_at_risk: float

    def factors(self) -> list[Factor]:
        """The factors as the shared ``Factor`` model."""
        return [  # built from checked figures: no validation needed
            Factor.model_construct(name=f.name, label=f.label, value=f.value, contribution=f.contribution)
            for f in self.specs
        ]

    def has(self, name: str) -> bool:
        """Whether a factor of this name contributes."""
        return any(f.name == name for f in self.specs)


def _ramp(days: float, full: float) -> float:
    return min(max(days / full, 0.0), 1.0)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / _DAY


def _miss(share: float, floor: float) -> float:
    """How much a line misses by when ``share`` of it cannot ship in time: any part late makes the line late."""
    return floor + (1.0 - floor) * min(max(share, 0.0), 1.0)


def _from_email(supply: Supply) -> str:
    """ " (date from the supplier's e-mail: <message>)" when the vendor's e-mail gave it."""
    if supply.news is None:
        return ""
    return f" (date from the supplier's email, message {supply.news.message.id}: {supply.news.message.display_name})"


def line_risk(demand: Demand, model: RiskModel, now: datetime) -> LineRisk | None:
    """The risk that this line misses its commitment, with its factors; None when nothing is missing."""
    waiting = demand.short - demand.from_stock  # what free stock cannot ship today
    if waiting <= 1e-9 or demand.ordered <= 0:
        return None
    ordered = demand.ordered
    dated = [p for p in demand.pieces if not p.supply.never]
    undated = [p for p in demand.pieces if p.supply.never]
    covered_share = sum(p.quantity for p in dated) / ordered
    factors: list[Spec] = []
    need_day = demand.need.date() if demand.need is not None else None
    if demand.need is not None and need_day is not None and need_day < now.date():
        passed = _days(now - demand.need)
        factors.append(
            Spec(
                name="commitment_passed",
                label=(
                    f"committed for {demand.need:%Y-%m-%d} ({passed:.0f} days ago), "
                    f"{waiting:g} {demand.product} not in stock"
                ),
                value=round(passed, 2),
                contribution=model.commitment_passed * _miss(waiting / ordered, model.miss_floor),
            )
        )
    if demand.uncovered > 1e-9:
        factors.append(
            Spec(
                name="uncovered",
                label=f"{demand.uncovered:g} {demand.product} covered by no stock and no incoming receipt",
                value=round(demand.uncovered, 3),
                contribution=model.uncovered * _miss(demand.uncovered / ordered, model.miss_floor),
            )
        )
    if undated:
        missing = sum(p.quantity for p in undated)
        supply = undated[0].supply
        why = supply.news.why if supply.news is not None else "no date"
        factors.append(
            Spec(
                name="supplier_no_date",
                label=f"{missing:g} {demand.product} wait on {_po(supply)}: {why}{_from_email(supply)}",
                value=round(missing, 3),
                contribution=model.uncovered * _miss(missing / ordered, model.miss_floor),
            )
        )
    worst = max(dated, key=lambda p: (p.supply.eta, p.supply.late_days)).supply if dated else None
    ready = worst.eta + timedelta(days=model.handling_days) if worst is not None else None
    if worst is not None and covered_share > 0:
        po = _po(worst)
        if need_day is not None and ready is not None and demand.need is not None:
            slip = (ready.date() - need_day).days
            if slip > 0:
                factors.append(
                    Spec(
                        name="cover_after_commitment",
                        label=(
                            f"{po} covers it by {ready:%Y-%m-%d}, {slip} days after the commitment "
                            f"{demand.need:%Y-%m-%d}{_from_email(worst)}"
                        ),
                        value=float(slip),
                        contribution=model.cover_after_commitment
                        * _miss(_ramp(slip, model.full_after_days), model.late_floor),
                    )
                )
            elif -slip < model.slack_days:
                factors.append(
                    Spec(
                        name="tight_cover",
                        label=(
                            f"{po} covers it by {ready:%Y-%m-%d}, leaving {-slip} days before "
                            f"{demand.need:%Y-%m-%d}{_from_email(worst)}"
                        ),
                        value=float(slip),
                        contribution=model.tight_cover * covered_share * (1.0 + slip / model.slack_days),
                    )
                )
        if worst.late_days > 0:
            if worst.news is not None:
                late_label = f"{po} receipt is expected {worst.late_days:.0f} days after its promised date"
            elif worst.overdue_days >= 0.5:
                late_label = f"{po} receipt is {worst.overdue_days:.0f} days overdue"
            else:
                late_label = f"{po} receipt is expected {worst.late_days:.0f} days after its promised date"
            factors.append(
                Spec(
                    name="receipt_late",
                    label=late_label + _from_email(worst),
                    value=round(worst.late_days, 2),
                    contribution=model.receipt_late * covered_share * _ramp(worst.late_days, model.full_after_days),
                )
            )
        if worst.revised_days > 0 and worst.planned is not None:
            factors.append(
                Spec(
                    name="supplier_revised",
                    label=(
                        f"{po} date revised to {worst.planned:%Y-%m-%d}, "
                        f"{worst.revised_days:.0f} days later than promised"
                    ),
                    value=round(worst.revised_days, 2),
                    contribution=model.supplier_revised
                    * covered_share
                    * _ramp(worst.revised_days, model.full_after_days),
                )
            )
        reliability = worst.reliability
        vendor = worst.vendor[1] if worst.vendor else "an unknown vendor"
        history = (
            f"{reliability.late} of {reliability.receipts} receipts late"
            if reliability.receipts
            else "no receipt history"
        )
        factors.append(
            Spec(
                name="supplier_unreliable",
                label=f"{vendor}: {history} (late rate {reliability.late_rate:.0%})",
                value=round(reliability.late_rate, 3),
                contribution=model.supplier_unreliable * covered_share * reliability.late_rate,
            )
        )
    total = sum(f.contribution for f in factors if f.contribution > 0)
    scale = 1.0 / total if total > 1.0 else 1.0
    factors = [f._replace(contribution=round(f.contribution * scale, 6)) for f in factors if f.contribution > 0]
    excess = sum(f.contribution for f in factors) - 1.0
    if factors and (excess > 0 or scale < 1.0):  # rounding: the largest factor takes the last millionths
        top = max(range(len(factors)), key=lambda i: factors[i].contribution)
        factors[top] = factors[top]._replace(contribution=round(factors[top].contribution - excess, 6))
    risk = sum(f.contribution for f in factors)
    if risk < model.min_risk:
        return None
    at_risk = demand.value * (demand.short / ordered)
    cover = ready if demand.uncovered <= 1e-9 and not undated else None
    return LineRisk(demand, min(risk, 1.0), tuple(factors), worst, cover, at_risk)


def _po(supply: Supply) -> str:
    if supply.purchase_order is not None:
        return supply.purchase_order[1]
    if supply.receipt is not None:
        return supply.receipt[1]
    return "an incoming receipt"


def priority_weight(order_value: float, *, key_account: bool, model: RiskModel) -> float:
    """Key account weight times 1 + log10(1 + order value / unit)."""
    weight = 1.0 + math.log10(1.0 + max(order_value, 0.0) / model.value_unit)
    return (model.key_account_weight if key_account else 1.0) * weight


def severity_for(score: float, thresholds: Mapping[str, float]) -> Severity:
    """The first severity (worst first) whose lowest score the score reaches; else low."""
    for severity in SEVERITIES[:-1]:
        floor = thresholds.get(severity)
        if floor is not None and score >= floor:
            return severity
    return "low"
