"""The at-risk eval: ranking metrics, the scenario mutations, the truth simulation, the dataset, the suite end to end.

The suite grades the registered ``orders_at_risk`` skill; these tests give it throwaway stand-ins instead (a
"list every waiting order" one and a naive dates-only one), so the harness is tested without the real skill.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.skills.at_risk.schemas import AtRiskInput, AtRiskItem, AtRiskQueue
from copilot.skills.base import SkillContext
from evals.compare import compare_runs
from evals.fixtures.at_risk_build import build_cases, render
from evals.fixtures.at_risk_scenario import AS_OF, Scenario, parse_day, scenario_sandbox
from evals.fixtures.at_risk_truth import simulate
from evals.runner import load_suite_run, run_suite, write_suite_run
from evals.schema import datasets_dir, load_dataset
from evals.scorers.ranking import rank_metrics, score_ranking
from evals.suites import SUITES
from evals.suites.at_risk import AtRiskSuite
from evals.suites.base import SuiteContext
from odoo_sandbox import SandboxServer
from tests.conftest import make_client

# ------------------------------------------------------------------------------------------------ metrics


def test_precision_counts_only_the_top_ten_and_recall_the_whole_queue() -> None:
    queue = [f"SAFE{i}" for i in range(10)] + ["LATE1", "LATE2"]
    scores = score_ranking(queue, ["LATE1", "LATE2"], [f"SAFE{i}" for i in range(10)])
    assert scores["precision_at_k"] == 0.0  # both late orders are ranked 11th and 12th
    assert scores["recall"] == 1.0 and scores["rr"] == pytest.approx(1 / 11)
    assert (scores["safe_listed"], scores["safe"]) == (10.0, 10.0)


def test_precision_of_a_short_queue_is_over_what_it_lists() -> None:
    scores = score_ranking(["S1", "X", "S2", "S1"], ["S1", "S2", "S3"], ["X"])
    assert scores["top_size"] == 3.0  # the repeated S1 counts once
    assert scores["precision_at_k"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3) and scores["rr"] == 1.0


def test_an_empty_queue_is_right_without_late_orders_and_wrong_with_them() -> None:
    quiet = score_ranking([], [], ["S1"])
    assert "precision_at_k" not in quiet and "recall" not in quiet
    missed = score_ranking([], ["S1"], [])
    assert "precision_at_k" not in missed and (missed["recall"], missed["rr"]) == (0.0, 0.0)


def test_only_flagged_orders_are_predictions_and_the_whole_queue_is_the_ranking() -> None:
    # The queue ranks S2 (late) second but with a risk under the flag: ranked well, not predicted late.
    scores = score_ranking(["S1"], ["S2"], ["S1", "S3"], ranked=["S1", "S2", "S3"])
    assert (scores["precision_at_k"], scores["recall"], scores["rr"]) == (0.0, 0.0, 0.5)
    assert scores["safe_listed"] == 1.0  # S3, queued but not flagged, is no false alarm


def test_suite_metrics_pool_precision_and_recall() -> None:
    cases = [
        score_ranking(["A", "x"], ["A"], ["x"]),  # precision 1/2, rr 1
        score_ranking(["y", "B", "C"], ["B", "C", "D"], ["y"]),  # precision 2/3, rr 1/2, 2 of 3 found
        score_ranking([], [], ["z"]),  # nothing to find, nothing listed: no precision, no rr
    ]
    metrics = rank_metrics(cases)
    assert metrics["precision_at_10"] == pytest.approx(3 / 5)  # 3 late among the 5 flagged tops
    assert metrics["mean_precision_at_10"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert metrics["recall"] == pytest.approx(3 / 4)
    assert metrics["mrr"] == pytest.approx((1 + 1 / 2) / 2)
    assert metrics["safe_rejection_rate"] == pytest.approx(1 - 2 / 3)


# ------------------------------------------------------------------------------------------------ scenarios


def test_days_count_from_the_recording_day() -> None:
    assert parse_day("T") == AS_OF == date(2026, 11, 26)
    assert parse_day("T+9") == date(2026, 12, 5) and parse_day("T-3") == date(2026, 11, 23)
    assert parse_day("2026-12-24") == date(2026, 12, 24)


def test_mutations_are_what_the_copilot_reads_and_stay_in_their_sandbox() -> None:
    scenario = Scenario.model_validate(
        {
            "description": "P00009 moved, S00024 promised, a vendor e-mail, fewer drawers",
            "mutations": [
                {"op": "receipt_date", "po": "P00009", "date": "T+20"},
                {"op": "commitment", "so": "S00024", "date": "T+5"},
                {"op": "on_hand", "product": "FURN_8855", "qty": 30},
                {"op": "supplier_message", "po": "P00001", "date": "T", "subject": "Re: P00001",
                 "body": "It now arrives on {arrival}.", "arrival": "T+28"},
            ],
        }
    )  # fmt: skip
    with scenario_sandbox(scenario) as server:
        odoo = make_client(server)
        [receipt] = odoo.search_read("stock.picking", [("origin", "=", "P00009")], ["scheduled_date"])
        assert str(receipt["scheduled_date"]).startswith("2026-12-16")
        [order] = odoo.search_read("sale.order", [("name", "=", "S00024")], ["commitment_date"])
        assert str(order["commitment_date"]).startswith("2026-12-01")
        [drawer] = odoo.search_read("product.product", [("default_code", "=", "FURN_8855")], ["qty_available"])
        assert drawer["qty_available"] == 30.0
        bodies = [
            m["body"]
            for m in odoo.search_read(
                "mail.message", [("model", "=", "purchase.order"), ("subject", "=", "Re: P00001")], ["body"]
            )
        ]
        assert bodies == ["<p>It now arrives on December 24, 2026.</p>"]
    untouched = make_client(SandboxServer())
    [receipt] = untouched.search_read("stock.picking", [("origin", "=", "P00009")], ["scheduled_date"])
    assert str(receipt["scheduled_date"]).startswith("2026-11-23")


# ------------------------------------------------------------------------------------------------ truth


def _truth(raw: dict[str, Any]) -> Any:
    scenario = Scenario.model_validate({"description": "hand case", **raw})
    with scenario_sandbox(scenario) as server:
        return simulate(server, scenario)


def _covered(truth: Any, order: str, product_code: str) -> date | None:
    [line] = [line for line in truth.lines if line.order == order and product_code in line.product]
    return line.covered


def test_truth_of_the_recording_follows_the_chatter_and_what_is_reserved() -> None:
    truth = _truth({})
    assert _covered(truth, "S00024", "E-COM06") == parse_day("T+1")  # P00009 is overdue; the chatter: shipped
    assert _covered(truth, "S00030", "FURN_0269") == parse_day("T+2")  # P00010's carrier ETA
    assert _covered(truth, "S00004", "FURN_6741") is None  # no PO brings meeting tables
    assert _covered(truth, "S00022", "FURN_6667") == AS_OF  # reserved, ready to ship
    assert {"S00024", "S00029", "S00030", "S00004"} <= set(truth.late)
    assert {"S00022", "S00023", "S00031", "S00015"} <= set(truth.on_time)
    # 150 Large Desks: the 144 that shipped come T+1, the other 6 with the backorder (ships T+9, about T+12).
    more = _truth({"mutations": [{"op": "order_qty", "so": "S00029", "product": "E-COM09", "qty": 150}]})
    assert _covered(more, "S00029", "E-COM09") == parse_day("T+12")


def test_truth_serves_waiting_orders_first_in_first_out() -> None:
    # P00010 brings 10 chairs on T+2, P00007 5 on T+4 (both from the chatter): the oldest deliveries come first.
    truth = _truth(
        {
            "mutations": [
                {"op": "receipt_qty", "po": "P00010", "product": "FURN_0269", "qty": 10},
                {"op": "commitment", "so": "S00030", "date": "T+30"},
            ]
        }
    )
    assert _covered(truth, "S00009", "FURN_0269") == parse_day("T+2")  # scheduled 11-22: first in line
    assert _covered(truth, "S00013", "FURN_0269") == parse_day("T+2")  # the 10th chair
    assert _covered(truth, "S00030", "FURN_0269") is None  # 6 wanted, 5 left on P00007
    assert _covered(truth, "S00016", "FURN_0269") is None
    assert "S00030" in truth.late  # never covered is late, whatever the commitment


def test_truth_applies_a_vendors_usual_slip_and_the_commitment_day_counts_as_on_time() -> None:
    base = [
        {"op": "receipt_date", "po": "P00009", "date": "T+6"},
        {"op": "commitment", "so": "S00024", "date": "T+12"},
        {"op": "commitment", "so": "S00029", "date": "T+11"},
    ]
    punctual = _truth({"mutations": base})
    assert _covered(punctual, "S00024", "E-COM06") == parse_day("T+6")  # rescheduled: the recorded news no longer holds
    assert not {"S00024", "S00029"} & set(punctual.late)
    slipping = _truth({"mutations": base, "world": {"vendor_delay": {"Gemini Furniture": 6}}})
    assert _covered(slipping, "S00024", "E-COM06") == parse_day("T+12")
    assert "S00024" in slipping.on_time and "S00029" in slipping.late


# ------------------------------------------------------------------------------------------------ dataset


def test_the_dataset_is_the_simulation_of_its_yaml_source() -> None:
    built = render(build_cases())
    assert (datasets_dir() / "at_risk.jsonl").read_text(encoding="utf-8") == built, (
        "evals/datasets/at_risk.jsonl is stale: run python -m evals.fixtures.at_risk_build"
    )
    cases = load_dataset(datasets_dir() / "at_risk.jsonl", skill="orders_at_risk")
    assert len(cases) >= 31
    assert sum(bool(c.target["late"]) for c in cases) >= 20
    assert sum(not c.target["late"] for c in cases) >= 8  # negatives: look-alikes only
    for case in cases:
        assert set(case.target["lookalikes"]) <= set(case.target["on_time"])
        assert not set(case.target["late"]) & set(case.target["on_time"])


def test_no_case_depends_on_when_an_overdue_receipt_without_news_arrives() -> None:
    for case in load_dataset(datasets_dir() / "at_risk.jsonl", skill="orders_at_risk"):
        labels = []
        for days in (1, 14):
            raw = {**case.input, "world": {**case.input.get("world", {}), "overdue_days": days}}
            scenario = Scenario.model_validate(raw)
            with scenario_sandbox(scenario) as server:
                late = simulate(server, scenario).late
            scope = scenario.sale_orders
            labels.append([o for o in late if scope is None or o in scope])
        assert labels == [case.target["late"]] * 2, case.id


def test_a_case_whose_expectation_the_simulation_contradicts_does_not_build(tmp_path: Path) -> None:
    source = tmp_path / "cases.yaml"
    source.write_text(
        "bases: {recorded: []}\ncases:\n"
        "  - {id: wrong, description: d, base: recorded, expect: {late: [S00022]}}\n",  # S00022 is ready to ship
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"wrong: the simulation disagrees with expect on \['S00022'\]"):
        build_cases(source)


# ------------------------------------------------------------------------------------------------ the suite


def _waiting(ctx: SkillContext, request: AtRiskInput) -> list[dict[str, Any]]:
    """Pending delivery moves of open orders, with their order (what both stand-ins start from)."""
    odoo = ctx.odoo()
    domain: list[Any] = [("state", "=", "sale")]
    if request.sale_orders is not None:
        domain.append(("name", "in", request.sale_orders))
    orders = {o["id"]: o for o in odoo.search_read("sale.order", domain, ["name", "commitment_date", "partner_id"])}
    lines = odoo.search_read("sale.order.line", [("order_id", "in", list(orders))], ["order_id"])
    order_of = {line["id"]: orders[line["order_id"][0]] for line in lines}
    moves = odoo.search_read(
        "stock.move",
        [("sale_line_id", "in", list(order_of)), ("state", "in", ["confirmed", "waiting", "partially_available"])],
        ["sale_line_id", "product_id", "product_qty", "date_deadline"],
    )
    return [{"order": order_of[m["sale_line_id"][0]], "move": m} for m in moves]


class _Standin:
    """A throwaway skill: every order waiting for stock (``naive=False``), or those not covered by the free stock
    whose next receipt of the product is scheduled after the commitment (``naive=True``; Odoo's dates only, an
    overdue receipt a week away, no chatter, no FIFO)."""

    name = "orders_at_risk"

    def __init__(self, *, naive: bool, risk: float = 1.0) -> None:
        self.naive = naive
        self.risk = risk

    def untrusted(self, input: AtRiskInput) -> list[Any]:
        """Nothing an outsider wrote."""
        return []

    def run(self, ctx: SkillContext, input: AtRiskInput) -> AtRiskQueue:
        """The stand-in queue."""
        today = ctx.now.date()
        flagged: dict[str, tuple[float, dict[str, Any], date | None]] = {}
        for row in _waiting(ctx, input):
            order, move = row["order"], row["move"]
            commitment = datetime.fromisoformat(order["commitment_date"] or move["date_deadline"]).date()
            risk = self.risk
            if self.naive:
                [product] = ctx.odoo().read("product.product", [move["product_id"][0]], ["free_qty"])
                if product["free_qty"] >= move["product_qty"]:
                    continue
                receipts = ctx.odoo().search_read(
                    "stock.move",
                    [("product_id", "=", move["product_id"][0]), ("picking_type_id.code", "=", "incoming"),
                     ("state", "not in", ["done", "cancel", "draft"])],
                    ["date"],
                )  # fmt: skip
                days = [max(datetime.fromisoformat(r["date"]).date(), today + timedelta(days=7)) for r in receipts]
                risk = self.risk if not days or min(days) > commitment else 0.0
            if risk and risk >= flagged.get(order["name"], (0.0, {}, None))[0]:
                flagged[order["name"]] = (risk, order, commitment)
        items = [
            AtRiskItem(
                order=name, order_id=order["id"], customer=order["partner_id"][1], commitment=commitment,
                expected_cover=None, risk=risk, priority_weight=1.0, score=risk, severity="high",
                reason=f"{name} waits for stock", factors=[], evidence=[],
            )
            for name, (risk, order, commitment) in sorted(flagged.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ]  # fmt: skip
        return AtRiskQueue(as_of=today, items=items, lines_scored=len(items))


def _context(tmp_path: Path, skill: Any) -> SuiteContext:
    context = SuiteContext(settings=load_settings(data_dir=tmp_path), client=None, llm=None)
    context.state["skill"] = skill
    return context


def test_the_suite_is_part_of_all_and_names_its_metrics() -> None:
    suite = SUITES["at_risk"]()
    assert suite.dataset == "at_risk.jsonl" and suite.skill == "orders_at_risk"
    assert suite.metrics == ("precision_at_10", "recall", "mrr", "safe_rejection_rate")


def test_the_suite_end_to_end_with_stand_in_skills(tmp_path: Path) -> None:
    cases = load_dataset(datasets_dir() / "at_risk.jsonl", skill="orders_at_risk")
    picked = [c for c in cases if c.id in {"ar-base-recorded", "ar-calm", "ar-p10-slips", "ar-msg-p10-later",
                                           "ar-scope-p10", "ar-s29-same-day"}]  # fmt: skip
    everything = run_suite(AtRiskSuite(), _context(tmp_path, _Standin(naive=False)), cases=picked, concurrency=1)
    assert everything.metrics["errors"] == 0.0
    assert everything.metrics["recall"] == 1.0  # it lists every waiting order, so it finds every late one
    assert everything.metrics["safe_rejection_rate"] < 0.5  # ...and most on-time ones with them
    by_id = {c.id: c for c in everything.cases}
    assert by_id["ar-base-recorded"].scores["precision_at_k"] == 1.0  # 14 late: any 10 of the waiting are late
    assert by_id["ar-scope-p10"].output["ranked"] == ["S00010", "S00012", "S00030"]  # only the orders asked about
    assert not by_id["ar-calm"].passed and by_id["ar-calm"].scores["safe_listed"] > 0

    naive = run_suite(AtRiskSuite(), _context(tmp_path, _Standin(naive=True)), cases=picked, concurrency=2)
    n = {c.id: c for c in naive.cases}
    # Odoo's dates alone say P00010 is overdue (T+7 assumed), not the T+18 its vendor wrote: S00030 is missed.
    assert "S00030" not in n["ar-msg-p10-later"].output["ranked"] and not n["ar-msg-p10-later"].passed
    # Without FIFO, P00007's 5 chairs (T+7) seem to cover every chair order: S00010 and S00030 are missed too.
    assert n["ar-p10-slips"].output["ranked"] == [] and n["ar-p10-slips"].scores["recall"] == 0.0
    assert n["ar-calm"].passed and n["ar-s29-same-day"].passed  # no false alarm where nothing is late
    assert naive.metrics["safe_rejection_rate"] > everything.metrics["safe_rejection_rate"]
    assert naive.metrics["recall"] < everything.metrics["recall"]

    unsure = run_suite(AtRiskSuite(), _context(tmp_path, _Standin(naive=False, risk=0.3)), cases=picked)
    assert unsure.metrics["recall"] == 0.0 and unsure.metrics["safe_rejection_rate"] == 1.0  # nothing flagged
    assert unsure.metrics["mrr"] == everything.metrics["mrr"]  # the same ranking, read whole

    write_suite_run(naive, tmp_path / "run")
    stored = load_suite_run(tmp_path / "run" / "at_risk")
    assert [c.id for c in stored.cases] == [c.id for c in picked]
    assert not compare_runs(stored, naive).regressed
    assert compare_runs(everything, naive).regressed  # listing everything is a drop in precision and rejection


def test_copilot_eval_run_and_compare_grade_the_registered_skill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``copilot eval run --suite at_risk`` grades whatever ``SKILLS["orders_at_risk"]`` is; compare sees a drop."""
    import shutil
    from types import MappingProxyType

    from typer.testing import CliRunner

    import copilot.skills.registry as registry
    from copilot.cli import app

    runner = CliRunner()

    def register(skill: _Standin) -> None:
        monkeypatch.setattr(registry, "SKILLS", MappingProxyType({**registry.SKILLS, "orders_at_risk": skill}))

    register(_Standin(naive=True))
    good = runner.invoke(app, ["eval", "run", "--suite", "at_risk", "--out", str(tmp_path / "good"), "--json"])
    assert good.exit_code == 0, good.output
    assert '"precision_at_10"' in good.output and (tmp_path / "good" / "at_risk" / "cases.jsonl").exists()
    shutil.copytree(tmp_path / "good" / "at_risk", tmp_path / "baseline" / "at_risk")
    ok = runner.invoke(app, ["eval", "compare", str(tmp_path / "good"), str(tmp_path / "baseline")])
    assert ok.exit_code == 0 and "no regression" in ok.output

    register(_Standin(naive=False))  # lists every waiting order: the look-alikes flood the top 10
    bad = runner.invoke(app, ["eval", "run", "--suite", "at_risk", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 0, bad.output
    failed = runner.invoke(app, ["eval", "compare", str(tmp_path / "bad"), str(tmp_path / "baseline")])
    assert failed.exit_code == 1 and "regression in at_risk" in failed.output
