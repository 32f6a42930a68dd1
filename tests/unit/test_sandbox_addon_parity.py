"""The sandbox enforces the addon's approval and exception rules: both are read from their source and compared.

The addon (``odoo_addons/19.0/copilot_approval``; these files are one text with 18.0) cannot be imported without
Odoo, so its module-level constants are read with ``ast`` and its access rights and settings from its CSV and XML
data files.
"""

from __future__ import annotations

import ast
import csv
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from odoo_sandbox import _approval as sandbox
from odoo_sandbox import _exceptions as sandbox_exceptions
from odoo_sandbox._security import ROLE_GROUPS, SANDBOX_USERS, may

ADDON = Path(__file__).resolve().parents[2] / "odoo_addons" / "19.0" / "copilot_approval"
REQUEST = "copilot.approval.request"
DECISION = "copilot.approval.decision"
EXCEPTION = "copilot.exception"
GROUPS = {
    "base.group_user": "base.group_user",
    "group_copilot_agent": "copilot_approval.group_copilot_agent",
    "group_copilot_approver": "copilot_approval.group_copilot_approver",
    "group_copilot_executor": "copilot_approval.group_copilot_executor",
    "base.group_system": "base.group_system",
}
OPERATIONS = ("read", "write", "create", "unlink")


def _value(node: ast.expr, names: dict[str, Any]) -> Any:
    """A literal, a name defined above, or ``frozenset({...})`` with ``*NAME`` inside."""
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset":
        return frozenset(_value(node.args[0], names)) if node.args else frozenset()
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        items: list[Any] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                items.extend(_value(element.value, names))
            else:
                items.append(_value(element, names))
        if isinstance(node, ast.Set):
            return set(items)
        return items if isinstance(node, ast.List) else tuple(items)
    return ast.literal_eval(node)


def _constants(path: Path) -> dict[str, Any]:
    """The module-level UPPER_CASE constants of an addon file, and each class's ``fields.X(selection=...)``."""
    names: dict[str, Any] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if name.isupper():
                names[name] = _value(stmt.value, names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.targets[0], ast.Name):
            for keyword in node.value.keywords:
                if keyword.arg == "selection" and not isinstance(keyword.value, ast.Constant):
                    names[f"selection:{node.targets[0].id}"] = _value(keyword.value, names)
    return names


@cache
def request_rules() -> dict[str, Any]:
    """The request model's constants and selections."""
    return _constants(ADDON / "models" / "copilot_approval_request.py")


@cache
def config_defaults() -> dict[str, str]:
    """The addon's ``ir.config_parameter`` data: key -> value."""
    root = ET.parse(ADDON / "data" / "ir_config_parameter_data.xml").getroot()  # noqa: S314
    out = {}
    for record in root.iter("record"):
        values = {f.get("name"): (f.text or "").strip() for f in record.iter("field")}
        out[values["key"]] = values["value"]
    return out


