"""The README's five-minute tour, run line by line as a newcomer would, so the README cannot rot.

The commands come from the ```bash block under "## Five-minute tour" in README.md. They run in order, once per
module, in a temporary working directory that mirrors the repository (without a developer's ``.env``), with
the venv's ``copilot`` first on PATH, no ``COPILOT_*`` variable but a temporary ``COPILOT_DATA_DIR``, and the
variables the tour itself exports. Each step is a test case: it must exit 0 and print what ``EXPECTED`` says.
A README line without an entry in ``EXPECTED`` fails too: say what the new step must print.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
HEADING = "## Five-minute tour"
STEP_TIMEOUT = 240.0

pytestmark = pytest.mark.e2e

#: What each tour line must print (a few key strings, all required). Keys are the README's lines verbatim.
EXPECTED: dict[str, tuple[str, ...]] = {
    "copilot demo": ("deterministic engine", "P00002", "13 supplier emails", "report written to"),
    "copilot summarize tests/fixtures/emails/02_p00002_new_ship_date.eml": ("P00002", "2026-12-03", "2026-11-22"),
    'copilot ask "which Wood Corner orders are late?" --thread cli:tour': ("P00006", "late"),
    'copilot ask "what did the supplier last say about it?" --thread cli:tour': ("P00006", "Tom Ruiz"),
    'copilot draft --customer "Gemini Furniture" --text "Hello, when will the corner desks of S00024 arrive?"': (
        "Dear Gemini Furniture",
        "S00024",
        "citations",
    ),
    "export COPILOT_POLICY_FILE=policy.example.yaml": (),
    "copilot propose tests/fixtures/emails/02_p00002_new_ship_date.eml --submit": ("P00002", "#1 pending"),
    "copilot approvals list": ("P00002", "pending"),
    "copilot approvals show 1": ("P00002", "pending"),
    "copilot approvals approve 1": ("approved",),
    "copilot executor --once": ("executed",),
    "copilot odoo po P00002": ("P00002", "2026-12-03"),
    "copilot controls run orders_at_risk": ("S00024", "P00009", "S00004", "critical"),
    "copilot audit verify": ("chain ok",),
    "copilot eval run --suite proposals": ("proposals", "pass_rate", "report.md"),
    "copilot sandbox reset": ("removed", "approval request", "the sandbox serves the recording again"),
}


def tour_lines(readme: str) -> list[str]:
    """The command lines of the first ```bash block under the tour heading (comments and blanks dropped)."""
    lines = readme.splitlines()
    start = lines.index(HEADING)
    commands: list[str] = []
    inside = False
    for line in lines[start + 1 :]:
        if not inside and line.startswith("## "):
            break
        if not inside and line.strip() == "```bash":
            inside = True
            continue
        if inside and line.strip() == "```":
            return commands
        if inside and line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    raise AssertionError(f"no ```bash block under {HEADING!r} in README.md")


TOUR = tour_lines(README.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Step:
    """One tour line as it ran."""

    command: str
    returncode: int
    output: str
    seconds: float


def _workdir(tmp: Path) -> Path:
    """A directory that looks like the repository (symlinks) but has no ``.env`` of a developer."""
    work = tmp / "repo"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in {".env", ".git", ".venv"}:
            (work / entry.name).symlink_to(entry)
    return work


def _environment(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COPILOT_")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["COPILOT_DATA_DIR"] = str(data_dir)
    return env


def _run_tour(tmp: Path) -> list[Step]:
    work = _workdir(tmp)
    env = _environment(tmp / "data")
    steps: list[Step] = []
    for command in TOUR:
        started = time.monotonic()
        words = shlex.split(command)
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value
            steps.append(Step(command, 0, "", 0.0))
            continue
        try:
            done = subprocess.run(  # noqa: S603 - the README's own commands
                ["/bin/bash", "-c", command],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT,
                check=False,
            )
            step = Step(command, done.returncode, done.stdout + done.stderr, time.monotonic() - started)
        except subprocess.TimeoutExpired as exc:
            step = Step(command, -1, f"timed out after {STEP_TIMEOUT} s: {exc.output or ''}", STEP_TIMEOUT)
        steps.append(step)
    return steps


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Step]:
    """The whole tour, run once, in order (a failed step does not stop the next ones)."""
    steps = _run_tour(tmp_path_factory.mktemp("tour"))
    sys.stderr.write("".join(f"\n  {s.seconds:5.1f} s  exit {s.returncode}  {s.command}" for s in steps) + "\n")
    return {step.command: step for step in steps}


def test_the_tour_walks_the_whole_path_of_the_readme() -> None:
    """demo → summarize → ask with a follow-up → draft → propose → approve → execute → audit → eval."""
    verbs = [shlex.split(line)[1] if line.startswith("copilot ") else shlex.split(line)[0] for line in TOUR]
    order = ["demo", "summarize", "ask", "draft", "propose", "approvals", "executor", "audit", "eval"]
    positions = [verbs.index(verb) for verb in order]
    assert positions == sorted(positions), verbs
    assert verbs.count("ask") == 2 and "approve" in " ".join(TOUR)


def test_every_tour_line_says_what_it_must_print() -> None:
    missing = [line for line in TOUR if line not in EXPECTED]
    assert not missing, f"README tour lines without an entry in EXPECTED: {missing}"


@pytest.mark.parametrize("command", TOUR, ids=[f"{n:02d}-{line[:60]}" for n, line in enumerate(TOUR, start=1)])
def test_tour_step(tour: dict[str, Step], command: str) -> None:
    step = tour[command]
    tail = step.output[-3000:]
    assert step.returncode == 0, f"`{command}` exited {step.returncode}:\n{tail}"
    wanted = EXPECTED.get(command, ())
    absent = [text for text in wanted if text not in step.output]
    assert not absent, f"`{command}` did not print {absent}:\n{tail}"
    if not command.startswith("export "):
        assert step.output.strip(), f"`{command}` printed nothing"
