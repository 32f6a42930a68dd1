"""The load test's verdict (``benchmarks.load``): what counts as exactly once, what is reported as a defect."""

from __future__ import annotations

from collections import Counter

from benchmarks.load.inputs import question_hash, webhooks
from benchmarks.load.ledgers import DeadLetterInfo, WebhookState
from benchmarks.load.report import LoadReport, latency, percentile, render
from benchmarks.load.verify import KindCheck, Proof, check_webhooks, unexpected_dead_letters


def _done(event_id: str) -> WebhookState:
    return WebhookState(event_id, "done", 100.0, 101.0)


def test_a_webhook_run_twice_or_never_is_not_counted_once() -> None:
    first, twice, never, stuck = webhooks("t", 4)
    ledger = {w.event_id: _done(w.event_id) for w in (first, twice, never)}
    ledger[stuck.event_id] = WebhookState(stuck.event_id, "accepted", 100.0, 100.0)
    audit = Counter({("webhook", question_hash(first.text)): 1, ("webhook", question_hash(twice.text)): 2})
    audit[("webhook", question_hash(stuck.text))] = 1
    check = check_webhooks([first, twice, never, stuck], ledger, audit)
    assert check.once == 1 and not check.ok
    assert [r.split(":")[0] for r in check.repeated] == [twice.event_id]
    assert sorted(m.split(":")[0] for m in check.missing) == sorted([never.event_id, stuck.event_id])


def test_only_one_malformed_email_may_be_parked() -> None:
    letters = [
        DeadLetterInfo("email", "sha256:abc", "UnreadableEmail", "binary"),
        DeadLetterInfo("email", "mid:<bench-1@example.com>", "UnreadableEmail", "binary"),
        DeadLetterInfo("webhook", "bench:t-00001", "OdooUnavailable", "down"),
    ]
    unexpected = unexpected_dead_letters(letters, bench_keys={"mid:<bench-1@example.com>"})
    assert len(unexpected) == 2 and unexpected[0].startswith("email mid:<bench-1") and "webhook" in unexpected[1]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([], 99) == 0.0 and percentile([0.2], 99) == 0.2


def test_the_report_says_exactly_once_with_thousands_separators_and_names_missed_targets() -> None:
    proof = Proof(
        webhooks=KindCheck(kind="webhooks", expected=2000, once=2000),
        emails=KindCheck(kind="emails", expected=500, once=500),
        slack=KindCheck(kind="slack", expected=200, once=200),
        forged_webhook_status=401,
        forged_webhook_recorded=False,
        dead_letters=1,
        unexpected_dead_letters=[],
    )
    slow = latency([0.1] * 98 + [0.4, 0.5])
    report = LoadReport(
        setup=["test"],
        slack_acks=slow,
        slack_peak_acks=latency([]),
        slack_concurrency=50,
        webhook_acceptance=latency([0.05]),
        webhook_retries=0,
        slack_retries=0,
        webhook_done=latency([1.0]),
        email_done=latency([2.0]),
        backlog_max_age_s=3.0,
        backlog_max_pending=10,
        faults=[],
        send_failures=[],
        proof=proof,
        wall_seconds=60.0,
    )
    shown = render(report)
    assert proof.ok and "exactly once: 2,700/2,700" in shown
    assert report.targets() == {
        "slack_ack_p99_under_300ms": False,
        "two_workers_at_least_1.7x": None,
        "exactly_once": True,
    }
    assert "p99 400 ms" in shown and "MISSED" in shown
