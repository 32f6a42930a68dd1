"""``ticket_aging`` and ``dormant_tickets``: open helpdesk tickets past their team's SLA, by age or by silence.

Both read the open tickets the same way (which Helpdesk app runs, its closed stages, then the tickets not in
them: three round trips) and differ in the clock they look at: the ticket's creation (aging) or its last
change (dormant). Thresholds are hours per team (by team name), a team's own hours over the default ones. An
urgent ticket (priority 2 or more) is one severity worse.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.controls._levels import HourLevels, HourOverride, hours_between, severity_of, worse_by
from copilot.controls.model import Factor, Finding
from copilot.tools import _values as v
from copilot.tools.helpdesk import TICKET_MODEL, HelpdeskFlavour, detect_helpdesk

if TYPE_CHECKING:
    from copilot.odoo import OdooClient
    from copilot.skills.base import SkillContext

__all__ = ["DormantTickets", "TicketAging", "TicketThresholds"]

log = logging.getLogger(__name__)

#: Priorities counted as urgent (Odoo's '2' High and '3' Very High / Urgent).
URGENT = frozenset({"2", "3"})


class TicketThresholds(BaseModel):
    """Hours per level, by default and per team name; at most ``limit`` tickets read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: HourLevels = Field(default_factory=HourLevels)
    teams: dict[str, HourOverride] = Field(default_factory=dict)
    limit: int = Field(default=2000, ge=1, le=100_000)

    def for_team(self, team: str | None) -> HourLevels:
        """The hours of ``team`` (its overrides over the default)."""
        override = self.teams.get(team or "")
        return override.over(self.default) if override is not None else self.default


def open_tickets(client: OdooClient, limit: int) -> list[dict[str, Any]]:
    """The tickets in no closed stage (none when no Helpdesk app is installed)."""
    schema = detect_helpdesk(client)
    if schema.flavour is HelpdeskFlavour.NONE or schema.stage_model is None:
        log.info("no Helpdesk app in this Odoo: no ticket to check")
        return []
    closed_field = schema.stage_closed_field
    closed: list[int] = []
    if closed_field:
        closed = [r["id"] for r in client.search_read(schema.stage_model, [(closed_field, "=", True)], ["id"])]
    fields = ["name", "team_id", "stage_id", "priority", "user_id", "partner_id", "create_date", "write_date"]
    if schema.reference_field:
        fields.append(schema.reference_field)
    domain: list[Any] = [("stage_id", "not in", closed)] if closed else []
    rows = client.search_read(TICKET_MODEL, domain, fields, order="id asc", limit=limit)
    for row in rows:
        row["_reference"] = v.text(row.get(schema.reference_field)) if schema.reference_field else None
    return rows


class _TicketControl:
    name = ""
    description = ""
    thresholds_model = TicketThresholds
    #: The ticket field whose time starts the clock.
    clock_field = "create_date"
    #: What the hours measure, for a person ("open for", "untouched for").
    measure = ""

    def run(self, ctx: SkillContext, thresholds: Mapping[str, Any]) -> list[Finding]:
        """The open tickets past their team's hours, worst first."""
        limits = TicketThresholds.model_validate(dict(thresholds))
        findings = []
        for row in open_tickets(ctx.odoo(), limits.limit):
            finding = self._finding(row, limits, ctx.now)
            if finding is not None:
                findings.append(finding)
        return findings

    def _finding(self, row: dict[str, Any], limits: TicketThresholds, now: datetime) -> Finding | None:
        started = v.when(row.get(self.clock_field)) or v.when(row.get("create_date"))
        if started is None:
            return None
        team = v.ref(row.get("team_id"))
        hours_ = limits.for_team(team.name if team else None)
        hours = hours_between(started, now)
        severity = severity_of(hours, hours_.levels())
        if severity is None:
            return None
        score = round(hours / hours_.critical_hours, 3)
        factors = [
            Factor(
                name=f"{self.clock_field}_hours",
                label=f"{self.measure} {_duration(hours)}",
                value=round(hours, 1),
                contribution=score,
            ),
        ]
        priority = v.text(row.get("priority")) or "0"
        if priority in URGENT and severity != "critical":
            severity = worse_by(severity, 1)
            factors.append(Factor(name="urgent", label=f"priority {priority}", value=priority, contribution=0.0))
        label = row.get("_reference") or v.text(row.get("name")) or f"ticket {row['id']}"
        citation = Citation(model=TICKET_MODEL, id=row["id"], display_name=str(label))
        team_name = team.name if team else "no team"
        stage, assignee = v.ref(row.get("stage_id")), v.ref(row.get("user_id"))
        return Finding(
            control=self.name,
            key=f"{TICKET_MODEL}:{row['id']}",
            severity=severity,
            score=score,
            title=f"{label} ({team_name}): {self.measure} {_duration(hours)}",
            reason=f"{label} has been {self.measure} {_duration(hours)}, past the {team_name} team's "
            f"{_duration(hours_.medium_hours)}.",
            record=citation,
            evidence=[citation],
            factors=factors,
            since=started,
            details={
                "team": team.name if team else None,
                "stage": stage.name if stage else None,
                "assignee": assignee.name if assignee else None,
                "priority": priority,
                "hours": round(hours, 1),
            },
        )


def _duration(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} h"


class TicketAging(_TicketControl):
    """Open tickets older than their team's SLA (key ``helpdesk.ticket:<id>``)."""

    name = "ticket_aging"
    description = "Open helpdesk tickets older than their team's SLA."
    clock_field = "create_date"
    measure = "open for"


class DormantTickets(_TicketControl):
    """Open tickets nobody changed for longer than their team allows (key ``helpdesk.ticket:<id>``)."""

    name = "dormant_tickets"
    description = "Open helpdesk tickets nobody touched for longer than their team allows."
    clock_field = "write_date"
    measure = "untouched for"
