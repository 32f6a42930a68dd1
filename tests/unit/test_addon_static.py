"""Static checks of the Odoo addon ``odoo_addons/<18.0|19.0>/copilot_approval`` (no Odoo needed), for each series.

Odoo itself runs the addon's own tests (``make odoo-test``, ``odoo_addons/*/copilot_approval/tests``); these catch what
would stop it from installing: a broken manifest, a missing or malformed data file, a Python syntax
error, an access line naming an unknown group or model, a view naming a field or button that the
model does not define.
"""

from __future__ import annotations

import ast
import csv
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scripts.sync_odoo_addons import ADDONS_DIR, VERSIONS, addon_dir

ADDONS = {version: addon_dir(version) for version in VERSIONS}
REQUEST_MODEL = "copilot.approval.request"
EXCEPTION_MODEL = "copilot.exception"
HEALTH_MODEL = "copilot.process.health"
ACCESS_HEADER = ["id", "name", "model_id:id", "group_id:id", "perm_read", "perm_write", "perm_create", "perm_unlink"]
REQUIRED_KEYS = {"name", "version", "license", "author", "depends", "data", "application"}
#: Fields every Odoo model has, or that mail.thread / mail.activity.mixin add.
ORM_FIELDS = {"id", "display_name", "create_date", "create_uid", "write_date", "write_uid"}
MAIL_FIELDS = {"message_ids", "message_follower_ids", "activity_ids", "message_attachment_count"}
#: Elements of a view's arch that hold a sub-view of a relational field's comodel.
SUBVIEW_TAGS = {"list", "tree", "form", "kanban"}


@pytest.fixture(params=VERSIONS, name="addon")
def addon_fixture(request: pytest.FixtureRequest) -> Path:
    """The addon's folder for each Odoo series."""
    return ADDONS[request.param]


@cache
def manifest(addon: Path) -> dict[str, Any]:
    """The manifest as Odoo reads it (a Python literal)."""
    return ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))


def xml_files(addon: Path) -> list[Path]:
    return sorted(addon.rglob("*.xml"))


def py_files(addon: Path) -> list[Path]:
    return sorted(addon.rglob("*.py"))


def _all(files: Any) -> list[Path]:
    """``files(addon)`` for every series (for parametrized tests)."""
    return [path for addon in ADDONS.values() for path in files(addon)]


def _file_id(path: Path) -> str:
    return path.relative_to(ADDONS_DIR).as_posix()


