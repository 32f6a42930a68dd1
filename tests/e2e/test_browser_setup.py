"""The headless-browser tests' set-up: `make browser-test`, and Chromium from Debian's packages only on request."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "test-services.sh"
MAKE = shutil.which("make") or "make"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")]


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _services(stubs: Path, sbin: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        ["/bin/bash", str(SERVICES), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={
            "PATH": str(stubs),
            "DOVECOT_SEARCH_PATH": str(sbin),
            "POSTGRES_SEARCH_GLOB": f"{sbin}/pg*",
            "CHROMIUM_SEARCH_PATH": str(sbin),
            **env,
        },
        check=False,
    )


@pytest.fixture
def machine(tmp_path: Path) -> tuple[Path, Path]:
    """A PATH without chromium, sudo or apt-get (a non-root user), and an empty sbin."""
    stubs, sbin = tmp_path / "bin", tmp_path / "sbin"
    stubs.mkdir()
    sbin.mkdir()
    _stub(stubs, "id", "echo 1000\n")
    return stubs, sbin


def test_make_browser_test_runs_the_browser_tests_only(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own command
        [MAKE, "-n", "-C", str(REPO), f"VENV={tmp_path / 'venv'}", "browser-test", "PYTEST_ARGS=-x"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "-m pytest tests/browser -m browser -x" in done.stdout


def test_chromium_is_checked_only_when_asked_for(machine: tuple[Path, Path]) -> None:
    default = _services(*machine, "install")
    assert "Chromium" not in default.stderr
    asked = _services(*machine, "install", "chromium")
    assert asked.returncode == 0
    assert asked.stderr.strip().splitlines() == [
        "Chromium not found: the headless-browser tests on a real Odoo will be skipped; "
        "install with: sudo apt-get install chromium"
    ]


def test_ci_requiring_the_services_fails_when_chromium_cannot_be_installed(machine: tuple[Path, Path]) -> None:
    done = _services(*machine, "install", "chromium", COPILOT_REQUIRE_SERVICES="1")
    assert done.returncode == 1
    assert "sudo apt-get install chromium" in done.stderr


def test_as_root_with_apt_get_only_chromium_is_installed(machine: tuple[Path, Path]) -> None:
    stubs, sbin = machine
    log = stubs.parent / "apt.log"
    _stub(stubs, "id", "echo 0\n")
    _stub(
        stubs,
        "apt-get",
        f'echo "$*" >> {log}\n'
        f'case "$*" in *"install -y -qq chromium"*) printf "#!/bin/sh\\n" > {sbin}/chromium; '
        f"/bin/chmod +x {sbin}/chromium;; esac\n",
    )
    done = _services(stubs, sbin, "install", "chromium", COPILOT_REQUIRE_SERVICES="1")
    assert done.returncode == 0, done.stderr
    assert "chromium installed" in done.stdout
    installs = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("install")]
    assert installs == ["install -y -qq chromium"]


def test_an_unknown_server_name_is_a_usage_error(machine: tuple[Path, Path]) -> None:
    done = _services(*machine, "install", "firefox")
    assert done.returncode == 2
    assert "usage:" in done.stderr
