"""Install (or upgrade) the copilot_approval addon on a real Odoo and run its own Odoo tests (``make odoo-test``).

Odoo is on no package registry, so it is not a dependency of the project: point this at an Odoo 18 or 19 source tree.

    make odoo-test ODOO_BIN=/opt/odoo19/odoo-bin ODOO_PY=/opt/odoo-venv/bin/python \
        ODOO_ARGS="--db_host=127.0.0.1 --db_port=5432 --db_user=odoo"

``ODOO_BIN`` (required) is ``odoo-bin``; ``ODOO_PY`` the Python that has Odoo's requirements (default: ``python3``);
``ODOO_ADDONS_PATH`` Odoo's own addons folders (default: ``<odoo>/addons,<odoo>/odoo/addons`` beside ``odoo-bin``),
to which the addon's tree for the detected series (``odoo_addons/18.0`` or ``odoo_addons/19.0``) is appended;
``ODOO_DB`` the database (default ``copilot_approval_test_18`` / ``_19``: created with ``purchase`` the first time,
the addon upgraded on the next runs); ``ODOO_ARGS`` more options for Odoo (database connection, ``-c odoo.conf``).
The exit status is 0 only when Odoo loaded, ran at least one of the addon's tests and none failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.sync_odoo_addons import ADDON, VERSIONS, addon_dir

__all__ = ["OdooRun", "TestSummary", "main", "odoo_command", "parse_series", "summarize"]

#: Odoo's one-line result after a test run (18 and 19): "0 failed, 0 error(s) of 41 tests when loading database ...".
_RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
#: Log lines that mean Odoo did not load the database (the addon did not install or upgrade).
#: Lines of an Odoo log that mean the database did not load (the run failed whatever the exit code says).
FATAL = ("Failed to load registry", "Failed to initialize database", "odoo.modules.loading: Some modules")
_SERIES = re.compile(r"Odoo Server (\d+\.\d+)")
#: Odoo's line for a skipped test, e.g. "...: skipped TestX.test_y : websocket-client module is not installed".
_SKIPPED = re.compile(r": skipped (\S+) : (.*)")
#: Apps the addon's tests use beside its own dependencies (a price change targets a purchase order line).
TEST_MODULES = ("purchase",)


@dataclass(frozen=True)
class TestSummary:
    """What Odoo reported about the addon's tests."""

    tests: int
    failed: int
    errors: int
    fatal: str | None
    #: Tests Odoo skipped, with the reason (the browser tests need Chrome and websocket-client).
    skipped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Odoo loaded, ran at least one test, and every test passed."""
        return self.fatal is None and self.tests > 0 and self.failed == 0 and self.errors == 0


@dataclass(frozen=True)
class OdooRun:
    """Where Odoo is and how to run it."""

    python: str
    odoo_bin: Path
    series: str
    addons_path: str
    db: str
    extra_args: tuple[str, ...] = ()


def parse_series(version_output: str) -> str:
    """The Odoo series ("18.0") from ``odoo-bin --version``; ValueError when it is not one the addon supports."""
    match = _SERIES.search(version_output)
    series = match.group(1) if match else None
    if series not in VERSIONS:
        raise ValueError(f"odoo-bin --version printed {version_output.strip()!r}; the addon supports {VERSIONS}")
    return series


def summarize(log: str) -> TestSummary:
    """Add up Odoo's test result lines; note the first line saying that the database did not load."""
    tests = failed = errors = 0
    for match in _RESULT.finditer(log):
        failed += int(match.group(1))
        errors += int(match.group(2))
        tests += int(match.group(3))
    fatal = next((line.strip() for line in log.splitlines() if any(marker in line for marker in FATAL)), None)
    skipped = tuple(f"{m.group(1)} ({m.group(2).strip()})" for line in log.splitlines() if (m := _SKIPPED.search(line)))
    return TestSummary(tests=tests, failed=failed, errors=errors, fatal=fatal, skipped=skipped)


def odoo_command(run: OdooRun) -> list[str]:
    """``odoo-bin`` installing the addon (or upgrading it when installed) and running its tests, then stopping."""
    addons_path = ",".join(part for part in (run.addons_path, str(addon_dir(run.series).parent)) if part)
    command = [
        run.python,
        str(run.odoo_bin),
        *run.extra_args,
        f"--addons-path={addons_path}",
        "-d",
        run.db,
        # -i installs what is missing; -u upgrades the addon when an earlier run installed it
        "-i",
        ",".join((*TEST_MODULES, ADDON)),
        "-u",
        ADDON,
        "--test-enable",
        f"--test-tags=/{ADDON}",
        "--stop-after-init",
        "--log-level=test",
    ]
    if run.series == "18.0":
        command.append("--without-demo=all")  # Odoo 19 installs no demo data unless --with-demo
    return command


def default_addons_path(odoo_bin: Path) -> str:
    """Odoo's own addons folders of the source tree ``odoo_bin`` is in."""
    root = odoo_bin.resolve().parent
    return ",".join(str(p) for p in (root / "addons", root / "odoo" / "addons") if p.is_dir())


def _run_from(args: argparse.Namespace) -> OdooRun:
    odoo_bin = Path(args.odoo_bin)
    if not odoo_bin.is_file():
        raise SystemExit(f"odoo-test: ODOO_BIN={args.odoo_bin!r} is not a file (an Odoo 18 or 19 odoo-bin)")
    version = subprocess.run(  # noqa: S603 (the contributor's own Odoo)
        [args.python, str(odoo_bin), "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    series = parse_series(version.stdout + version.stderr)
    return OdooRun(
        python=args.python,
        odoo_bin=odoo_bin,
        series=series,
        addons_path=args.addons_path or default_addons_path(odoo_bin),
        db=args.db or f"copilot_approval_test_{series.split('.')[0]}",
        extra_args=tuple(shlex.split(args.odoo_args)),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the addon's Odoo tests; exit 0 only when they all ran and passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-bin", default=os.environ.get("ODOO_BIN", ""))
    parser.add_argument("--python", default=os.environ.get("ODOO_PY") or "python3")
    parser.add_argument("--addons-path", default=os.environ.get("ODOO_ADDONS_PATH", ""))
    parser.add_argument("--db", default=os.environ.get("ODOO_DB", ""))
    parser.add_argument("--odoo-args", default=os.environ.get("ODOO_ARGS", ""))
    args = parser.parse_args(argv)
    if not args.odoo_bin:
        sys.stderr.write("odoo-test: set ODOO_BIN to an Odoo 18 or 19 odoo-bin (see docs/development.md)\n")
        return 2
    run = _run_from(args)
    command = odoo_command(run)
    sys.stdout.write(f"odoo-test: {shlex.join(command)}\n")
    sys.stdout.flush()
    lines: list[str] = []
    with subprocess.Popen(  # noqa: S603 (the contributor's own Odoo)
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
    summary = summarize("".join(lines))
    verdict = "ok" if summary.ok and process.returncode == 0 else "FAILED"
    for test in summary.skipped:
        sys.stdout.write(f"odoo-test: skipped {test}\n")
    sys.stdout.write(
        f"odoo-test: Odoo {run.series}, {ADDON}: {summary.tests} tests, {summary.failed} failed, "
        f"{summary.errors} errors, {len(summary.skipped)} skipped, odoo-bin exit {process.returncode}, "
        f"database {run.db}: {verdict}" + (f" ({summary.fatal})" if summary.fatal else "") + "\n"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
