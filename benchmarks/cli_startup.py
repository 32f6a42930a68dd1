"""Cold wall time of CLI commands: each run is a fresh interpreter, as a user's shell starts it.

Run: ``python -m benchmarks.cli_startup [--runs 3] [--repo PATH] [--eval-suite NAME]``. Prints, per command,
the median, fastest and slowest of ``--runs`` runs. ``--repo`` times another checkout with this Python (its
code first on ``PYTHONPATH``), so two commits compare on the same venv. Offline: the embedded sandbox and the
deterministic engine; ``COPILOT_*`` variables are dropped and the data goes to a temporary ``COPILOT_DATA_DIR``
(indexed once, untimed, so ``kb search`` has passages). ``eval run`` is slow: only with ``--eval-suite``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The console script's body: ``copilot ARGS`` without depending on which checkout installed the script.
_ENTRY = "import sys; from copilot.cli import main; sys.argv[0] = 'copilot'; main()"
FIXTURE = Path("tests") / "fixtures" / "emails" / "04_p00009_partial_shipment.eml"


@dataclass(frozen=True)
class Timing:
    """``runs`` wall times of one command, in seconds, and the exit code of the last run."""

    label: str
    seconds: tuple[float, ...]
    exit_code: int


def commands(repo: Path, eval_suites: list[str]) -> list[tuple[str, list[str]]]:
    """(label, arguments) of each timed command."""
    timed = [
        ("copilot --help", ["--help"]),
        ("odoo late", ["odoo", "late"]),
        ("odoo po P00009", ["odoo", "po", "P00009"]),
        ("summarize <email>", ["summarize", str(repo / FIXTURE)]),
        ("draft --text --customer", ["draft", "--text", "When will my desks arrive?", "--customer", "Deco Addict"]),
        ("triage classify --text", ["triage", "classify", "--text", "The chair arrived broken, I want a refund"]),
        ("kb search", ["kb", "search", "return a damaged chair"]),
    ]
    for suite in eval_suites:
        timed.append((f"eval run --suite {suite}", ["eval", "run", "--suite", suite]))
    return timed


def environment(repo: Path, data_dir: Path) -> dict[str, str]:
    """The caller's environment without ``COPILOT_*``, with ``repo`` first on the path and a private data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(repo), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["COPILOT_DATA_DIR"] = str(data_dir)
    return env


def run_once(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Seconds and exit code of one ``copilot ARGS`` in a fresh interpreter (output discarded)."""
    started = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - this Python, our own entry point
        [sys.executable, "-c", _ENTRY, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        print(f"  `copilot {' '.join(args)}` exited {proc.returncode}: {tail[0]}", file=sys.stderr)
    return seconds, proc.returncode


def check_repo(repo: Path, env: dict[str, str], cwd: Path) -> None:
    """Stop when ``copilot`` would not be imported from ``repo`` (an installed copy shadowing it)."""
    where = subprocess.run(
        [sys.executable, "-c", "import copilot; print(copilot.__file__)"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(repo):
        raise SystemExit(f"copilot is imported from {where}, not from {repo}")


def bench(repo: Path, runs: int, eval_suites: list[str]) -> list[Timing]:
    """Time every command ``runs`` times against ``repo``'s code."""
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        cwd = Path(tmp)
        env = environment(repo, cwd / "data")
        check_repo(repo, env, cwd)
        print(f"indexing the sample knowledge base into {cwd / 'data'} (untimed)", file=sys.stderr)
        run_once(["index"], env, cwd)
        timings = []
        for label, args in commands(repo, eval_suites):
            results = [run_once(args, env, cwd) for _ in range(runs)]
            timings.append(Timing(label, tuple(s for s, _ in results), results[-1][1]))
            print(f"  {label}: {statistics.median(timings[-1].seconds):.2f} s", file=sys.stderr)
        return timings


def table(timings: list[Timing]) -> str:
    """The timings as a fixed-width table."""
    width = max(len(t.label) for t in timings)
    lines = [f"{'command':<{width}}  {'median':>7}  {'min':>7}  {'max':>7}  exit", "-" * (width + 33)]
    for t in timings:
        lines.append(
            f"{t.label:<{width}}  {statistics.median(t.seconds):>6.2f}s  {min(t.seconds):>6.2f}s  "
            f"{max(t.seconds):>6.2f}s  {t.exit_code}"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, time the commands, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Runs per command (the median is reported).")
    parser.add_argument("--repo", type=Path, default=REPO, help="Checkout whose code is timed (default: this one).")
    parser.add_argument(
        "--eval-suite", action="append", default=[], metavar="NAME", help="Also time `eval run --suite NAME`."
    )
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    repo = options.repo.resolve()
    if not (repo / "copilot" / "cli").is_dir():
        parser.error(f"{repo} is not a checkout of the copilot")
    timings = bench(repo, options.runs, options.eval_suite)
    print(f"cold wall time, {options.runs} run(s) each, {os.cpu_count()} CPU(s), code from {repo}")
    print(table(timings))


if __name__ == "__main__":
    main()
