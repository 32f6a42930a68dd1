"""Reports of a run: Markdown (for a PR comment), self-contained HTML (drill-down), JUnit XML (any CI)."""

from __future__ import annotations

import html
import json
from xml.etree import ElementTree as ET

from evals.compare import SuiteComparison
from evals.runner import RunConfig, SuiteRun

__all__ = ["html_report", "junit_xml", "markdown_summary"]


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"


def markdown_summary(
    config: RunConfig, runs: list[SuiteRun], comparisons: dict[str, SuiteComparison] | None = None
) -> str:
    """Metrics per suite (with deltas against the baseline when compared) and the flipped cases."""
    lines = [
        f"## Eval run · {config.engine} · {config.started_at:%Y-%m-%d %H:%M} UTC",
        "",
        "Prompts: " + (", ".join(f"`{k}` {v}" for k, v in config.prompts.items()) or "-"),
        "",
    ]
    for run in runs:
        comparison = (comparisons or {}).get(run.suite)
        lines += [
            f"### {run.suite}: {run.passed}/{len(run.cases)} cases pass ({run.seconds:.1f} s)",
            "",
            "| metric | value | baseline | delta (95% CI) |",
            "| --- | ---: | ---: | --- |",
        ]
        deltas = {d.metric: d for d in comparison.deltas} if comparison else {}
        for name, value in run.metrics.items():
            d = deltas.get(name)
            if d is None:
                lines.append(f"| {name} | {_fmt(value)} | | |")
            else:
                flag = " **regressed**" if d.regressed else ""
                interval = f"{d.delta:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]{flag}"
                lines.append(f"| {name} | {_fmt(value)} | {_fmt(d.baseline)} | {interval} |")
        if comparison and comparison.flipped:
            lines += [
                "",
                "Flipped cases: " + ", ".join(f"`{f.id}` {'✅' if f.now_passed else '❌'}" for f in comparison.flipped),
            ]
        lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
.fail{color:#b00020}.pass{color:#1b5e20}details{margin:.2rem 0}pre{background:#f7f7f7;padding:.5rem;
white-space:pre-wrap;max-width:100%}.num{text-align:right}
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _confusions(run: SuiteRun) -> str:
    out = []
    for name, matrix in run.extras.items():
        if not name.endswith("_confusion"):
            continue
        labels = matrix["labels"]
        rows = [
            [html.escape(labels[i])] + [str(n) if n else "." for n in counts]
            for i, counts in enumerate(matrix["counts"])
        ]
        out.append(f"<h4>{html.escape(name)} (rows: target, columns: predicted)</h4>")
        out.append(_table(["", *labels], rows))
    return "".join(out)


def html_report(config: RunConfig, runs: list[SuiteRun], comparisons: dict[str, SuiteComparison] | None = None) -> str:
    """One HTML file, no external assets: metrics, confusion matrices, every case to drill into."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Eval run {config.started_at:%Y-%m-%d %H:%M}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Eval run · {html.escape(config.engine)}</h1>",
        f"<pre>{html.escape(config.model_dump_json(indent=1))}</pre>",
    ]
    for run in runs:
        comparison = (comparisons or {}).get(run.suite)
        deltas = {d.metric: d for d in comparison.deltas} if comparison else {}
        parts.append(f"<h2>{html.escape(run.suite)}: {run.passed}/{len(run.cases)} pass</h2>")
        rows = []
        for name, value in run.metrics.items():
            d = deltas.get(name)
            delta = f"{d.delta:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]" if d else ""
            cls = "fail" if d and d.regressed else ""
            rows.append([html.escape(name), f"<span class='num {cls}'>{_fmt(value)}</span>", delta])
        parts.append(_table(["metric", "value", "delta vs baseline (95% CI)"], rows))
        parts.append(_confusions(run))
        parts.append("<h3>Cases</h3>")
        for case in run.cases:
            verdict = "pass" if case.passed else "fail"
            body = json.dumps(
                {"input": case.input, "target": case.target, "output": case.output, "scores": case.scores,
                 "error": case.error, "latency_ms": case.latency_ms, "tokens": case.tokens},
                indent=1, ensure_ascii=False, default=str,
            )  # fmt: skip
            tags = ", ".join(case.tags)
            parts.append(
                f"<details><summary class='{verdict}'>{html.escape(case.id)} · {verdict} · {tags}</summary>"
                f"<pre>{html.escape(body)}</pre></details>"
            )
    parts.append("</body></html>")
    return "".join(parts)


def junit_xml(runs: list[SuiteRun]) -> str:
    """JUnit XML: a test suite per eval suite, a test case per eval case (failures carry the scores)."""
    root = ET.Element("testsuites", name="copilot-evals")
    for run in runs:
        failures = sum(not c.passed and c.error is None for c in run.cases)
        errors = sum(c.error is not None for c in run.cases)
        suite = ET.SubElement(
            root, "testsuite", name=run.suite, tests=str(len(run.cases)), failures=str(failures),
            errors=str(errors), time=f"{run.seconds:.2f}",
        )  # fmt: skip
        for case in run.cases:
            node = ET.SubElement(
                suite, "testcase", classname=f"evals.{run.suite}", name=case.id, time=f"{case.latency_ms / 1000:.3f}"
            )
            if case.error is not None:
                ET.SubElement(node, "error", message=case.error[:200]).text = case.error
            elif not case.passed:
                detail = json.dumps({"target": case.target, "output": case.output, "scores": case.scores}, default=str)
                ET.SubElement(node, "failure", message=f"{case.id} did not pass").text = detail
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
