"""Shared by the controls: thresholds as three levels (medium, high, critical) and "now" in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.controls.model import SEVERITIES, Severity

__all__ = ["HourLevels", "HourOverride", "Levels", "aware", "hours_between", "severity_of", "worse_by"]


class Levels(BaseModel):
    """A figure at or past ``medium`` is an exception; ``high`` and ``critical`` raise its severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium: float = Field(ge=0)
    high: float = Field(ge=0)
    critical: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        if not self.medium <= self.high <= self.critical:
            raise ValueError("the levels must grow: medium <= high <= critical")
        return self


class HourLevels(BaseModel):
    """Hours at which an item becomes a medium, high or critical exception."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium_hours: float = Field(default=24, ge=0)
    high_hours: float = Field(default=72, ge=0)
    critical_hours: float = Field(default=168, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> HourLevels:
        self.levels()
        return self

    def levels(self) -> Levels:
        """As ``Levels``."""
        return Levels(medium=self.medium_hours, high=self.high_hours, critical=self.critical_hours)


class HourOverride(BaseModel):
    """A team's own hours; what it leaves out comes from the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium_hours: float | None = Field(default=None, ge=0)
    high_hours: float | None = Field(default=None, ge=0)
    critical_hours: float | None = Field(default=None, gt=0)

    def over(self, default: HourLevels) -> HourLevels:
        """The default with this team's hours."""
        return default.model_copy(update=self.model_dump(exclude_none=True))


def severity_of(value: float, levels: Levels) -> Severity | None:
    """The severity of ``value`` under ``levels`` (None: below ``medium``, not an exception)."""
    if value >= levels.critical:
        return "critical"
    if value >= levels.high:
        return "high"
    if value >= levels.medium:
        return "medium"
    return None


def worse_by(severity: Severity, steps: int) -> Severity:
    """``severity`` made ``steps`` worse (never past critical)."""
    return SEVERITIES[max(0, SEVERITIES.index(severity) - steps)]


def aware(value: datetime) -> datetime:
    """``value`` with UTC when Odoo gave it without a zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hours_between(earlier: datetime, later: datetime) -> float:
    """Hours from ``earlier`` to ``later`` (0 when ``earlier`` is later)."""
    return max(0.0, (aware(later) - aware(earlier)).total_seconds() / 3600.0)
