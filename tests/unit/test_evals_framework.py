"""The eval framework itself: dataset validation, scorers, compare (with a deliberate regression), reports."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from evals.compare import compare_runs
from evals.reports import html_report, junit_xml, markdown_summary
from evals.runner import RunConfig, SuiteRun, load_suite_run, write_suite_run
from evals.schema import DatasetError, load_dataset
from evals.scorers.classification import confusion, macro_f1
from evals.scorers.extraction import prf, score_extraction
from evals.suites import CaseResult


def _case(i: str, **kw: object) -> str:
    case = {"id": i, "input": {"body": "x"}, "target": {"po_refs": []}, "metadata": {"skill": "supplier_email"}}
    case.update(kw)  # type: ignore[arg-type]
    return json.dumps(case)


def test_a_bad_dataset_line_is_named_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(_case("a") + "\n" + _case("b", extra=1) + "\n")
    with pytest.raises(DatasetError, match=r"d.jsonl:2: not a valid case"):
        load_dataset(path)
    path.write_text(_case("a") + "\n" + _case("a") + "\n")
    with pytest.raises(DatasetError, match="duplicate id 'a'"):
        load_dataset(path)
    path.write_text(_case("a") + "\n")
    with pytest.raises(DatasetError, match="is for 'supplier_email', not 'triage'"):
        load_dataset(path, skill="triage")


def test_extraction_scores_count_each_fact_family() -> None:
    target = {"po_refs": ["P00009"], "changes": [{"kind": "new_date", "po": "P00009", "date": "2026-12-05"}]}
    same = score_extraction(
        target, {"po_refs": ["p00009"], "changes": [{"kind": "new_date", "po": "P00009", "date": "2026-12-05"}]}
    )
    assert same["exact"] == 1.0 and same["dates_tp"] == 1
    wrong = score_extraction(
        target, {"po_refs": ["P00009"], "changes": [{"kind": "new_date", "po": "P00009", "date": "2026-12-04"}]}
    )
    assert (wrong["exact"], wrong["dates_fp"], wrong["dates_fn"], wrong["kinds_tp"]) == (0.0, 1, 1, 1)
    precision, recall, f1 = prf([same, wrong], "dates")
    assert (precision, recall) == (0.5, 0.5) and f1 == pytest.approx(0.5)


def test_classification_scores() -> None:
    truth, predicted = ["a", "a", "b", "c"], ["a", "b", "b", None]
    assert macro_f1(truth, predicted) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    labels, counts = confusion(truth, predicted)
    assert labels == ["-", "a", "b", "c"] and counts[labels.index("c")][labels.index("-")] == 1


def _run(passed: list[bool]) -> SuiteRun:
    cases = [
        CaseResult(
            id=f"se-{i}", input={}, target={"po_refs": ["P1"]}, output={"po_refs": ["P1"] if ok else []},
            scores=score_extraction({"po_refs": ["P1"]}, {"po_refs": ["P1"] if ok else []}), passed=ok,
        )
        for i, ok in enumerate(passed)
    ]  # fmt: skip
    from evals.suites import get_suite

    metrics, extras = get_suite("supplier_email").aggregate(cases)
    metrics["pass_rate"] = sum(passed) / len(passed)
    return SuiteRun(suite="supplier_email", metrics=metrics, extras=extras, cases=cases)


def test_compare_fails_on_a_drop_and_names_the_flipped_cases(tmp_path: Path) -> None:
    baseline = _run([True] * 20)
    write_suite_run(baseline, tmp_path)
    assert load_suite_run(tmp_path / "supplier_email").metrics == baseline.metrics
    same = compare_runs(_run([True] * 20), load_suite_run(tmp_path / "supplier_email"))
    assert not same.regressed and same.flipped == []
    worse = compare_runs(_run([True] * 18 + [False] * 2), baseline)
    assert worse.regressed
    assert [f.id for f in worse.flipped] == ["se-18", "se-19"]
    refs = next(d for d in worse.deltas if d.metric == "references_f1")
    assert refs.delta < 0 and refs.ci_low <= refs.delta <= refs.ci_high
    tolerant = compare_runs(
        _run([True] * 18 + [False] * 2),
        baseline,
        tolerances={
            "default": {"references_f1": 0.5, "pass_rate": 0.5, "exact_match": 0.5, "exact_match_en": 0.5, "f1_en": 0.5}
        },
    )
    assert not tolerant.regressed


def test_reports_are_written_in_three_formats() -> None:
    run = _run([True, False])
    config = RunConfig(engine="deterministic", started_at="2026-11-26T16:05:05Z", concurrency=1)
    comparison = compare_runs(run, _run([True, True]))
    md = markdown_summary(config, [run], {"supplier_email": comparison})
    assert "### supplier_email: 1/2 cases pass" in md and "**regressed**" in md and "`se-1` ❌" in md
    page = html_report(config, [run], {"supplier_email": comparison})
    assert page.startswith("<!doctype html>") and "<details>" in page and "http" not in page.split("</style>")[0]
    root = ET.fromstring(junit_xml([run]))  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"


def test_the_committed_baseline_passes_and_a_deliberate_regression_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supplier-email suite against evals/baselines; then with date extraction broken on purpose."""
    from typer.testing import CliRunner

    from copilot.cli import app

    runner = CliRunner()
    good = runner.invoke(app, ["eval", "run", "--suite", "supplier_email", "--out", str(tmp_path / "good")])
    assert good.exit_code == 0, good.output
    for name in ("report.md", "report.html", "junit.xml", "run.json"):
        assert (tmp_path / "good" / name).exists()
    ok = runner.invoke(app, ["eval", "compare", str(tmp_path / "good")])
    assert ok.exit_code == 0 and "no regression" in ok.output

    import importlib

    extract = importlib.import_module("copilot.skills.supplier_email.extract")
    monkeypatch.setattr(extract, "find_dates", lambda text, reference: [])  # an "edit" that loses every date
    bad = runner.invoke(app, ["eval", "run", "--suite", "supplier_email", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 0, bad.output
    failed = runner.invoke(app, ["eval", "compare", str(tmp_path / "bad")])
    assert failed.exit_code == 1
    assert "regression in supplier_email" in failed.output and "now failing" in failed.output
    assert "se-0" in failed.output.split("now failing", 1)[1]  # the flipped cases are named


def test_the_llm_judge_grades_and_its_failure_costs_only_the_grade(odoo: object) -> None:
    from langchain_core.language_models import FakeListChatModel

    from copilot.config import load_settings
    from evals.judge import Judge
    from evals.runner import run_suite
    from evals.schema import EvalCase
    from evals.suites import SuiteContext, get_suite

    judge = Judge(FakeListChatModel(responses=['{"tone": 5, "helpfulness": 3, "rationale": "clear"}', "not json"]))
    assert judge.scores("where is P00009?", "It is late.") == {"judge_tone": 1.0, "judge_helpfulness": 0.5}
    assert judge.scores("where is P00009?", "It is late.") == {}  # off-schema answer: no grade, no crash
    case = EvalCase.model_validate(
        {"id": "an-x", "input": {"question": "What's the status of P00009?"},
         "target": {"intent": "po_status", "pos": ["P00009"], "must_mention": []},
         "metadata": {"skill": "answer"}}
    )  # fmt: skip
    grader = Judge(FakeListChatModel(responses=['{"tone": 4, "helpfulness": 4}']))
    context = SuiteContext(settings=load_settings(), client=odoo, llm=None, judge=grader)
    run = run_suite(get_suite("answers"), context, cases=[case], concurrency=1)
    assert run.metrics["judge_tone"] == 0.75 and run.cases[0].passed


def test_tracking_numbers_are_scored_as_number_and_carrier_when_the_target_lists_them() -> None:
    target = {"po_refs": ["P00010"], "changes": [], "tracking": [{"number": "1Z999AA10123456784", "carrier": "ups"}]}
    spaced = {"po_refs": ["P00010"], "changes": [], "tracking": [{"number": "1z 999 aa1 0123456784", "carrier": "UPS"}]}
    assert score_extraction(target, spaced)["tracking_tp"] == 1 and score_extraction(target, spaced)["exact"] == 1.0
    wrong_carrier = score_extraction(
        target, {"po_refs": ["P00010"], "tracking": [{"number": "1Z999AA10123456784", "carrier": "fedex"}]}
    )
    assert (wrong_carrier["tracking_fp"], wrong_carrier["tracking_fn"], wrong_carrier["exact"]) == (1, 1, 0.0)
    missed = score_extraction(target, {"po_refs": ["P00010"]})
    assert missed["tracking_fn"] == 1 and missed["exact"] == 0.0
    none_expected = score_extraction({**target, "tracking": []}, spaced)
    assert none_expected["tracking_fp"] == 1 and none_expected["exact"] == 0.0


def test_a_target_without_a_tracking_key_does_not_score_tracking() -> None:
    output = {"po_refs": ["P00010"], "tracking": [{"number": "1Z999AA10123456784", "carrier": "ups"}]}
    scores = score_extraction({"po_refs": ["P00010"]}, output)
    assert "tracking_fp" not in scores and scores["exact"] == 1.0


def _lang_case(i: str, tags: list[str], ok: bool) -> CaseResult:
    target = {"po_refs": ["P00001"], "changes": [{"kind": "new_date", "po": "P00001", "date": "2026-12-01"}]}
    output = {"po_refs": ["P00001"], "changes": target["changes"] if ok else []}
    return CaseResult(
        id=i, tags=tags, input={}, target=target, output=output, scores=score_extraction(target, output), passed=ok
    )


def test_the_supplier_email_suite_reports_exact_match_and_f1_per_language() -> None:
    from evals.suites import get_suite

    cases = [
        _lang_case("a", ["lang:de", "new_date"], True),
        _lang_case("b", ["lang:de"], False),
        _lang_case("c", ["new_date"], True),  # no language tag: English
        _lang_case("d", ["lang:fr"], False),
    ]
    metrics, _ = get_suite("supplier_email").aggregate(cases)
    assert metrics["exact_match_de"] == 0.5 and metrics["exact_match_en"] == 1.0 and metrics["exact_match_fr"] == 0.0
    # de: references 2 tp; kinds and dates 1 tp + 1 fn each -> 4 tp, 2 fn
    assert metrics["f1_de"] == pytest.approx(2 * 1.0 * (4 / 6) / (1.0 + 4 / 6))
    assert metrics["f1_en"] == 1.0 and "exact_match_es" not in metrics


def test_tracking_output_comes_from_the_summary_tracking_references() -> None:
    from copilot.skills.supplier_email.schemas import EmailReference
    from evals.suites.supplier_email import tracking_output

    refs = [
        EmailReference(kind="tracking", value="1Z 999 AA1 0123456784"),
        EmailReference(kind="vendor_order", value="WC-SO-20931"),
    ]
    assert tracking_output(refs) == [{"number": "1Z999AA10123456784", "carrier": None}]
