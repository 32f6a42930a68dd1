"""Run suites against a configuration and write a run directory with every case and the metrics.

A run directory holds ``run.json`` (configuration: engine, model, prompt versions, policy, dataset
hashes), and per suite ``<suite>/cases.jsonl`` (input, output, scores, latency, tokens, cost) and
``<suite>/metrics.json``. Reports (Markdown, HTML, JUnit) are written next to them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.config import Settings
from copilot.prompts import available_versions, load_prompt
from evals.schema import EvalCase, datasets_dir, load_dataset
from evals.suites import CaseResult, Suite, SuiteContext, get_suite

__all__ = ["RunConfig", "SuiteRun", "load_suite_run", "run_suite", "skill_of", "write_suite_run"]

#: Prompts whose version and hash identify a configuration.
_PROMPTS = ("supplier_email_summary", "triage_classify")


class RunConfig(BaseModel):
    """What a run used: enough to reproduce it and to tell two runs apart."""

    model_config = ConfigDict(frozen=True)

    engine: str = Field(description="deterministic, or llm:<model>")
    base_url: str | None = None
    prompts: dict[str, str] = Field(default_factory=dict, description="name -> 'v<N> <sha256[:12]>'")
    policy: str | None = None
    datasets: dict[str, str] = Field(default_factory=dict, description="file -> sha256[:12]")
    started_at: datetime
    concurrency: int
    price_per_1k_tokens: float = 0.0


class SuiteRun(BaseModel):
    """One suite's results."""

    suite: str
    metrics: dict[str, float]
    extras: dict[str, Any] = Field(default_factory=dict)
    cases: list[CaseResult]
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        """Cases that passed."""
        return sum(c.passed for c in self.cases)


def skill_of(suite: Suite) -> str:
    """The skill a suite's cases are for (the suite's name unless it says otherwise)."""
    return str(getattr(suite, "skill", suite.name))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def describe_config(settings: Settings, *, concurrency: int, llm_enabled: bool, suites: list[str]) -> RunConfig:
    """The configuration of a run with these settings."""
    prompts = {}
    for name in _PROMPTS:
        try:
            latest = max(available_versions(name))
            prompt = load_prompt(name, latest)
            prompts[name] = f"v{prompt.version} {prompt.sha256[:12]}"
        except (OSError, ValueError):
            continue
    files = {get_suite(s).dataset for s in suites}
    return RunConfig(
        engine=f"llm:{settings.llm_model}" if llm_enabled else "deterministic",
        base_url=str(settings.llm_base_url) if llm_enabled and settings.llm_base_url else None,
        prompts=prompts,
        policy=str(settings.policy_file) if settings.policy_file else None,
        datasets={f: _sha(datasets_dir() / f) for f in sorted(files) if (datasets_dir() / f).exists()},
        started_at=datetime.now(UTC).replace(microsecond=0),
        concurrency=concurrency,
    )


@contextmanager
def _usage() -> Iterator[dict[str, int]]:
    """Tokens the model reported while the block ran (0 for the deterministic engine)."""
    totals = {"tokens": 0}
    try:
        from langchain_core.callbacks import get_usage_metadata_callback
    except ImportError:  # pragma: no cover - older langchain-core
        yield totals
        return
    with get_usage_metadata_callback() as callback:
        yield totals
        totals["tokens"] = sum(int(u.get("total_tokens", 0)) for u in callback.usage_metadata.values())


def _run_case(suite: Suite, case: EvalCase, context: SuiteContext, price: float) -> CaseResult:
    started = time.perf_counter()
    output: dict[str, Any] | None = None
    error = None
    with _usage() as usage:
        try:
            output = suite.run(case, context)
        except Exception as exc:  # a crash is a failed case with its reason, never a lost run
            error = f"{type(exc).__name__}: {exc}"[:500]
    latency = (time.perf_counter() - started) * 1000
    if output is None:
        scores, passed = {}, False
    else:
        scores, passed = suite.score(case, output)
        pair = getattr(suite, "judge_pair", None)
        if context.judge is not None and pair is not None and (texts := pair(case, output)) is not None:
            scores = {**scores, **context.judge.scores(*texts)}
    return CaseResult(
        id=case.id,
        tags=case.metadata.tags,
        input=case.input,
        target=case.target,
        output=output,
        scores=scores,
        passed=passed,
        error=error,
        latency_ms=round(latency, 1),
        tokens=usage["tokens"],
        cost=round(usage["tokens"] / 1000 * price, 6),
    )


def run_suite(
    suite: Suite,
    context: SuiteContext,
    *,
    cases: list[EvalCase] | None = None,
    concurrency: int = 2,
    price_per_1k_tokens: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> SuiteRun:
    """Every case of ``suite`` (its shipped dataset unless ``cases`` is given), in dataset order."""
    cases = cases if cases is not None else load_dataset(datasets_dir() / suite.dataset, skill=skill_of(suite))
    started = time.perf_counter()
    suite.prepare(context)
    results: list[CaseResult] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=f"eval-{suite.name}") as pool:
        for result in pool.map(lambda c: _run_case(suite, c, context, price_per_1k_tokens), cases):
            results.append(result)
            if progress is not None:
                progress(1)
    metrics, extras = suite.aggregate([r for r in results if r.output is not None] or results)
    judged = sorted({k for r in results for k in r.scores if k.startswith("judge_")})
    for key in judged:  # the judge's grades, averaged over the cases it graded
        graded = [r.scores[key] for r in results if key in r.scores]
        metrics[key] = sum(graded) / len(graded)
    metrics["pass_rate"] = sum(r.passed for r in results) / len(results)
    metrics["errors"] = float(sum(r.error is not None for r in results))
    return SuiteRun(
        suite=suite.name, metrics=metrics, extras=extras, cases=results, seconds=round(time.perf_counter() - started, 2)
    )


def write_suite_run(run: SuiteRun, folder: Path) -> None:
    """``<folder>/<suite>/cases.jsonl`` and ``metrics.json``."""
    target = folder / run.suite
    target.mkdir(parents=True, exist_ok=True)
    with (target / "cases.jsonl").open("w", encoding="utf-8") as out:
        for case in run.cases:
            out.write(case.model_dump_json() + "\n")
    summary = {"suite": run.suite, "metrics": run.metrics, "extras": run.extras, "seconds": run.seconds}
    (target / "metrics.json").write_text(json.dumps(summary, indent=1, sort_keys=True), encoding="utf-8")


def load_suite_run(folder: Path) -> SuiteRun:
    """A suite run (or a baseline) written by ``write_suite_run``."""
    summary = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    cases = [
        CaseResult.model_validate_json(line)
        for line in (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return SuiteRun(
        suite=summary["suite"],
        metrics=summary["metrics"],
        extras=summary.get("extras", {}),
        cases=cases,
        seconds=summary.get("seconds", 0.0),
    )