@cache
def access_rights() -> dict[tuple[str, str], set[str]]:
    """(model, addon group) -> the operations ``ir.model.access.csv`` grants."""
    out: dict[tuple[str, str], set[str]] = {}
    with (ADDON / "security" / "ir.model.access.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            model = row["model_id:id"].removeprefix("model_").replace("_", ".")
            if model == "copilot.process.health":  # a report the sandbox does not serve
                continue
            group = GROUPS[row["group_id:id"]]
            out[(model, group)] = {op for op in OPERATIONS if row[f"perm_{op}"] == "1"}
    return out


def _pairs(selection: Any) -> list[tuple[str, str]]:
    return [(str(key), str(label)) for key, label in selection]


def test_what_will_run_and_what_is_decided_on_are_frozen_as_in_the_addon() -> None:
    rules = request_rules()
    assert rules["BOUND_FIELDS"] == sandbox.BOUND_FIELDS
    assert rules["FROZEN_FIELDS"] == sandbox.FROZEN_FIELDS


def test_only_the_buttons_set_the_addons_workflow_fields() -> None:
    assert request_rules()["WORKFLOW_FIELDS"] == sandbox.WORKFLOW_FIELDS


def test_states_tiers_actions_and_policy_modes_are_the_addons() -> None:
    rules = request_rules()
    fields = sandbox.approval_fields()[REQUEST]
    assert _pairs(fields["state"]["selection"]) == _pairs(rules["STATES"])
    assert _pairs(fields["risk_tier"]["selection"]) == _pairs(rules["RISK_TIERS"])
    assert _pairs(fields["action_type"]["selection"]) == _pairs(rules["ACTION_TYPES"])
    assert _pairs(fields["policy_mode"]["selection"]) == _pairs(rules["POLICY_MODES"])
    assert tuple(sandbox.DUAL_TIERS) == tuple(rules["DUAL_TIERS"])
    decision = _constants(ADDON / "models" / "copilot_approval_decision.py")["selection:decision"]
    assert _pairs(sandbox.approval_fields()[DECISION]["decision"]["selection"]) == _pairs(decision)


def test_exposure_tiers_and_pre_approval_default_to_the_addons_settings() -> None:
    rules, data = request_rules(), config_defaults()
    for setting in (rules["DEFAULT_EXPOSURE_TIERS"], data[rules["PARAM_EXPOSURE_TIERS"]]):
        parsed = tuple((tier, float(minimum)) for tier, _, minimum in (p.partition(":") for p in setting.split(",")))
        assert parsed == sandbox.EXPOSURE_TIERS
    pre_approved = {p.strip() for p in data[rules["PARAM_PRE_APPROVED"]].split(",") if p.strip()}
    assert pre_approved == sandbox.PRE_APPROVABLE


@pytest.mark.parametrize("user", SANDBOX_USERS, ids=lambda u: u.login)
@pytest.mark.parametrize("model", [REQUEST, DECISION, EXCEPTION])
def test_each_sandbox_user_has_the_access_rights_of_its_addon_groups(user: Any, model: str) -> None:
    groups = ROLE_GROUPS[user.role]
    granted = set().union(*(access_rights().get((model, g), set()) for g in groups))
    assert {op for op in OPERATIONS if may(user, model, op)} == granted


@pytest.mark.parametrize("user", SANDBOX_USERS, ids=lambda u: u.login)
def test_who_may_approve_execute_and_expire_follows_the_addons_groups(user: Any) -> None:
    rules = request_rules()
    groups = ROLE_GROUPS[user.role]
    agent = rules["GROUP_AGENT"] in groups
    assert sandbox.is_approver(user) == (rules["GROUP_APPROVER"] in groups and not agent)
    assert sandbox.is_executor(user) == (rules["GROUP_EXECUTOR"] in groups and not agent)


def _button_writes(path: Path, setter: str) -> dict[str, set[str]]:
    """Each ``action_*`` method of ``path`` -> the field names its ``setter(...)`` calls write."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("action_"):
            written = out.setdefault(node.name, set())
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == setter:
                    for arg in call.args:
                        if isinstance(arg, ast.Dict):
                            written.update(k.value for k in arg.keys if isinstance(k, ast.Constant))
    return out


def test_each_button_sets_the_fields_the_addons_button_sets() -> None:
    addon = _button_writes(ADDON / "models" / "copilot_approval_request.py", "_set_workflow")
    ours = _button_writes(Path(sandbox.__file__), "_set")
    assert set(sandbox.APPROVAL_METHODS) <= set(addon)
    assert {name: ours[name] for name in sandbox.APPROVAL_METHODS} == {
        name: addon[name] for name in sandbox.APPROVAL_METHODS
    }


# --------------------------------------------------------------------------- copilot.exception


@cache
def exception_rules() -> dict[str, Any]:
    """The exception model's constants and selections."""
    return _constants(ADDON / "models" / "copilot_exception.py")


def test_the_sync_takes_the_addons_fields_states_and_limits() -> None:
    rules = exception_rules()
    for name in (
        "SYNC_FIELDS",
        "SYNC_REQUIRED_ON_CREATE",
        "SYNC_STATES",
        "ACKNOWLEDGE_FIELDS",
        "ACKNOWLEDGEABLE_STATES",
        "SYNC_BATCH_LIMIT",
    ):
        assert getattr(sandbox_exceptions, name) == rules[name], name
    fields = sandbox_exceptions.exception_fields()[EXCEPTION]
    assert _pairs(fields["severity"]["selection"]) == _pairs(rules["SEVERITIES"])
    assert _pairs(fields["state"]["selection"]) == _pairs(rules["EXCEPTION_STATES"])
    assert rules["SYNC_FIELDS"] <= set(fields), "the sandbox stores every field the copilot may send"


def test_the_sinks_values_are_the_sync_fields() -> None:
    from datetime import UTC, datetime

    from copilot.citations import Citation
    from copilot.controls.model import Factor, Finding, TrackedException
    from copilot.controls.odoo_sink import exception_values

    finding = Finding(
        control="c",
        key="k",
        severity="low",
        score=0.1,
        title="t",
        reason="r",
        record=Citation(model="sale.order", id=1, display_name="S1"),
        factors=[Factor(name="f", label="F", contribution=0.1)],
    )
    for state in ("open", "snoozed", "acknowledged", "closed"):
        now = datetime(2026, 12, 3, tzinfo=UTC)
        tracked = TrackedException(finding=finding, state=state, first_seen=now, last_seen=now, snoozed_until=now)
        sent = exception_values(tracked, owner="o", odoo_url="https://odoo.example.com")
        assert set(sent) <= exception_rules()["SYNC_FIELDS"], state
        assert sent.get("state", "open") in exception_rules()["SYNC_STATES"], state


@pytest.mark.parametrize("user", SANDBOX_USERS, ids=lambda u: u.login)
def test_who_may_sync_and_acknowledge_follows_the_addons_groups(user: Any) -> None:
    rules = exception_rules()
    groups = ROLE_GROUPS[user.role]
    agent = rules["GROUP_AGENT"] in groups
    assert sandbox_exceptions.may_sync(user) == agent
    managers = {rules["GROUP_APPROVER"], rules["GROUP_SYSTEM"]}
    assert sandbox_exceptions.may_acknowledge(user) == (bool(managers & groups) and not agent)


def test_acknowledge_writes_the_addons_fields() -> None:
    addon = _button_writes(ADDON / "models" / "copilot_exception.py", "write")
    ours = _button_writes(Path(sandbox_exceptions.__file__), "_set")
    assert addon["action_acknowledge"] == exception_rules()["ACKNOWLEDGE_FIELDS"]
    assert ours["action_acknowledge"] == exception_rules()["ACKNOWLEDGE_FIELDS"]