@cache
def parsed(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 (the addon's own files, not untrusted input)


@cache
def models(addon: Path) -> dict[str, dict[str, Any]]:
    """Each model class the addon defines or extends: its fields (name -> comodel or None) and methods."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((addon / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            attrs = {
                t.id: stmt.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for t in stmt.targets
                if isinstance(t, ast.Name)
            }
            name_node = attrs.get("_name") or attrs.get("_inherit")
            if not isinstance(name_node, ast.Constant):
                continue
            model = out.setdefault(name_node.value, {"fields": {}, "methods": set(), "inherit": []})
            inherit = attrs.get("_inherit")
            if isinstance(inherit, ast.List):
                model["inherit"] = [e.value for e in inherit.elts if isinstance(e, ast.Constant)]
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef):
                    model["methods"].add(stmt.name)
                if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
                    continue
                func = stmt.value.func
                if not (
                    isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "fields"
                ):
                    continue
                comodel = next((k.value.value for k in stmt.value.keywords if k.arg == "comodel_name"), None)
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        model["fields"][target.id] = comodel
    return out


@cache
def xml_ids(addon: Path) -> dict[str, str]:
    """XML id -> model of every record the addon's XML files define (menus and templates included)."""
    out: dict[str, str] = {}
    for path in xml_files(addon):
        for el in parsed(path).iter():
            if el.tag == "record" and el.get("id"):
                out[el.get("id")] = el.get("model")
            elif el.tag == "menuitem" and el.get("id"):
                out[el.get("id")] = "ir.ui.menu"
    return out


def model_xml_id(model: str) -> str:
    return "model_" + model.replace(".", "_")


# --------------------------------------------------------------------------- manifest


def test_manifest_has_the_required_keys_and_values(addon: Path) -> None:
    data = manifest(addon)
    assert set(data) >= REQUIRED_KEYS, f"missing keys: {REQUIRED_KEYS - set(data)}"
    series = addon.parent.name
    assert re.fullmatch(re.escape(series) + r"\.\d+\.\d+\.\d+", data["version"]), (series, data["version"])
    assert data["license"] in {"LGPL-3", "AGPL-3"}
    assert data.get("installable", True) is True
    assert "mail" in data["depends"]
    assert all(isinstance(path, str) for path in data["data"])


def test_every_data_file_exists_and_every_data_file_is_listed(addon: Path) -> None:
    listed = manifest(addon)["data"]
    assert len(listed) == len(set(listed)), "a data file is listed twice"
    missing = [p for p in listed if not (addon / p).is_file()]
    assert not missing, f"listed in the manifest but absent: {missing}"
    on_disk = {
        str(p.relative_to(addon))
        for d in ("security", "views", "data")
        for p in (addon / d).glob("*")
        if p.suffix in (".xml", ".csv")
    }
    assert not on_disk - set(listed), f"never loaded by Odoo: {sorted(on_disk - set(listed))}"


def test_security_loads_before_what_uses_it(addon: Path) -> None:
    """Groups before the access CSV (which names them); actions before the menus that open them."""
    listed = manifest(addon)["data"]
    groups_file = next(p for p in listed if any(xml_ids(addon).get(i) == "res.groups" for i in _ids_in(addon / p)))
    assert listed.index(groups_file) < listed.index("security/ir.model.access.csv")
    for path in listed:
        if not path.endswith(".xml"):
            continue
        for menu in parsed(addon / path).iter("menuitem"):
            action = menu.get("action")
            if action and "." not in action:
                defined_in = next(p for p in listed if action in _ids_in(addon / p))
                assert listed.index(defined_in) <= listed.index(path), f"menu {menu.get('id')} loads before {action}"


def _ids_in(path: Path) -> set[str]:
    if path.suffix != ".xml":
        return set()
    return {el.get("id") for el in parsed(path).iter() if el.tag in ("record", "menuitem") and el.get("id")}


def test_hooks_named_in_the_manifest_exist(addon: Path) -> None:
    init = ast.parse((addon / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(init)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    for key in ("pre_init_hook", "post_init_hook", "uninstall_hook"):
        if key in manifest(addon):
            assert manifest(addon)[key] in imported, f"{key} {manifest(addon)[key]!r} is not exported by __init__.py"


# --------------------------------------------------------------------------- Python and XML


@pytest.mark.parametrize("path", _all(py_files), ids=_file_id)
def test_python_compiles(path: Path) -> None:
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


def _relative_imports(path: Path) -> set[str]:
    """Names imported with ``from . import ...`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None
        for alias in node.names
    }


def test_every_models_module_is_imported(addon: Path) -> None:
    imported = _relative_imports(addon / "models" / "__init__.py")
    on_disk = {p.stem for p in (addon / "models").glob("*.py") if p.stem != "__init__"}
    assert imported == on_disk


def test_every_test_module_is_imported(addon: Path) -> None:
    imported = _relative_imports(addon / "tests" / "__init__.py")
    on_disk = {p.stem for p in (addon / "tests").glob("test_*.py")}
    assert on_disk, "the addon has no Odoo tests"
    assert imported == on_disk


@pytest.mark.parametrize("path", _all(xml_files), ids=_file_id)
def test_xml_parses_with_an_odoo_root(path: Path) -> None:
    assert parsed(path).tag == "odoo"


def test_the_request_model_is_defined_with_mail_thread(addon: Path) -> None:
    request = models(addon)[REQUEST_MODEL]
    assert {"mail.thread", "mail.activity.mixin"} <= set(request["inherit"])
    expected = {"idempotency_key", "state", "risk_tier", "payload", "company_id", "requested_by_id", "decision_ids"}
    assert expected <= set(request["fields"])


# --------------------------------------------------------------------------- security


@cache
def access_rows(addon: Path) -> list[dict[str, str]]:
    with (addon / "security" / "ir.model.access.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        assert header == ACCESS_HEADER
        return [dict(zip(header, row, strict=True)) for row in reader]


def test_access_csv_names_known_groups_and_models(addon) -> None:
    depends = set(manifest(addon)["depends"]) | {"base"}
    own_models = {model_xml_id(m) for m in models(addon) if m not in ("ir.model.access",)}
    for row in access_rows(addon):
        group, model = row["group_id:id"], row["model_id:id"]
        if "." in group:
            assert group.split(".", 1)[0] in depends, row["id"]
        else:
            assert xml_ids(addon).get(group) == "res.groups", f"{row['id']}: no group {group} in the addon's XML"
        assert model in own_models, f"{row['id']}: {model} is not a model of the addon"
        assert {row[k] for k in ACCESS_HEADER[4:]} <= {"0", "1"}


def test_access_rows_are_unique_and_every_model_has_one(addon: Path) -> None:
    ids = [row["id"] for row in access_rows(addon)]
    assert len(ids) == len(set(ids))
    pairs = [(row["model_id:id"], row["group_id:id"]) for row in access_rows(addon)]
    assert len(pairs) == len(set(pairs)), "two lines for the same model and group"
    covered = {row["model_id:id"] for row in access_rows(addon)}
    defined = {model_xml_id(m) for m, info in models(addon).items() if info["fields"] and m != "ir.model.access"}
    assert defined <= covered, f"models without access lines: {defined - covered}"


def test_the_agent_may_read_and_create_requests_and_nothing_more(addon: Path) -> None:
    """The copilot groups never write or delete through access rights; only the agent creates, and only requests."""
    copilot_groups = {"group_copilot_agent", "group_copilot_approver", "group_copilot_executor"}
    rows = [r for r in access_rows(addon) if r["group_id:id"] in copilot_groups]
    assert {r["group_id:id"] for r in rows} == copilot_groups
    for row in rows:
        assert (row["perm_read"], row["perm_write"], row["perm_unlink"]) == ("1", "0", "0"), row["id"]
        creates = row["group_id:id"] == "group_copilot_agent" and row["model_id:id"] == model_xml_id(REQUEST_MODEL)
        assert row["perm_create"] == ("1" if creates else "0"), row["id"]


def test_exceptions_and_process_health_are_read_only_for_every_group(addon: Path) -> None:
    """Only copilot_sync (the agent) and action_acknowledge (approvers, administrators) change an exception."""
    rows = [
        r for r in access_rows(addon) if r["model_id:id"] in (model_xml_id(EXCEPTION_MODEL), model_xml_id(HEALTH_MODEL))
    ]
    assert {(r["model_id:id"], r["group_id:id"]) for r in rows} == {
        (model_xml_id(EXCEPTION_MODEL), "group_copilot_agent"),
        (model_xml_id(EXCEPTION_MODEL), "group_copilot_approver"),
        (model_xml_id(EXCEPTION_MODEL), "base.group_user"),
        (model_xml_id(EXCEPTION_MODEL), "base.group_system"),
        (model_xml_id(HEALTH_MODEL), "group_copilot_approver"),
        (model_xml_id(HEALTH_MODEL), "base.group_system"),
    }
    for row in rows:
        assert (row["perm_read"], row["perm_write"], row["perm_create"], row["perm_unlink"]) == ("1", "0", "0", "0")


def test_the_three_groups_and_company_rules_exist(addon: Path) -> None:
    ids = xml_ids(addon)
    for group in ("group_copilot_agent", "group_copilot_approver", "group_copilot_executor"):
        assert ids.get(group) == "res.groups", group
    rules = [el for path in xml_files(addon) for el in parsed(path).iter("record") if el.get("model") == "ir.rule"]
    ruled = {f.get("ref") for rule in rules for f in rule.iter("field") if f.get("name") == "model_id"}
    assert {model_xml_id(m) for m in models(addon) if m.startswith("copilot.")} <= ruled
    for rule in rules:
        domain = next(f.text for f in rule.iter("field") if f.get("name") == "domain_force")
        assert "company_ids" in domain, rule.get("id")


def test_groups_and_refs_in_xml_resolve(addon: Path) -> None:
    """Every ``groups=`` and unqualified ``ref`` names something the addon defines (or a dependency)."""
    depends = set(manifest(addon)["depends"]) | {"base"}
    ids = xml_ids(addon)
    for path in xml_files(addon):
        for el in parsed(path).iter():
            names = [g.strip().lstrip("!") for g in (el.get("groups") or "").split(",") if g.strip()]
            refs = [el.get("ref")] if el.get("ref") else []
            refs += [el.get(a) for a in ("parent", "action") if el.tag == "menuitem" and el.get(a)]
            refs += re.findall(r"ref\('([\w.]+)'\)", el.get("eval") or "")
            for name in names + refs:
                if "." in name:
                    assert name.split(".", 1)[0] in (depends | {"copilot_approval"}), f"{path.name}: {name}"
                    if name.startswith("copilot_approval."):
                        assert name.split(".", 1)[1] in ids, f"{path.name}: {name}"
                elif name.startswith("model_"):
                    assert name in {model_xml_id(m) for m in models(addon)}, f"{path.name}: {name}"
                else:
                    assert name in ids, f"{path.name}: unknown xml id {name}"


# --------------------------------------------------------------------------- views


def _view_records(addon: Path) -> list[tuple[str, ET.Element]]:
    out = []
    for path in xml_files(addon):
        for rec in parsed(path).iter("record"):
            if rec.get("model") != "ir.ui.view":
                continue
            model = next(f.text for f in rec.iter("field") if f.get("name") == "model")
            arch = next(f for f in rec.iter("field") if f.get("name") == "arch")
            out.append((model, arch))
    return out


def test_views_and_actions_name_the_python_model(addon: Path) -> None:
    views = _view_records(addon)
    assert {model for model, _ in views} == {REQUEST_MODEL, EXCEPTION_MODEL, HEALTH_MODEL}
    kinds = {(model, child.tag) for model, arch in views for child in arch}
    assert {(REQUEST_MODEL, kind) for kind in ("list", "form", "search")} <= kinds
    assert {(EXCEPTION_MODEL, kind) for kind in ("list", "kanban", "form", "search")} <= kinds
    assert {(HEALTH_MODEL, kind) for kind in ("list", "pivot", "graph", "search")} <= kinds
    actions = [
        r for p in xml_files(addon) for r in parsed(p).iter("record") if r.get("model") == "ir.actions.act_window"
    ]
    assert actions
    for action in actions:
        res_model = next(f.text for f in action.iter("field") if f.get("name") == "res_model")
        assert res_model in models(addon), res_model


def _check_arch(addon: Path, element: ET.Element, model: str, problems: list[str]) -> None:
    info = models(addon).get(model)
    for child in element:
        if child.tag == "field":
            name = child.get("name")
            if info is not None and name not in set(info["fields"]) | ORM_FIELDS | MAIL_FIELDS:
                problems.append(f"{model}: no field {name}")
            comodel = info["fields"].get(name) if info else None
            for sub in child:
                if sub.tag in SUBVIEW_TAGS:
                    _check_arch(addon, sub, comodel or "?", problems)
            continue
        is_object_button = child.tag == "button" and child.get("type") == "object"
        if is_object_button and info is not None and child.get("name") not in info["methods"]:
            problems.append(f"{model}: no method {child.get('name')} for a button")
        if child.tag == "filter" and child.get("domain"):
            for name in re.findall(r"\('([\w.]+)',\s*'[=!<>a-z ]+',", child.get("domain")):
                if info is not None and name.split(".")[0] not in set(info["fields"]) | ORM_FIELDS:
                    problems.append(f"{model}: filter {child.get('name')} on unknown field {name}")
        _check_arch(addon, child, model, problems)


def test_views_name_only_fields_and_methods_the_model_defines(addon: Path) -> None:
    problems: list[str] = []
    for model, arch in _view_records(addon):
        _check_arch(addon, arch, model, problems)
    assert not problems


def test_the_search_view_has_to_approve_by_me(addon: Path) -> None:
    filters = {f.get("name"): f for _, arch in _view_records(addon) for f in arch.iter("filter")}
    mine = filters["to_approve_by_me"]
    assert "can_approve" in mine.get("domain")
    assert "_search_can_approve" in models(addon)[REQUEST_MODEL]["methods"]


def test_the_buttons_the_issue_names_exist(addon: Path) -> None:
    buttons = {b.get("name") for _, arch in _view_records(addon) for b in arch.iter("button")}
    assert {"action_approve", "action_refuse"} <= buttons
    methods = models(addon)[REQUEST_MODEL]["methods"]
    assert {"action_start_execution", "action_mark_executed", "action_mark_failed", "action_expire"} <= methods


def test_the_agreed_exception_names(addon: Path) -> None:
    """What the controls, the Slack digest and the browser test rely on (notes: the agreed Odoo names)."""
    from typing import get_args

    from copilot.controls.model import SEVERITIES, ExceptionState

    ids = xml_ids(addon)
    assert ids.get("menu_copilot_exceptions") == "ir.ui.menu"
    assert ids.get("menu_copilot_process_health") == "ir.ui.menu"
    menus = {el.get("id"): el for path in xml_files(addon) for el in parsed(path).iter("menuitem")}
    assert menus["menu_copilot_exceptions"].get("name") == "Exceptions"
    assert menus["menu_copilot_process_health"].get("name") == "Process health"
    assert menus["menu_copilot_exceptions"].get("parent") == "menu_copilot_root"
    for model, arch in _view_records(addon):
        if model != EXCEPTION_MODEL or arch[0].tag not in ("list", "form", "kanban"):
            continue
        labels = {b.get("string") for b in arch.iter("button") if b.get("name") == "action_acknowledge"}
        assert labels == {"Acknowledge"}, arch[0].tag
    constants = _module_constants(addon / "models" / "copilot_exception.py")
    assert tuple(key for key, _ in constants["SEVERITIES"]) == SEVERITIES
    assert tuple(key for key, _ in constants["EXCEPTION_STATES"]) == get_args(ExceptionState)
    fields = set(models(addon)[EXCEPTION_MODEL]["fields"])
    agreed = {"key", "control", "severity", "score", "title", "reason", "state", "record_model", "record_id"}
    agreed |= {"record_url", "record_name", "evidence", "first_seen", "last_seen", "acknowledged_by", "acknowledged_at"}
    assert agreed <= fields
    assert models(addon)[EXCEPTION_MODEL]["fields"]["acknowledged_by"] == "res.users"
    assert {"copilot_sync", "action_acknowledge"} <= models(addon)[EXCEPTION_MODEL]["methods"]


def test_the_cron_calls_a_model_method(addon: Path) -> None:
    crons = [r for p in xml_files(addon) for r in parsed(p).iter("record") if r.get("model") == "ir.cron"]
    assert crons
    for cron in crons:
        code = next(f.text for f in cron.iter("field") if f.get("name") == "code")
        method = re.fullmatch(r"model\.(\w+)\(\)", code.strip())
        assert method, code
        assert method.group(1) in models(addon)[REQUEST_MODEL]["methods"]


# --------------------------------------------------------------------------- the client's side


def test_the_fields_the_client_sends_exist_in_the_addon(addon: Path) -> None:
    """``copilot.approvals.backends.request_values`` and the sandbox's model match the addon's fields."""
    backends = pytest.importorskip("copilot.approvals.backends")
    sandbox = pytest.importorskip("odoo_sandbox._approval")
    request = models(addon)[REQUEST_MODEL]["fields"]
    source = ast.parse(Path(backends.__file__).read_text(encoding="utf-8"))
    func = next(n for n in ast.walk(source) if isinstance(n, ast.FunctionDef) and n.name == "request_values")
    returned = next(n.value for n in ast.walk(func) if isinstance(n, ast.Return) and isinstance(n.value, ast.Dict))
    sent = {k.value for k in returned.keys if isinstance(k, ast.Constant)}
    assert sent, "request_values sends no field?"
    assert sent <= set(request), f"sent but not in the addon: {sent - set(request)}"
    read = set(backends.REQUEST_FIELDS)
    assert read <= set(request) | ORM_FIELDS, f"read but not in the addon: {read - set(request) - ORM_FIELDS}"
    selections = _module_constants(addon / "models" / "copilot_approval_request.py")
    for addon_name, sandbox_name in (("STATES", "STATES"), ("RISK_TIERS", "TIERS"), ("ACTION_TYPES", "ACTION_TYPES")):
        addon_keys = [key for key, _ in selections[addon_name]]
        assert addon_keys == [key for key, _ in getattr(sandbox, sandbox_name)], addon_name
    for model, fields in sandbox.approval_fields().items():
        missing = set(fields) - set(models(addon)[model]["fields"]) - ORM_FIELDS
        assert not missing, f"{model}: the sandbox serves fields the addon lacks: {missing}"


def _module_constants(path: Path) -> dict[str, Any]:
    """Module-level constants that are Python literals."""
    out: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out
