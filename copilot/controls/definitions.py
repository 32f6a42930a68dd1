"""``controls.yaml``: each control's schedule, owner, thresholds and switch, the shipped defaults merged with the
deployment's file.

The defaults ship in the package (``defaults.yaml``); ``COPILOT_CONTROLS_FILE`` (else ``controls.yaml`` in the
data dir, when it exists) is merged over them control by control and key by key, so a user file names only what
it changes. The result is validated once: a cron expression APScheduler cannot read, an unknown control, an
unknown key or a threshold of the wrong type is a ``ConfigError`` naming the file and the key
(``controls.late_pos.schedule: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.config import Settings
from copilot.errors import ConfigError

__all__ = ["ControlDefinition", "ControlsConfig", "controls_file", "load_definitions", "merge", "parse_definitions"]

#: The user file's name in the data dir.
FILE_NAME = "controls.yaml"


class ControlDefinition(BaseModel):
    """One control's settings: when it runs, who hears about it, its thresholds and whether it runs at all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: str = Field(description="Cron syntax: minute hour day-of-month month day-of-week")
    owner: str = Field(min_length=1, description="A role (buyer, manager...) or a Slack channel ('#purchasing')")
    enabled: bool = True
    description: str = ""
    worsen_margin: float = Field(default=0.5, ge=0.0, description="Score rise over the last sent that re-sends it")
    thresholds: dict[str, Any] = Field(default_factory=dict)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from copilot.controls.cron import cron_trigger

        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"not a cron expression ({exc}); e.g. '0 7 * * 1-5' is 07:00 Monday to Friday") from None
        return " ".join(value.split())


class ControlsConfig(BaseModel):
    """Every control's definition and the time zone of their schedules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    controls: dict[str, ControlDefinition] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. UTC, Europe/Brussels)") from None
        return value

    def enabled(self) -> dict[str, ControlDefinition]:
        """The controls that run on their schedule."""
        return {name: d for name, d in self.controls.items() if d.enabled}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key at every depth (other values replaced)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping with a 'controls' key, not {type(data).__name__}")
    return data


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_definitions(
    user: Mapping[str, Any] | None = None,
    *,
    where: str = "controls.yaml",
    thresholds: Mapping[str, type[BaseModel]] | None = None,
) -> ControlsConfig:
    """The defaults with ``user`` merged over them, validated; ``thresholds``: each control's thresholds model."""
    defaults = _read(resources.files("copilot.controls").joinpath("defaults.yaml").read_text("utf-8"), "defaults")
    user = dict(user or {})
    known = set(defaults.get("controls") or {})
    for name in user.get("controls") or {}:
        if name not in known:
            raise ConfigError(f"{where}: controls.{name}: no such control (known: {', '.join(sorted(known))})")
    try:
        config = ControlsConfig.model_validate(merge(defaults, user))
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: {problems}") from None
    for name, model in (thresholds or {}).items():
        definition = config.controls.get(name)
        if definition is None:
            continue
        try:
            model.model_validate(definition.thresholds)
        except ValidationError as exc:
            problems = "; ".join(f"controls.{name}.thresholds.{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{where}: {problems}") from None
    return config


def controls_file(settings: Settings) -> Path | None:
    """``COPILOT_CONTROLS_FILE``, else ``controls.yaml`` in the data dir when it exists, else None."""
    if settings.controls_file is not None:
        return settings.controls_file
    candidate = settings.data_dir / FILE_NAME
    return candidate if candidate.is_file() else None


def load_definitions(settings: Settings, *, thresholds: Mapping[str, type[BaseModel]] | None = None) -> ControlsConfig:
    """The controls' definitions of this deployment (``ConfigError`` naming the file and the bad key)."""
    path = controls_file(settings)
    if path is None:
        return parse_definitions(thresholds=thresholds, where="the shipped controls defaults")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"COPILOT_CONTROLS_FILE {path} cannot be read: {exc.strerror or exc}") from None
    return parse_definitions(_read(text, str(path)), where=str(path), thresholds=thresholds)
