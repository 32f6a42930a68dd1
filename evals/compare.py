"""Compare a run with a baseline: per-metric deltas with paired bootstrap intervals, flipped cases.

Cases are paired by id. The interval resamples the paired cases (the same sample for both runs) and
recomputes each metric with the suite's own aggregation, so it fits metrics that are not averages
(micro-F1, macro-F1). A metric regresses when it drops by more than its tolerance.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from evals.runner import SuiteRun
from evals.suites import get_suite

__all__ = ["Flip", "MetricDelta", "SuiteComparison", "compare_runs", "load_tolerances"]

DEFAULT_TOLERANCE = 0.01


class MetricDelta(BaseModel):
    """One metric, before and after."""

    model_config = ConfigDict(frozen=True)

    metric: str
    baseline: float
    current: float
    delta: float
    ci_low: float
    ci_high: float
    tolerance: float
    regressed: bool


class Flip(BaseModel):
    """A case whose verdict changed."""

    model_config = ConfigDict(frozen=True)

    id: str
    now_passed: bool
    error: str | None = None


class SuiteComparison(BaseModel):
    """A suite's run against its baseline."""

    suite: str
    deltas: list[MetricDelta]
    flipped: list[Flip] = Field(description="Cases that changed verdict: regressions first")
    only_in_run: list[str]
    only_in_baseline: list[str]

    @property
    def regressed(self) -> bool:
        """True when any metric dropped beyond its tolerance."""
        return any(d.regressed for d in self.deltas)


def load_tolerances(path: Path) -> dict[str, dict[str, float]]:
    """``suite -> metric -> allowed drop`` (``default`` applies to every suite)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(s): {str(m): float(t) for m, t in (metrics or {}).items()} for s, metrics in data.items()}


def compare_runs(
    run: SuiteRun,
    baseline: SuiteRun,
    *,
    tolerances: dict[str, dict[str, float]] | None = None,
    iterations: int = 1000,
    seed: int = 0,
) -> SuiteComparison:
    """Deltas of the suite's compared metrics and pass rate, with 95% paired bootstrap intervals."""
    suite = get_suite(run.suite)
    tol = {**(tolerances or {}).get("default", {}), **(tolerances or {}).get(run.suite, {})}
    ours = {c.id: c for c in run.cases}
    theirs = {c.id: c for c in baseline.cases}
    common = [i for i in theirs if i in ours]
    names = [*suite.metrics, "pass_rate"]

    def metrics(cases: list, ids: list[str]) -> dict[str, float]:
        rows = [cases[i] for i in ids]  # type: ignore[index]
        values, _ = suite.aggregate([r for r in rows if r.output is not None] or rows)
        values["pass_rate"] = sum(r.passed for r in rows) / len(rows) if rows else 0.0
        return values

    rng = random.Random(seed)  # noqa: S311 - reproducible resampling, not security
    samples: dict[str, list[float]] = {m: [] for m in names}
    if common:
        for _ in range(iterations):
            pick = [common[rng.randrange(len(common))] for _ in common]
            now, then = metrics(ours, pick), metrics(theirs, pick)  # type: ignore[arg-type]
            for m in names:
                samples[m].append(now.get(m, 0.0) - then.get(m, 0.0))
    deltas = []
    for m in names:
        before, after = baseline.metrics.get(m, 0.0), run.metrics.get(m, 0.0)
        ordered = sorted(samples[m]) or [after - before]
        low = ordered[int(0.025 * (len(ordered) - 1))]
        high = ordered[int(0.975 * (len(ordered) - 1))]
        allowed = tol.get(m, DEFAULT_TOLERANCE)
        deltas.append(
            MetricDelta(
                metric=m,
                baseline=round(before, 4),
                current=round(after, 4),
                delta=round(after - before, 4),
                ci_low=round(low, 4),
                ci_high=round(high, 4),
                tolerance=allowed,
                regressed=after - before < -allowed - 1e-9,
            )
        )
    flipped = [
        Flip(id=i, now_passed=ours[i].passed, error=ours[i].error) for i in common if ours[i].passed != theirs[i].passed
    ]
    flipped.sort(key=lambda f: (f.now_passed, f.id))
    return SuiteComparison(
        suite=run.suite,
        deltas=deltas,
        flipped=flipped,
        only_in_run=sorted(set(ours) - set(theirs)),
        only_in_baseline=sorted(set(theirs) - set(ours)),
    )
