"""Start-up budget: ``copilot --help`` and the Odoo-only commands import no model, ML or LLM library;
model-backed commands check Odoo before loading a model and say on stderr what they load.

Each command runs in a fresh interpreter (a warm ``sys.modules`` would hide an eager import); the test lists
the forbidden modules still loaded afterwards. Timings belong to ``benchmarks/cli_startup.py``, not here.
To find who imports a module: ``python -X importtime -c "import copilot.cli" 2>&1 | grep -B5 sklearn``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Libraries that cost seconds to import (or pull in ones that do) and that reading Odoo never needs.
HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "sklearn",
    "scipy",
    "chromadb",
    "langchain_core",
    "langsmith",
    "openai",
    "numpy",
    "pandas",
)
#: The state database (SQLAlchemy): only for commands that read or write it.
STATE_DB = ("sqlalchemy",)

_SCRIPT = """
import json, os, sys
sys.argv = ["copilot", *json.loads(os.environ["STARTUP_ARGS"])]
from copilot.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(os.environ["STARTUP_OUT"], "w") as out:
    json.dump({"code": code, "modules": sorted(name.partition(".")[0] for name in sys.modules)}, out)
"""


def _loaded_after(tmp_path: Path, args: list[str], **extra_env: str) -> tuple[int, set[str], str]:
    """Run ``copilot ARGS`` in a fresh interpreter; its exit code, top-level modules loaded, and stderr."""
    out = tmp_path / "modules.json"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
        "STARTUP_ARGS": json.dumps(args),
        "STARTUP_OUT": str(out),
        "COLUMNS": "120",
    } | extra_env
    proc = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.exists(), proc.stderr
    result = json.loads(out.read_text())
    return result["code"], set(result["modules"]), proc.stderr


def _run(tmp_path: Path, args: list[str], **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``copilot ARGS`` in a fresh interpreter, stdout and stderr kept apart."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
    } | extra_env
    entry = "import sys; from copilot.cli import main; sys.argv[0] = 'copilot'; main()"
    return subprocess.run(  # noqa: S603 - our own interpreter and entry point
        [sys.executable, "-c", entry, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "forbidden"),
    [
        (["--help"], HEAVY + STATE_DB),
        (["odoo", "--help"], HEAVY + STATE_DB),
        (["odoo", "late"], HEAVY + STATE_DB),
        (["odoo", "po", "P00009"], HEAVY + STATE_DB),
        (["odoo", "so", "S00004"], HEAVY + STATE_DB),
        (["odoo", "stock", "FURN_8888"], HEAVY + STATE_DB),
        (["odoo", "partner", "Wood Corner"], HEAVY + STATE_DB),
        (["odoo", "tickets", "--limit", "3"], HEAVY + STATE_DB),
        # The sandbox may keep its approval requests in the data dir, so the state DB is allowed here.
        (["approvals", "list"], HEAVY),
        (["audit", "show"], HEAVY),  # the audit trail lives in the state database
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_command_imports_no_heavy_library(tmp_path: Path, args: list[str], forbidden: tuple[str, ...]) -> None:
    code, modules, stderr = _loaded_after(tmp_path, args)
    assert code in (0, None), stderr
    loaded = sorted(set(forbidden) & modules)
    assert not loaded, f"`copilot {' '.join(args)}` imported {loaded}; see `python -X importtime`"


@pytest.mark.parametrize(
    "args", [["summarize", "--help"], ["kb", "search", "--help"], ["triage", "--help"]], ids=" ".join
)
def test_help_of_model_backed_commands_loads_no_model(tmp_path: Path, args: list[str]) -> None:
    code, modules, stderr = _loaded_after(tmp_path, args)
    assert code in (0, None), stderr
    assert not sorted(set(HEAVY + STATE_DB) & modules)


EMAIL = REPO / "tests" / "fixtures" / "emails" / "04_p00009_partial_shipment.eml"
MODEL = ("torch", "sentence_transformers", "transformers")


def _dead_odoo() -> dict[str, str]:
    """Settings of an Odoo where nothing listens (a port that was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "COPILOT_ODOO_URL": f"http://127.0.0.1:{port}",
        "COPILOT_ODOO_DB": "x",
        "COPILOT_ODOO_PASSWORD": "x",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["summarize", str(EMAIL)],
        ["draft", "--text", "When will my desks arrive?"],
        ["triage", "classify", "--text", "The chair arrived broken"],
        ["ask", "which orders are late?"],
        ["kb", "tickets"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_dead_odoo_fails_in_one_line_before_any_model_loads(tmp_path: Path, args: list[str]) -> None:
    code, modules, stderr = _loaded_after(tmp_path, args, **_dead_odoo())
    assert code == 1, stderr
    assert "Traceback" not in stderr and "retry" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "unreachable" in errors[0], stderr
    assert not sorted(set(MODEL) & modules), "the model was loaded before Odoo was tried"
    assert "loading the embedding model" not in stderr


@pytest.mark.parametrize(
    ("args", "loads"),
    [
        (["summarize", str(EMAIL.parent / "11_p00010_injection.eml"), "--json"], 1),
        (["summarize", str(EMAIL), "--json"], 0),  # business mail: no instruction-like sentence, no model
        (["triage", "classify", "--text", "The chair arrived broken", "--json"], 1),
    ],
    ids=["summarize injection", "summarize business", "triage classify"],
)
def test_a_model_backed_command_says_once_on_stderr_what_it_loads(tmp_path: Path, args: list[str], loads: int) -> None:
    proc = _run(tmp_path, args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("loading the embedding model (all-MiniLM-L6-v2)") == loads, proc.stderr
    json.loads(proc.stdout)  # the JSON on stdout stays clean
