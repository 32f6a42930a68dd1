"""The addon for Odoo 18 and for Odoo 19: one text for the shared files, each series' own spelling for the rest.

Odoo 19 refuses a manifest version ``18.0.*``, ignores ``_sql_constraints`` (the idempotency key's UNIQUE would
vanish without an error), has no ``res.groups.category_id`` / ``users`` (``privilege_id`` / ``user_ids``) and no
``groups_id`` on users or server actions (``group_ids``). ``make odoo-test`` runs the addon's Odoo tests on a real
Odoo; its helpers that need no Odoo are tested here.
"""

from __future__ import annotations

import ast
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts import odoo_test
from scripts.sync_odoo_addons import ADDONS_DIR, VERSION_SPECIFIC, VERSIONS, addon_dir, drift, sync

ADDON_18 = addon_dir("18.0")
ADDON_19 = addon_dir("19.0")
GROUPS = ("group_copilot_agent", "group_copilot_approver", "group_copilot_executor")


def _parsed(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 (the addon's own files)


def _records(addon: Path, model: str) -> dict[str, dict[str, ET.Element]]:
    """XML id -> {field name: <field>} of every record of ``model`` in the addon's XML."""
    out: dict[str, dict[str, ET.Element]] = {}
    for path in sorted(addon.rglob("*.xml")):
        for record in _parsed(path).iter("record"):
            if record.get("model") == model:
                out[record.get("id") or ""] = {f.get("name") or "": f for f in record.iter("field")}
    return out


def _unique_constraints(addon: Path) -> dict[str, str]:
    """The addon's SQL constraints, name -> definition, whichever way the series declares them."""
    found: dict[str, str] = {}
    for path in sorted((addon / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
                continue
            name, value = node.targets[0].id, node.value
            if name == "_sql_constraints":
                for item in ast.literal_eval(value):
                    found[item[0]] = item[1]
            elif isinstance(value, ast.Call) and ast.unparse(value.func) == "models.Constraint":
                found[name.removeprefix("_")] = ast.literal_eval(value.args[0])
    return found


# --------------------------------------------------------------------------- one source of truth


def test_the_trees_differ_only_in_the_version_specific_files() -> None:
    assert {p.parent.name for p in ADDONS_DIR.glob("*/copilot_approval")} == set(VERSIONS)
    problems = [str(problem) for problem in drift()]
    assert not problems, "odoo_addons/*/copilot_approval drifted apart:\n" + "\n".join(problems)


def test_a_drifting_shared_file_is_caught_and_sync_repairs_it(tmp_path: Path) -> None:
    for version in VERSIONS:
        shutil.copytree(addon_dir(version), addon_dir(version, tmp_path))
    shared = addon_dir("18.0", tmp_path) / "models" / "copilot_approval_request.py"
    shared.write_text(shared.read_text(encoding="utf-8") + "\n# edited in 18.0 only\n", encoding="utf-8")
    (addon_dir("19.0", tmp_path) / "tests" / "test_new.py").write_text("# new in 19.0\n", encoding="utf-8")

    problems = {(p.path, p.version) for p in drift(tmp_path)}
    assert problems == {("models/copilot_approval_request.py", "18.0"), ("tests/test_new.py", "18.0")}

    changed = sync(tmp_path)
    assert "18.0/copilot_approval/models/copilot_approval_request.py" in changed
    assert drift(tmp_path) == []
    specific = addon_dir("18.0", tmp_path) / "__manifest__.py"
    assert "18.0." in specific.read_text(encoding="utf-8"), "sync must not copy a version-specific file"


def test_a_version_specific_file_with_the_same_text_everywhere_is_reported(tmp_path: Path) -> None:
    for version in VERSIONS:
        shutil.copytree(addon_dir(version), addon_dir(version, tmp_path))
    shutil.copyfile(addon_dir("19.0", tmp_path) / "__manifest__.py", addon_dir("18.0", tmp_path) / "__manifest__.py")
    assert [p.path for p in drift(tmp_path)] == ["__manifest__.py"]


# --------------------------------------------------------------------------- each series' own spelling


@pytest.mark.parametrize("addon", [ADDON_18, ADDON_19], ids=["18.0", "19.0"])
def test_the_manifest_version_belongs_to_the_series(addon: Path) -> None:
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["version"].startswith(addon.parent.name + "."), manifest["version"]


def test_the_unique_constraints_have_the_same_names_on_both_series() -> None:
    """18 declares them in _sql_constraints; 19 only honours models.Constraint (it ignores _sql_constraints)."""
    expected = {
        "idempotency_key_unique": "UNIQUE(idempotency_key)",
        "company_control_key_unique": "UNIQUE(company_id, control, key)",
    }
    assert _unique_constraints(ADDON_18) == expected
    assert _unique_constraints(ADDON_19) == expected
    assigned_19 = {
        target.id
        for path in ADDON_19.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "_sql_constraints" not in assigned_19


def test_odoo_19_groups_have_privileges_and_no_category() -> None:
    groups = _records(ADDON_19, "res.groups")
    privileges = _records(ADDON_19, "res.groups.privilege")
    assert set(GROUPS) <= set(groups)
    for group in GROUPS:
        fields = groups[group]
        assert "category_id" not in fields and "users" not in fields, group
        assert fields["privilege_id"].get("ref") in privileges, group
    # each privilege is one choice on Odoo 19's user form: independent groups need one privilege each
    assert len({groups[g]["privilege_id"].get("ref") for g in GROUPS}) == len(GROUPS)
    categories = _records(ADDON_19, "ir.module.category")
    assert all(p["category_id"].get("ref") in categories for p in privileges.values())


def test_the_groups_are_the_same_on_both_series() -> None:
    """Same XML ids, names, comments and initial members; only the field spelling differs."""
    renamed = {"users": "user_ids", "category_id": None, "privilege_id": None}

    def comparable(addon: Path) -> dict[str, dict[str, str]]:
        out = {}
        for xml_id, fields in _records(addon, "res.groups").items():
            out[xml_id] = {
                renamed.get(name, name): (f.text or "") + (f.get("eval") or "") + (f.get("ref") or "")
                for name, f in fields.items()
                if renamed.get(name, name)
            }
        return out

    assert comparable(ADDON_18) == comparable(ADDON_19)


def test_odoo_19_files_use_no_odoo_18_names() -> None:
    """groups_id (users, server actions), res.groups users / category_id, body_is_html, read_group."""
    for path in sorted(ADDON_19.rglob("*")):
        if path.suffix not in (".py", ".xml", ".csv"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bgroups_id\b", text), path
        assert "body_is_html" not in text, path
        assert not re.search(r"\bread_group\(", text), path
    for fields in _records(ADDON_19, "res.groups").values():
        assert "users" not in fields and "category_id" not in fields


def test_the_version_specific_files_exist_in_every_series() -> None:
    for version in VERSIONS:
        for path in VERSION_SPECIFIC:
            assert (addon_dir(version) / path).is_file(), f"{version}: {path}"


# --------------------------------------------------------------------------- make odoo-test


@pytest.mark.parametrize(
    ("output", "series"), [("Odoo Server 18.0\n", "18.0"), ("Running as root\nOdoo Server 19.0\n", "19.0")]
)
def test_the_series_is_read_from_odoo_bin_version(output: str, series: str) -> None:
    assert odoo_test.parse_series(output) == series


@pytest.mark.parametrize("output", ["Odoo Server 17.0", "Odoo Server saas~18.4", "command not found"])
def test_an_unsupported_odoo_is_refused(output: str) -> None:
    with pytest.raises(ValueError, match="supports"):
        odoo_test.parse_series(output)


PASSED_LOG = (
    "2026-12-03 17:34:03,971 991 INFO db odoo.service.server: 40 post-tests in 7.84s, 5629 queries\n"
    "2026-12-03 17:34:03,971 991 INFO db odoo.tests.result: 0 failed, 0 error(s) of 40 tests when loading database"
    " 'db'\n"
)


def test_a_passing_run_is_ok() -> None:
    summary = odoo_test.summarize(PASSED_LOG)
    assert (summary.tests, summary.failed, summary.errors, summary.ok) == (40, 0, 0, True)


def test_skipped_tests_are_counted_with_their_reason() -> None:
    """Odoo's browser tests skip without Chrome or websocket-client: the summary says so (the run stays ok)."""
    skip = (
        "2026-12-03 21:34:49,121 29083 INFO db odoo.addons.copilot_approval.tests.test_exception_views_browser: "
        "skipped TestExceptionViewsInBrowser.test_process_health_renders : websocket-client module is not installed\n"
    )
    summary = odoo_test.summarize(skip + PASSED_LOG)
    assert summary.ok
    assert summary.skipped == (
        "TestExceptionViewsInBrowser.test_process_health_renders (websocket-client module is not installed)",
    )
    assert odoo_test.summarize(PASSED_LOG).skipped == ()


@pytest.mark.parametrize(
    "log",
    [
        PASSED_LOG.replace("0 failed, 0 error(s)", "1 failed, 0 error(s)"),
        PASSED_LOG.replace("0 failed, 0 error(s)", "0 failed, 2 error(s)"),
        # the addon was not installable (e.g. an 18.0 manifest on Odoo 19): no test ran at all
        "INFO db odoo.modules.loading: 45 modules loaded in 0.5s\n",
        "ERROR db odoo.registry: Failed to load registry\n" + PASSED_LOG,
    ],
    ids=["a failure", "an error", "no test ran", "registry failed"],
)
def test_a_failing_or_empty_run_is_not_ok(log: str) -> None:
    assert not odoo_test.summarize(log).ok


@pytest.mark.parametrize("series", VERSIONS)
def test_odoo_test_puts_the_series_tree_on_the_addons_path(series: str) -> None:
    run = odoo_test.OdooRun(
        python="py", odoo_bin=Path("/odoo/odoo-bin"), series=series, addons_path="/odoo/addons", db="t"
    )
    command = odoo_test.odoo_command(run)
    path_arg = next(a for a in command if a.startswith("--addons-path="))
    assert path_arg == f"--addons-path=/odoo/addons,{ADDONS_DIR / series}"
    assert "--test-tags=/copilot_approval" in command
    assert command[command.index("-i") + 1] == "purchase,copilot_approval"
    assert ("--without-demo=all" in command) == (series == "18.0")


# --------------------------------------------------------------------------- CI wiring

REPO = ADDONS_DIR.parent


def test_lint_runs_pylint_odoo_on_every_series_and_the_drift_check() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    lint_rule = next(line for line in makefile.splitlines() if line.startswith("lint:"))
    assert "odoo-lint" in lint_rule, "make lint (run by CI on every run) must include the addon's static check"
    series = next(line for line in makefile.splitlines() if line.startswith("ODOO_SERIES :="))
    assert series.split(":=")[1].split() == list(VERSIONS)
    odoo_lint = makefile.split("\nodoo-lint:", 1)[1].split("\n\n", 1)[0]
    assert "--rcfile=odoo_addons/.pylintrc" in odoo_lint and "--valid-odoo-versions=$$series" in odoo_lint
    assert "scripts.sync_odoo_addons --check" in odoo_lint
    rc = (ADDONS_DIR / ".pylintrc").read_text(encoding="utf-8")
    assert "load-plugins=pylint_odoo" in rc
    enabled = rc.split("enable=", 1)[1]
    assert "manifest-version-format" in enabled and "sql-injection" in enabled


def test_ci_runs_the_odoo_tests_for_each_series_it_has_and_says_when_it_has_none() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make lint" in ci
    assert "for series in 18 19; do" in ci and "make odoo-test" in ci
    assert "odoo-test: skipped, no Odoo source" in ci
