"""``copilot eval run|compare``: regression evals of the skills against the sandbox (or a configured Odoo)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.llm import build_chat_model

app = typer.Typer(help="Regression evals: run suites, compare a run with the committed baseline.", no_args_is_help=True)

BASELINES = Path(__file__).resolve().parents[2] / "evals" / "baselines"  # the evals package's folder


def _suites(names: list[str]) -> list[str]:
    from evals.suites import SUITES

    if not names or "all" in names:
        return list(SUITES)
    unknown = sorted(set(names) - set(SUITES))
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {unknown}; known: all, {', '.join(SUITES)}", param_hint="--suite")
    return names


def _compare_all(run_dir: Path, baseline_dir: Path, suites: list[str]) -> dict:
    from evals.compare import compare_runs, load_tolerances
    from evals.runner import load_suite_run

    tolerances = load_tolerances(baseline_dir / "tolerances.yaml")
    out = {}
    for name in suites:
        if (baseline_dir / name / "metrics.json").exists() and (run_dir / name / "metrics.json").exists():
            out[name] = compare_runs(
                load_suite_run(run_dir / name), load_suite_run(baseline_dir / name), tolerances=tolerances
            )
    return out


def _print_comparisons(comparisons: dict) -> None:
    for name, comparison in comparisons.items():
        table = Table("metric", "baseline", "run", "delta", "95% CI", "tolerance", title=f"{name} vs baseline")
        for d in comparison.deltas:
            delta = f"[red]{d.delta:+.3f}[/]" if d.regressed else f"{d.delta:+.3f}"
            table.add_row(
                d.metric, f"{d.baseline:.3f}", f"{d.current:.3f}", delta,
                f"[{d.ci_low:+.3f}, {d.ci_high:+.3f}]", f"{d.tolerance:.3f}",
            )  # fmt: skip
        console.print(table)
        worse = [f.id for f in comparison.flipped if not f.now_passed]
        better = [f.id for f in comparison.flipped if f.now_passed]
        if worse:
            console.print(f"[red]{name}: now failing[/]: {', '.join(worse)}")
        if better:
            console.print(f"[green]{name}: now passing[/]: {', '.join(better)}")
        if comparison.only_in_run or comparison.only_in_baseline:
            console.print(
                f"{name}: {len(comparison.only_in_run)} case(s) not in the baseline, "
                f"{len(comparison.only_in_baseline)} baseline case(s) not run"
            )


@app.command("run")
def run(
    suite: list[str] = typer.Option(["all"], "--suite", help="all, or a suite name (repeatable)."),
    out: Path | None = typer.Option(None, help="Run directory (default: $COPILOT_DATA_DIR/evals/runs/<time>)."),
    concurrency: int = typer.Option(2, min=1, max=32, help="Cases run in parallel."),
    baseline: Path = typer.Option(BASELINES, help="Baselines to show deltas against (if present)."),
    update_baseline: bool = typer.Option(False, "--update-baseline", help="Write this run as the new baseline."),
    price_per_1k_tokens: float = typer.Option(0.0, min=0, help="Model price, for the cost column."),
    judge: bool = typer.Option(False, "--judge", help="Grade tone and helpfulness with COPILOT_EVAL_JUDGE_MODEL."),
    json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Run the suites (deterministic engine on the sandbox unless an LLM/Odoo is configured); write reports."""
    from langchain_core.globals import set_llm_cache

    from copilot.cli._progress import progress
    from evals.cache import SQLiteResponseCache
    from evals.reports import html_report, junit_xml, markdown_summary
    from evals.runner import describe_config, run_suite, skill_of, write_suite_run
    from evals.suites import SuiteContext, get_suite

    # Evals score the recording itself, never what the sandbox kept from earlier commands.
    with command_root(sandbox_keep_writes=False) as root:
        settings = root.settings
        names = _suites(suite)
        llm = root.llm
        cache = None
        if llm is not None:
            cache = SQLiteResponseCache(settings.data_dir / "evals" / "llm-cache.sqlite")
            set_llm_cache(cache)
        grader = None
        if judge:
            if not settings.eval_judge_model:
                raise typer.BadParameter("set COPILOT_EVAL_JUDGE_MODEL (and the LLM endpoint) to use --judge")
            from evals.judge import Judge

            judge_llm = build_chat_model(
                settings.model_copy(update={"llm_model": settings.eval_judge_model, "llm_temperature": 0.0})
            )
            grader = Judge(judge_llm, timeout=settings.llm_deadline) if judge_llm is not None else None
            if cache is None:
                cache = SQLiteResponseCache(settings.data_dir / "evals" / "llm-cache.sqlite")
                set_llm_cache(cache)
        config = describe_config(settings, concurrency=concurrency, llm_enabled=llm is not None, suites=names)
        run_dir = out or settings.data_dir / "evals" / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "run.json").write_text(config.model_dump_json(indent=1), encoding="utf-8")
        runs = []
        odoo = root.odoo
        err_console.print(f"eval: {config.engine} on {odoo.label}", soft_wrap=True)
        for name in names:
            s = get_suite(name)
            context = SuiteContext(settings=settings, client=odoo.client, llm=llm, judge=grader, components=root)
            from evals.schema import datasets_dir, load_dataset

            cases = load_dataset(datasets_dir() / s.dataset, skill=skill_of(s))
            with progress(f"eval {name}", console=err_console, total=len(cases)) as report:
                result = run_suite(
                    s, context, cases=cases, concurrency=concurrency, price_per_1k_tokens=price_per_1k_tokens,
                    progress=report.advance,
                )  # fmt: skip
            write_suite_run(result, run_dir)
            runs.append(result)
    set_llm_cache(None)
    comparisons = _compare_all(run_dir, baseline, names)
    (run_dir / "report.md").write_text(markdown_summary(config, runs, comparisons), encoding="utf-8")
    (run_dir / "report.html").write_text(html_report(config, runs, comparisons), encoding="utf-8")
    (run_dir / "junit.xml").write_text(junit_xml(runs), encoding="utf-8")
    if update_baseline:
        for r in runs:
            shutil.copytree(run_dir / r.suite, baseline / r.suite, dirs_exist_ok=True)
    if json:
        return print_json({"run_dir": str(run_dir), "suites": {r.suite: r.metrics for r in runs}})
    for r in runs:
        table = Table("metric", "value", title=f"{r.suite}: {r.passed}/{len(r.cases)} cases pass ({r.seconds:.1f} s)")
        for metric, value in r.metrics.items():
            table.add_row(metric, f"{value:.3f}")
        console.print(table)
    if cache is not None:
        console.print(f"model response cache: {cache.hits} hits, {cache.misses} misses")
    console.print(f"run directory: {run_dir} (report.md, report.html, junit.xml)")
    if update_baseline:
        console.print(f"baseline updated: {baseline}")


@app.command("compare")
def compare(
    run_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="A run directory."),
    baseline: Path = typer.Argument(BASELINES, exists=True, file_okay=False, help="The baseline directory."),
    json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Per-metric deltas with paired bootstrap intervals; exit 1 when a metric drops beyond its tolerance."""
    names = [p.name for p in sorted(run_dir.iterdir()) if (p / "metrics.json").exists()]
    if not names:
        raise typer.BadParameter(f"{run_dir} holds no suite results", param_hint="RUN_DIR")
    comparisons = _compare_all(run_dir, baseline, names)
    if not comparisons:
        raise typer.BadParameter(f"no baseline in {baseline} for {', '.join(names)}", param_hint="BASELINE")
    if json:
        print_json({k: v.model_dump(mode="json") for k, v in comparisons.items()})
    else:
        _print_comparisons(comparisons)
    regressed = [k for k, v in comparisons.items() if v.regressed]
    if regressed:
        err_console.print(f"[red]regression in {', '.join(regressed)}[/]")
        raise typer.Exit(1)
    if not json:
        console.print("[green]no regression beyond tolerance[/]")
