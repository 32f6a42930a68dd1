"""A setting that cannot work is one line naming its variable and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COPILOT = Path(sys.executable).with_name("copilot")

pytestmark = pytest.mark.skipif(not COPILOT.exists(), reason="the copilot command is not installed next to this Python")


def _run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``copilot ARGS`` as a user runs it: a clean environment, no .env, this checkout's code."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(tmp_path),
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(  # noqa: S603 - our own command
        [str(COPILOT), *args], cwd=tmp_path, env=base | env, capture_output=True, text=True, timeout=120
    )


def _one_line(proc: subprocess.CompletedProcess[str], variable: str) -> str:
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if variable in line]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_model_without_a_key_names_the_key_variable(tmp_path: Path) -> None:
    proc = _run(tmp_path, ["ask", "which orders are late?"], COPILOT_LLM_MODEL="x")
    line = _one_line(proc, "COPILOT_LLM_API_KEY")
    assert proc.returncode == 2 and line.startswith("configuration error:")
    assert "COPILOT_LLM_MODEL" in line  # says why a key is needed at all


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("a-file/data", ["ask", "which orders are late?"]),
        ("a-file", ["ask", "which orders are late?"]),
        ("a-file/data", ["demo"]),
        ("a-file/data", ["kb", "search", "damaged chair"]),
    ],
    ids=["under-a-file", "is-a-file", "demo-report", "chroma"],
)
def test_an_unusable_data_dir_names_the_variable(tmp_path: Path, where: str, args: list[str]) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    proc = _run(tmp_path, args, COPILOT_DATA_DIR=str(tmp_path / where))
    line = _one_line(proc, "COPILOT_DATA_DIR")
    assert proc.returncode == 2 and str(tmp_path / where) in line


def test_serve_with_an_unusable_data_dir_fails_before_listening(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    proc = _run(tmp_path, ["serve", "--port", "0"], COPILOT_DATA_DIR=str(tmp_path / "a-file" / "data"))
    _one_line(proc, "COPILOT_DATA_DIR")
    assert "listening on" not in proc.stderr


def test_serve_with_bad_api_tokens_fails_before_listening(tmp_path: Path) -> None:
    proc = _run(tmp_path, ["serve", "--port", "0"], COPILOT_API_TOKENS="bad")
    _one_line(proc, "COPILOT_API_TOKENS")
    assert proc.returncode == 2
    assert "listening on" not in proc.stderr
