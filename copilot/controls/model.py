"""The shapes shared by controls, the exception store, the sinks (Slack, Odoo) and the channels.

A control's run yields ``Finding``s. The store turns them into tracked exceptions (new, worsened, unchanged,
closed; acknowledged or snoozed by a person) and hands only the new and the worsened ones to the sinks as
``Delivery``s, grouped per owner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from copilot.citations import Citation

if TYPE_CHECKING:
    from copilot.skills.base import SkillContext

__all__ = [
    "SEVERITIES",
    "Control",
    "ControlRun",
    "Delivery",
    "ExceptionMirror",
    "ExceptionSink",
    "ExceptionState",
    "Factor",
    "Finding",
    "Severity",
    "TrackedException",
]

Severity = Literal["critical", "high", "medium", "low"]
#: Worst first: a finding's severity index in this tuple orders digests and decides "worsened".
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
ExceptionState = Literal["open", "acknowledged", "snoozed", "closed"]


class Factor(BaseModel):
    """One explainable contribution to a finding's score (e.g. "receipt 3 days late": +0.35)."""

    name: str = Field(description="Machine name, e.g. receipt_late")
    label: str = Field(description="What a person reads, e.g. 'P00009 receipt is 3 days late'")
    value: float | str | None = Field(default=None, description="The raw figure (days, units, ratio...)")
    contribution: float = Field(description="What this factor adds to the score")


class Finding(BaseModel):
    """One exception a control found on one run; ``key`` identifies it across runs."""

    control: str = Field(description="The control's name, e.g. orders_at_risk")
    key: str = Field(description="Stable identity across runs, e.g. 'sale.order:24'")
    severity: Severity
    score: float = Field(ge=0.0, description="Higher is worse; a higher score on a later run is 'worsened'")
    title: str = Field(description="One line, e.g. 'S00024 Gemini Furniture: Corner Desk Right Sit x10'")
    reason: str = Field(description="Why, in one sentence")
    record: Citation | None = Field(default=None, description="The Odoo record to open")
    evidence: list[Citation] = Field(default_factory=list)
    factors: list[Factor] = Field(default_factory=list)
    #: Proposed actions as approval-proposal payloads (``copilot.approvals`` shapes, as dicts), not submitted.
    proposals: list[dict[str, Any]] = Field(default_factory=list)
    since: datetime | None = Field(default=None, description="When the underlying problem began, if known")
    details: dict[str, Any] = Field(default_factory=dict)


class TrackedException(BaseModel):
    """A finding as the store keeps it: its latest state and who acknowledged or snoozed it."""

    finding: Finding
    state: ExceptionState
    first_seen: datetime
    last_seen: datetime
    last_sent: datetime | None = None
    #: The severity and score last sent (a later run that beats them is "worsened").
    sent_severity: Severity | None = None
    sent_score: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None
    closed_at: datetime | None = None


class Delivery(BaseModel):
    """One exception to send to its owner: new, or worse than when last sent."""

    change: Literal["new", "worsened"]
    owner: str = Field(description="A role (e.g. 'purchase_manager') or a Slack channel ('#purchasing')")
    exception: TrackedException


class ControlRun(BaseModel):
    """One run of one control: what it found and what was sent."""

    control: str
    ran_at: datetime
    duration_s: float
    findings: list[Finding]
    deliveries: list[Delivery] = Field(default_factory=list)
    closed: list[str] = Field(default_factory=list, description="Keys open before and not found this run")
    odoo_round_trips: int | None = None
    #: False when the run was asked not to notify (``--no-notify``): ``deliveries`` are what would have been sent,
    #: and they stay unsent (the next notifying run sends them).
    notified: bool = True


class ExceptionSink(Protocol):
    """Where deliveries go (the Slack digest, Odoo's Exceptions menu, a test's list)."""

    name: str

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        """Send one owner's new and worsened exceptions (one digest)."""


class Control(Protocol):
    """One named scan: reads Odoo through the context and returns its findings (no writes, no sending)."""

    name: str
    description: str

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """This run's findings; ``thresholds`` come from ``controls.yaml`` (defaults merged)."""


class Acknowledgement(Protocol):
    """An acknowledgement made outside the copilot (in Odoo): which exception, by whom, when."""

    control: str
    key: str
    acknowledged_at: datetime
    acknowledged_by: str | None


@runtime_checkable
class ExceptionMirror(Protocol):
    """A sink that also keeps a copy people act on (Odoo's Exceptions menu): the engine reads back what they
    acknowledged there before each run, and tells it what a run closed."""

    def acknowledged(self, control: str, since: datetime | None) -> Sequence[Acknowledgement]:
        """Acknowledgements of ``control``'s exceptions made there since ``since`` (all when None)."""

    def closed(self, control: str, keys: Sequence[str]) -> None:
        """Close there the exceptions of ``control`` a run no longer found."""
