"""The set-up commands: `make` installs the CPU build of torch, and `make test` checks the test servers first."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "test-services.sh"
MAKE = shutil.which("make") or "make"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")]


def _make_dry_run(*args: str, venv: Path) -> list[str]:
    done = subprocess.run(  # noqa: S603 - our own command
        [MAKE, "-n", "-C", str(REPO), f"VENV={venv}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.splitlines()


def test_the_install_takes_torch_cpu_before_the_package_and_never_pypis_default_build(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    lines = _make_dry_run(f"{venv}/.installed", venv=venv)
    text = "\n".join(lines)
    local = text.index("--no-deps --no-index 'torch==2.13.0'")
    fallback = text.index("--index-url 'https://download.pytorch.org/whl/cpu' 'torch==2.13.0'")
    package = text.index("pip install --quiet -e .")
    assert local < fallback < package
    # the fallback gives up instead of hanging on a network that drops packets
    assert "--timeout 60 --retries 2" in text
    # no line installs torch from the default index (PyPI's Linux wheel is the CUDA build)
    assert not [line for line in lines if "torch==" in line and "--no-index" not in line and "--index-url" not in line]


def test_the_torch_index_and_version_can_be_overridden(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    text = "\n".join(
        _make_dry_run(
            f"{venv}/.installed",
            "TORCH_INDEX_URL=https://mirror.example.com/torch-cpu",
            "TORCH_VERSION=2.14.0",
            venv=venv,
        )
    )
    assert "--index-url 'https://mirror.example.com/torch-cpu' 'torch==2.14.0'" in text
    assert "download.pytorch.org" not in text


def test_make_test_checks_the_test_servers_then_states_its_duration(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    text = "\n".join(_make_dry_run("test", venv=venv))
    services = text.index("scripts/test-services.sh install")
    pytest_run = text.index("-m pytest")
    assert services < pytest_run
    assert "make test: " in text[pytest_run:] and " s of tests" in text


def test_make_test_runs_the_socket_free_unit_part_then_the_integration_part(tmp_path: Path) -> None:
    text = "\n".join(_make_dry_run("test", venv=tmp_path / "venv"))
    unit = text.index("-m pytest tests/unit tests/docs")
    integration = text.index("-m pytest tests/integration tests/contract tests/live")
    assert unit < integration
    assert "--part unit" in text[unit:integration] and "--part integration" in text[integration:]
    unit_only = "\n".join(_make_dry_run("unit", venv=tmp_path / "venv"))
    assert "-m pytest tests/unit tests/docs" in unit_only and "tests/integration" not in unit_only


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _services(mode: str, stubs: Path, sbin: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        ["/bin/bash", str(SERVICES), mode],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": str(stubs), "DOVECOT_SEARCH_PATH": str(sbin), "POSTGRES_SEARCH_GLOB": f"{sbin}/pg*", **env},
        check=False,
    )


@pytest.fixture
def machine(tmp_path: Path) -> tuple[Path, Path]:
    """A PATH without dovecot, sudo or apt-get (a non-root user), and an empty sbin."""
    stubs, sbin = tmp_path / "bin", tmp_path / "sbin"
    stubs.mkdir()
    sbin.mkdir()
    _stub(stubs, "id", "echo 1000\n")
    return stubs, sbin


def test_without_the_servers_and_no_way_to_install_them_one_line_hint_each(machine: tuple[Path, Path]) -> None:
    done = _services("install", *machine)
    assert done.returncode == 0
    assert done.stderr.strip().splitlines() == [
        "Dovecot not found: the email channel's IMAP tests will be skipped; "
        "install with: sudo apt-get install dovecot-imapd",
        "PostgreSQL not found: the stores' PostgreSQL tests will be skipped; "
        "install with: sudo apt-get install postgresql",
        "redis-server not found: the Celery workers' and shared rate limits' tests will be skipped; "
        "install with: sudo apt-get install redis-server",
    ]


def test_ci_requiring_the_services_fails_when_dovecot_is_missing(machine: tuple[Path, Path]) -> None:
    done = _services("check", *machine, COPILOT_REQUIRE_SERVICES="1")
    assert done.returncode == 1
    assert "sudo apt-get install dovecot-imapd" in done.stderr


def test_as_root_with_apt_get_the_servers_are_installed(machine: tuple[Path, Path]) -> None:
    stubs, sbin = machine
    log = stubs.parent / "apt.log"
    _stub(stubs, "id", "echo 0\n")
    _stub(
        stubs,
        "apt-get",
        f'echo "$DEBIAN_FRONTEND $*" >> {log}\n'
        f'case "$*" in *dovecot-imapd*) printf "#!/bin/sh\\n" > {sbin}/dovecot; /bin/chmod +x {sbin}/dovecot;; esac\n'
        f'case "$*" in *" postgresql"*) /bin/mkdir {sbin}/pg16; printf "#!/bin/sh\\n" > {sbin}/pg16/initdb; '
        f"/bin/chmod +x {sbin}/pg16/initdb;; esac\n"
        f'case "$*" in *redis-server*) printf "#!/bin/sh\\n" > {sbin}/redis-server; '
        f"/bin/chmod +x {sbin}/redis-server;; esac\n",
    )
    done = _services("install", stubs, sbin, COPILOT_REQUIRE_SERVICES="1")
    assert done.returncode == 0, done.stderr
    assert all(f"{name} installed" in done.stdout for name in ("dovecot", "postgresql", "redis"))
    assert log.read_text(encoding="utf-8").splitlines()[-3:] == [
        "noninteractive install -y -qq dovecot-imapd",
        "noninteractive install -y -qq postgresql",
        "noninteractive install -y -qq redis-server",
    ]
    # once there, nothing is installed again
    again = _services("install", stubs, sbin)
    assert again.stdout.strip().splitlines() == [f"test servers: {n} found" for n in ("dovecot", "postgresql", "redis")]
    assert len(log.read_text(encoding="utf-8").splitlines()) == 4  # one update, three installs


def test_check_mode_never_installs(machine: tuple[Path, Path]) -> None:
    stubs, sbin = machine
    _stub(stubs, "id", "echo 0\n")
    _stub(stubs, "apt-get", "exit 99\n")
    done = _services("check", stubs, sbin)
    assert done.returncode == 0 and "install with: sudo apt-get install dovecot-imapd" in done.stderr
    assert os.listdir(sbin) == []
