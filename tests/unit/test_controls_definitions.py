"""controls.yaml: the shipped defaults, a user file merged over them, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import load_settings
from copilot.controls.definitions import load_definitions, parse_definitions
from copilot.controls.registry import ControlRegistry, UnknownControl
from copilot.errors import ConfigError

MODELS = ControlRegistry.default().thresholds_models()


def test_the_defaults_define_every_control_with_a_valid_schedule() -> None:
    config = parse_definitions(thresholds=MODELS)
    builtin = {"late_pos", "ticket_aging", "dormant_tickets", "approvals_waiting", "receipts_due_today", "credit_hold"}
    assert builtin | {"orders_at_risk"} == set(config.controls)
    assert all(d.enabled and d.owner for d in config.controls.values())


def test_a_user_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "controls.yaml"
    path.write_text(
        "controls:\n  late_pos:\n    owner: '#purchasing'\n    thresholds: {critical_days: 10}\n"
        "  dormant_tickets: {enabled: false}\n",
        encoding="utf-8",
    )
    config = load_definitions(load_settings(controls_file=path), thresholds=MODELS)
    late = config.controls["late_pos"]
    assert late.owner == "#purchasing" and late.schedule == "0 7 * * 1-5"
    assert late.thresholds == {"medium_days": 1, "high_days": 3, "critical_days": 10}
    assert "dormant_tickets" not in config.enabled()


def test_the_data_dirs_file_is_read_when_no_setting_names_one(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert load_definitions(settings).controls["credit_hold"].owner == "manager"
    (tmp_path / "controls.yaml").write_text("controls: {credit_hold: {owner: '#finance'}}\n", encoding="utf-8")
    assert load_definitions(settings).controls["credit_hold"].owner == "#finance"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("controls: {late_pos: {schedule: 'every morning'}}", "controls.late_pos.schedule: Value error, not a cron"),
        ("controls: {late_pos: {schedule: '0 25 * * *'}}", "controls.late_pos.schedule"),
        ("controls: {late_pos: {owenr: '#x'}}", "controls.late_pos.owenr: Extra inputs"),
        ("controls: {late_po: {owner: '#x'}}", "controls.late_po: no such control (known: approvals_waiting"),
        ("controls: {late_pos: {thresholds: {critical_dayz: 3}}}", "controls.late_pos.thresholds.critical_dayz"),
        ("controls: {late_pos: {thresholds: {critical_days: soon}}}", "controls.late_pos.thresholds.critical_days"),
        ("controls: {late_pos: {thresholds: {high_days: 9}}}", "the levels must grow"),
        ("controls: {ticket_aging: {thresholds: {teams: {Helpdesk: {critical_hourz: 3}}}}}", "teams.Helpdesk"),
        ("timezone: Mars/Olympus", "timezone: Value error, unknown time zone"),
        ("controls: [late_pos]", "controls: Input should be a valid dictionary"),
        ("controls: {late_pos: {owner: '#x'}\n", "is not valid YAML"),
    ],
)
def test_a_bad_file_is_one_error_naming_the_file_and_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "controls.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_definitions(load_settings(controls_file=path), thresholds=MODELS)
    assert named in str(caught.value) and str(path) in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COPILOT_CONTROLS_FILE"):
        load_definitions(load_settings(controls_file=tmp_path / "missing.yaml"))


def test_an_unknown_control_lists_the_known_ones() -> None:
    with pytest.raises(UnknownControl, match="known: late_pos, orders_at_risk, ticket_aging"):
        ControlRegistry.default().get("late_po")


def test_orders_at_risk_is_a_registered_control_not_its_skill() -> None:
    """The control (findings from a ranked queue), never the skill of the same name (which takes an AtRiskInput)."""
    from copilot.controls.orders_at_risk import OrdersAtRisk

    assert isinstance(ControlRegistry.default().get("orders_at_risk"), OrdersAtRisk)
