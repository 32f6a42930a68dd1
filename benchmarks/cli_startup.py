"""Cold wall time of CLI commands: each run is a fresh interpreter, as a user's shell starts it.

Run: ``python -m benchmarks.cli_startup [--runs 3] [--repo PATH ...] [--eval-suite NAME]``. Prints, per command,
the median, fastest and slowest of ``--runs`` runs. ``--repo`` times another checkout with this Python (its
code first on ``PYTHONPATH``); given twice, the two checkouts take turns run by run, so before and after compare
on the same venv under the same load. Offline: the embedded sandbox and the
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
    """``runs`` wall times of one command against one checkout, in seconds, and the last run's exit code."""

    label: str
    repo: Path
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


def bench(repos: list[Path], runs: int, eval_suites: list[str]) -> list[Timing]:
    """Time every command ``runs`` times per checkout; the checkouts take turns, so a load change hits all alike."""
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        setups = []
        for number, repo in enumerate(repos):
            cwd = Path(tmp) / str(number)
            cwd.mkdir()
            env = environment(repo, cwd / "data")
            check_repo(repo, env, cwd)
            print(f"indexing the sample knowledge base for {repo} (untimed)", file=sys.stderr)
            run_once(["index"], env, cwd)
            setups.append((repo, env, cwd))
        timings = []
        for label, args in commands(repos[0], eval_suites):  # the first checkout's email fixture for all
            results: dict[Path, list[tuple[float, int]]] = {repo: [] for repo in repos}
            for _ in range(runs):
                for repo, env, cwd in setups:
                    results[repo].append(run_once(args, env, cwd))
            for repo in repos:
                timing = Timing(label, repo, tuple(sec for sec, _ in results[repo]), results[repo][-1][1])
                timings.append(timing)
                print(f"  {label} ({repo}): {statistics.median(timing.seconds):.2f} s", file=sys.stderr)
        return timings


def table(timings: list[Timing], repos: list[Path]) -> str:
    """The medians as a fixed-width table: one row per command, one column per checkout (min-max, exit code)."""
    labels = list(dict.fromkeys(t.label for t in timings))
    by_key = {(t.label, t.repo): t for t in timings}
    width = max(len(label) for label in labels)
    cell = 26
    heads = "".join(f"  {f'[{i + 1}] median (min-max) exit':>{cell}}" for i in range(len(repos)))
    lines = [f"{'command':<{width}}{heads}"]
    lines.append("-" * len(lines[0]))
    for label in labels:
        row = f"{label:<{width}}"
        for repo in repos:
            t = by_key[(label, repo)]
            text = f"{statistics.median(t.seconds):.2f}s ({min(t.seconds):.2f}-{max(t.seconds):.2f}) {t.exit_code}"
            row += f"  {text:>{cell}}"
        lines.append(row)
    lines += [f"[{i + 1}] {repo}" for i, repo in enumerate(repos)]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, time the commands, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Runs per command (the median is reported).")
    parser.add_argument(
        "--repo",
        type=Path,
        action="append",
        default=[],
        help="Checkout whose code is timed (default: this one); repeat it to compare checkouts run by run.",
    )
    parser.add_argument(
        "--eval-suite", action="append", default=[], metavar="NAME", help="Also time `eval run --suite NAME`."
    )
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    repos = [repo.resolve() for repo in options.repo or [REPO]]
    for repo in repos:
        if not (repo / "copilot" / "cli").is_dir():
            parser.error(f"{repo} is not a checkout of the copilot")
    timings = bench(repos, options.runs, options.eval_suite)
    print(f"cold wall time: median of {options.runs} run(s), fresh interpreter each, {os.cpu_count()} CPU(s)")
    print(table(timings, repos))


if __name__ == "__main__":
    main()
