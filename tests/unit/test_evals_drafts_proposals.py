"""The drafts and proposals eval suites: datasets load, cases run end to end on the sandbox, scores behave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.odoo import OdooClient
from evals.runner import SuiteRun, run_suite
from evals.schema import EvalCase, datasets_dir, load_dataset
from evals.scorers.drafts import score_draft, uncited_references
from evals.scorers.proposals import rates, score_proposals
from evals.suites.base import SuiteContext
from evals.suites.drafts import DraftsSuite
from evals.suites.proposals import ProposalsSuite

STATUSES = {"ready", "needs_review", "needs_clarification"}
INTENTS = {"status", "damaged", "missing", "wrong_item", "return", "billing", "change", "other"}


def _cases(suite: Any, *ids: str) -> list[EvalCase]:
    by_id = {c.id: c for c in load_dataset(datasets_dir() / suite.dataset, skill=suite.skill)}
    return [by_id[i] for i in ids]


def _with_target(case: EvalCase, **target: Any) -> EvalCase:
    return case.model_copy(update={"id": f"{case.id}-wrong", "target": {**case.target, **target}})


def _run(suite: Any, cases: list[EvalCase], odoo: OdooClient, tmp_path: Path) -> SuiteRun:
    context = SuiteContext(settings=load_settings(data_dir=tmp_path), client=odoo, llm=None)
    return run_suite(suite, context, cases=cases, concurrency=2)


def _in_unit_interval(run: SuiteRun, names: tuple[str, ...]) -> None:
    for name in names:
        assert 0.0 <= run.metrics[name] <= 1.0, (name, run.metrics[name])


def test_the_datasets_load_and_their_targets_are_well_formed() -> None:
    drafts = load_dataset(datasets_dir() / "drafts.jsonl", skill="draft_reply")
    assert len(drafts) >= 45
    for case in drafts:
        assert {"message", "subject"} <= set(case.input), case.id
        assert case.target["status"] in STATUSES and case.target["intent"] in INTENTS, case.id
        assert all(o.startswith("S") for o in case.target["orders"]), case.id
        assert set(case.target) == {"status", "orders", "intent", "must_mention", "must_not_mention"}, case.id
    tags = {t for c in drafts for t in c.metadata.tags}
    assert {"cross-customer", "unknown-order", "no-order-ref", "billing", "claim", "typos", "multiple-orders"} <= tags
    assert {"customer-po-ref"} <= tags

    proposals = load_dataset(datasets_dir() / "proposals.jsonl", skill="approvals")
    assert len(proposals) >= 45
    quiet = [c for c in proposals if not c.target["proposals"]]
    assert len(quiet) >= 15  # unverified senders, injections, no PO, newsletters, unchanged dates
    for case in proposals:
        assert {"subject", "from", "date", "body"} <= set(case.input), case.id
        for p in case.target["proposals"]:
            assert p["tier"] in {"low", "medium", "high", "critical"} and p["mode"] == "approval", case.id
            assert sum(k in p for k in ("new_date", "new_price", "new_product", "new_quantity")) == 1, case.id
            if p["action_type"] == "reschedule_receipt":
                assert f"stock.picking:{p['target']}" in case.metadata.records, case.id


def test_drafts_suite_end_to_end(odoo: OdooClient, tmp_path: Path) -> None:
    suite = DraftsSuite()
    late, foreign, claim = _cases(suite, "dr-003", "dr-028", "dr-046")
    wrong_status = _with_target(late, status="needs_clarification", orders=["S00099"])
    leak = _with_target(claim, must_not_mention=["Pedal Bin"])  # the customer's own product: flagged as a leak
    run = _run(suite, [late, foreign, claim, wrong_status, leak], odoo, tmp_path)
    verdicts = {c.id: c.passed for c in run.cases}
    assert verdicts == {"dr-003": True, "dr-028": True, "dr-046": True, "dr-003-wrong": False, "dr-046-wrong": False}
    assert all(c.error is None for c in run.cases)
    by_id = {c.id: c for c in run.cases}
    assert by_id["dr-003"].output["orders"] == ["S00024"] and by_id["dr-003"].scores["fact_coverage"] == 1.0
    assert by_id["dr-028"].output["status"] == "needs_clarification" and by_id["dr-028"].scores["leaked"] == 0.0
    assert by_id["dr-046-wrong"].scores["leaked"] == 1.0
    assert by_id["dr-003-wrong"].scores["status_correct"] == 0.0 and by_id["dr-003-wrong"].scores["orders_exact"] == 0
    _in_unit_interval(run, (*suite.metrics, "intent_accuracy", "leak_rate", "pass_rate"))
    assert run.metrics["no_leak_rate"] == pytest.approx(0.8) and run.metrics["status_accuracy"] == pytest.approx(0.8)
    assert "status_confusion" in run.extras and "intent_confusion" in run.extras


def test_proposals_suite_end_to_end(odoo: OdooClient, tmp_path: Path) -> None:
    suite = ProposalsSuite()
    receipt, high_price, unverified, injection = _cases(suite, "pr-003", "pr-018", "pr-041", "pr-045")
    wrong_date = _with_target(receipt, proposals=[{**receipt.target["proposals"][0], "new_date": "2026-12-25"}])
    run = _run(suite, [receipt, high_price, unverified, injection, wrong_date], odoo, tmp_path)
    verdicts = {c.id: c.passed for c in run.cases}
    assert verdicts == {"pr-003": True, "pr-018": True, "pr-041": True, "pr-045": True, "pr-003-wrong": False}
    by_id = {c.id: c for c in run.cases}
    [price] = by_id["pr-018"].output["proposals"]
    assert price["action_type"] == "accept_price_change" and price["tier"] == "high" and price["approvers"] == 2
    assert by_id["pr-045"].output["changes"] and by_id["pr-045"].output["proposals"] == []  # seen, not proposed
    _in_unit_interval(run, (*suite.metrics, "exact_match", "pass_rate"))
    assert run.metrics["action_f1"] == 1.0 and run.metrics["no_unwarranted_rate"] == 1.0
    assert run.metrics["new_value_accuracy"] == pytest.approx(2 / 3)  # the wrong date, the right date, the price


def test_proposal_scores_count_duplicates_and_unwarranted_proposals() -> None:
    want = {"proposals": [{"action_type": "reschedule_receipt", "target": "WH/IN/00009", "new_date": "2026-12-08",
                           "tier": "low", "mode": "approval"}]}  # fmt: skip
    twice = {"proposals": [
        {"action_type": "reschedule_receipt", "target": "WH/IN/00009", "new_date": "2026-12-03", "tier": "low",
         "mode": "approval"},
        {"action_type": "reschedule_receipt", "target": "wh/in/00009", "new_date": "2026-12-08", "tier": "low",
         "mode": "approval"},
    ]}  # fmt: skip
    scores, passed = score_proposals(want, twice)
    assert not passed and scores["pairs_tp"] == 1 and scores["pairs_fp"] == 1 and scores["value_correct"] == 1
    quiet, ok = score_proposals({"proposals": []}, {"proposals": []})
    noisy, bad = score_proposals({"proposals": []}, twice)
    assert ok and not bad and quiet["unwarranted"] == 0 and noisy["unwarranted"] == 1
    metrics = rates([scores, quiet, noisy])
    assert metrics["no_unwarranted_rate"] == 0.5 and metrics["action_recall"] == 1.0
    assert metrics["action_precision"] == pytest.approx(1 / 4)


def test_draft_scores_leaks_and_citations() -> None:
    target = {"status": "ready", "orders": ["S00024"], "intent": "status", "must_mention": ["S00024", "late"],
              "must_not_mention": ["Jackson"]}  # fmt: skip
    output = {"status": "ready", "orders": ["S00024"], "intent": "status", "subject": "Re: your order S00024",
              "body": "S00024 is on time.", "grounded": True, "uncited": []}  # fmt: skip
    scores = score_draft(target, output)
    assert scores["fact_coverage"] == 0.5 and scores["leaked"] == 0 and scores["citations_valid"] == 1
    assert score_draft(target, {**output, "body": "The Jackson Group's order"})["leaked"] == 1
    body = "S00024 ships with WH/OUT/00011; invoice INV/2026/00012; we could not find S09999."
    assert uncited_references(body, ["S00024", "INV/2026/00012"], quoted="Where is S09999?") == ["WH/OUT/00011"]
