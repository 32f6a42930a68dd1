"""One run: bring the stack up, measure 1 then 2 workers, the mixed peak with faults, then prove and report.

Phases (webhooks are split between them):
1. one worker: a share of the webhooks, until all are done (throughput of 1 worker);
2. two workers: the same share again (throughput of 2);
3. a burst of ``slack_concurrency`` Slack events at once (the Slack ack target), until all are answered;
4. the peak: the other webhooks, the other Slack events and every email at once; meanwhile one worker is
   SIGKILLed (and started again 3 s later, as a supervisor would) and one replica is restarted (SIGTERM,
   then started again on its port).
Then every input is compared with the ledgers (``verify``). Without the Celery engine (no
``copilot worker``) phases 1 and 2 are skipped and the replicas process everything themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.load import inputs
from benchmarks.load.cpu import cpu_by_kind, per_item_ms
from benchmarks.load.drive import SendReport, append_emails, send_all
from benchmarks.load.ledgers import Ledgers
from benchmarks.load.options import LoadOptions
from benchmarks.load.report import LoadReport, Throughput, latency
from benchmarks.load.stack import Stack, engine_available
from benchmarks.load.verify import Proof, check_emails, check_slack, check_webhooks, unexpected_dead_letters

__all__ = ["run"]

#: A request to send: its body, and its headers for attempt n (signed afresh).
Request = tuple[bytes, Callable[[int], dict[str, str]]]
KILL_AT = 0.3
RESTART_AT = 0.5
WORKER_DOWN_SECONDS = 3.0
SETTLE_SECONDS = 3.0
#: What Celery logs for a task whose pool process died under it (the task goes back to the queue).
LOST_TASK = "Worker exited prematurely"


@dataclass
class Peak:
    """What phase 3 measured."""

    webhooks: SendReport = field(default_factory=SendReport)
    slack: SendReport = field(default_factory=SendReport)
    burst: SendReport = field(default_factory=SendReport)
    delivered: dict[str, float] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    forged_status: int | None = None
    max_age: float = 0.0
    max_pending: int = 0


class Remaining:
    """Seconds left before the run's deadline."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def __call__(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


def _webhook_requests(items: Sequence[inputs.WebhookInput], secret: str) -> list[Request]:
    return [(item.body, lambda _attempt, item=item: item.headers(secret)) for item in items]


def _slack_requests(items: Sequence[inputs.SlackInput], secret: str) -> list[Request]:
    def headers(item: inputs.SlackInput, attempt: int) -> dict[str, str]:
        retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"} if attempt else {}
        return inputs.slack_headers(secret, item.body) | retry

    return [(item.body, lambda attempt, item=item: headers(item, attempt)) for item in items]


async def _wait(condition: Callable[[], Awaitable[bool]], remaining: Remaining, every: float = 0.25) -> bool:
    """Poll an async-callable condition until it holds or time runs out."""
    while remaining() > 0:
        if await condition():
            return True
        await asyncio.sleep(every)
    return False


def cpu_times() -> tuple[int, int] | None:
    """(busy, total) CPU jiffies of the whole machine since boot (``/proc/stat``), or None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of CPU time that was busy between two ``cpu_times()`` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def _throughput(ledgers: Ledgers, prefix: str, workers: int, resumed: float) -> Throughput:
    """Items per second from the workers' resumption to the last one finished (ledger times, wall clock)."""
    rows = [r for r in ledgers.webhooks().values() if r.event_id.startswith(f"{prefix}-")]
    seconds = max(r.updated_at for r in rows) - resumed if rows else 0.0
    return Throughput(
        workers=workers, items=len(rows), seconds=seconds, per_second=len(rows) / seconds if seconds else 0
    )


async def _compare_phase(
    stack: Stack,
    client: httpx.AsyncClient,
    ledgers: Ledgers,
    prefix: str,
    items: list[inputs.WebhookInput],
    workers: int,
    remaining: Remaining,
) -> tuple[Throughput, SendReport]:
    """The workers' throughput: the share is accepted while they are paused (SIGSTOP), then timed as they drain it.

    Timing the drain alone measures the workers, not the replicas' acceptance competing with them for the
    same 2 cores; acceptance and accepted -> done latencies are reported apart (the peak runs everything at once).
    """
    url = f"/v1/webhooks/{inputs.SOURCE}"
    for worker in stack.workers:
        worker.signal_group(signal.SIGSTOP)
    try:
        sent = await send_all(
            client,
            url,
            _webhook_requests(items, stack.webhook_secret),
            concurrency=stack.options.webhook_concurrency,
            ok=frozenset({200, 202}),
        )
    finally:
        resumed = time.time()
        for worker in stack.workers:
            worker.signal_group(signal.SIGCONT)
    cpu_before = cpu_times()
    kinds_before = cpu_by_kind()

    async def finished() -> bool:
        return await asyncio.to_thread(ledgers.webhooks_finished, prefix) >= len(items)

    await _wait(finished, remaining)
    throughput = await asyncio.to_thread(_throughput, ledgers, prefix, workers, resumed)
    throughput.cpu_busy = cpu_busy(cpu_before, cpu_times())
    throughput.cpu_ms_per_item = per_item_ms(kinds_before, cpu_by_kind(), throughput.items)
    return throughput, sent


async def _faults(stack: Stack, progress: list[int], total: int, peak: Peak, started: float) -> None:
    """Kill a worker at ``KILL_AT`` of the peak's webhooks sent, restart a replica at ``RESTART_AT``."""

    async def reached(share: float) -> None:
        while progress[0] < share * total and progress[1] == 0:
            await asyncio.sleep(0.05)

    await reached(KILL_AT)
    if stack.workers and stack.options.kill == "pool":
        victim = stack.workers[0]
        pool = victim.children()
        for pid in pool:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        at = time.monotonic() - started
        peak.faults.append(f"{victim.name}'s pool process(es) {pool} SIGKILLed at {at:,.1f} s into the peak")
    elif stack.workers:
        victim = stack.workers[0]
        victim.kill()
        peak.faults.append(f"{victim.name} SIGKILLed (whole process group) at {time.monotonic() - started:,.1f} s")
        await asyncio.sleep(WORKER_DOWN_SECONDS)
        await asyncio.to_thread(stack.restart_worker, victim)
        peak.faults.append(f"{victim.name} started again at {time.monotonic() - started:,.1f} s")
    else:
        peak.faults.append("no worker to kill: the engine (copilot worker) is not available")
    await reached(RESTART_AT)
    at = time.monotonic() - started
    away = await asyncio.to_thread(stack.restart_replica, 0)
    peak.faults.append(f"replica1 restarted (SIGTERM, start) at {at:,.1f} s into the peak: away {away:,.1f} s")


async def _peak(
    stack: Stack,
    client: httpx.AsyncClient,
    ledgers: Ledgers,
    hooks: list[inputs.WebhookInput],
    slack: list[inputs.SlackInput],
    mails: list[inputs.EmailInput],
    remaining: Remaining,
    answers_due: int,
) -> Peak:
    peak = Peak()
    started = time.monotonic()
    progress = [0, 0]  # webhooks sent, sending over
    sampling = asyncio.Event()

    def sent_one() -> None:
        progress[0] += 1

    async def webhooks() -> None:
        peak.webhooks = await send_all(
            client,
            f"/v1/webhooks/{inputs.SOURCE}",
            _webhook_requests(hooks, stack.webhook_secret),
            concurrency=stack.options.webhook_concurrency,
            ok=frozenset({200, 202}),
            on_sent=sent_one,
        )
        progress[1] = 1

    async def slack_events() -> None:
        peak.slack = await send_all(
            client,
            "/slack/events",
            _slack_requests(slack, stack.slack_secret),
            concurrency=stack.options.slack_concurrency,
            ok=frozenset({200}),
        )

    async def forged() -> None:
        item = inputs.bad_signature_webhook()
        response = await client.post(
            f"/v1/webhooks/{inputs.SOURCE}", content=item.body, headers=item.headers("not-the-secret-" * 3)
        )
        peak.forged_status = response.status_code

    async def mailbox() -> None:
        assert stack.dovecot is not None and stack.mailbox is not None
        malformed = inputs.EmailInput("malformed", inputs.MALFORMED_EMAIL.read_bytes())
        peak.delivered = await asyncio.to_thread(
            append_emails,
            stack.dovecot.host,
            stack.dovecot.port,
            stack.mailbox.login,
            stack.mailbox.password,
            [*mails, malformed],
        )

    async def sample() -> None:
        while not sampling.is_set():
            backlog = await asyncio.to_thread(ledgers.backlog)
            peak.max_age = max(peak.max_age, backlog.oldest_age)
            peak.max_pending = max(peak.max_pending, backlog.pending)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sampling.wait(), 0.5)

    sampler = asyncio.create_task(sample())
    tasks = [webhooks(), slack_events(), forged(), mailbox()]
    if stack.options.faults:
        tasks.append(_faults(stack, progress, len(hooks), peak, started))
    await asyncio.wait_for(asyncio.gather(*tasks), remaining())

    total_hooks = len(hooks)

    async def all_done() -> bool:
        hooks_done = await asyncio.to_thread(ledgers.webhooks_finished, "mix")
        mails_done = await asyncio.to_thread(ledgers.emails_finished)
        answers = _answers(stack)
        return hooks_done >= total_hooks and mails_done >= len(mails) + 1 and sum(answers.values()) >= answers_due

    await _wait(all_done, remaining, every=0.5)
    await asyncio.sleep(min(SETTLE_SECONDS, remaining()))  # a late duplicate would show by now
    sampling.set()
    await sampler
    return peak


def _answers(stack: Stack) -> Counter[str]:
    """Answers posted in the bench channel's threads, by thread."""
    assert stack.slack_api is not None
    calls = stack.slack_api.calls_to("chat.postMessage")
    return Counter(str(c.args.get("thread_ts")) for c in calls if c.args.get("channel") == inputs.BENCH_CHANNEL)


async def _drive(stack: Stack, ledgers: Ledgers, remaining: Remaining) -> LoadReport:
    options = stack.options
    compare = int(options.webhooks * options.compare_share) if options.workers_compare and stack.engine else 0
    one, two = inputs.webhooks("one", compare), inputs.webhooks("two", compare)
    mix = inputs.webhooks("mix", options.webhooks - 2 * compare)
    slack = inputs.slack_events(options.slack)
    mails = inputs.emails(options.emails, run=f"{int(time.time())}")
    notes: list[str] = []
    acceptance = SendReport()
    limits = httpx.Limits(max_connections=options.webhook_concurrency + options.slack_concurrency + 8)
    async with httpx.AsyncClient(base_url=stack.proxy_url, timeout=30.0, limits=limits) as client:
        one_worker = two_workers = None
        if stack.engine:
            await asyncio.to_thread(stack.start_worker, "worker1")
            if compare:
                one_worker, sent = await _compare_phase(stack, client, ledgers, "one", one, 1, remaining)
                acceptance.merge(sent)
            await asyncio.to_thread(stack.start_worker, "worker2")
            if compare:
                two_workers, sent = await _compare_phase(stack, client, ledgers, "two", two, 2, remaining)
                acceptance.merge(sent)
        else:
            notes.append(
                "the Celery engine is not available (no `copilot worker`): the replicas process everything "
                "themselves (webhooks in background tasks, the mailbox by each replica's poller); no worker to "
                "compare or kill"
            )
        burst_items, peak_slack = slack[: options.slack_concurrency], slack[options.slack_concurrency :]
        burst = await send_all(
            client,
            "/slack/events",
            _slack_requests(burst_items, stack.slack_secret),
            concurrency=options.slack_concurrency,
            ok=frozenset({200}),
        )

        async def answered() -> bool:
            return sum(_answers(stack).values()) >= len(burst_items)

        await _wait(answered, remaining)
        peak = await _peak(stack, client, ledgers, mix, peak_slack, mails, remaining, len(slack))
    peak.burst = burst
    acceptance.merge(peak.webhooks)
    if remaining() <= 0:
        notes.append(f"the run hit its {options.timeout:.0f} s timeout: unfinished inputs count as missing")
    if not options.embeddings:
        notes.append("injection detector on rules only (COPILOT_INJECTION_EMBEDDINGS=false): no model per process")
    return _report(stack, ledgers, [*one, *two, *mix], slack, mails, peak, acceptance, one_worker, two_workers, notes)


def _report(
    stack: Stack,
    ledgers: Ledgers,
    hooks: list[inputs.WebhookInput],
    slack: list[inputs.SlackInput],
    mails: list[inputs.EmailInput],
    peak: Peak,
    acceptance: SendReport,
    one_worker: Throughput | None,
    two_workers: Throughput | None,
    notes: list[str],
) -> LoadReport:
    options = stack.options
    webhook_rows = ledgers.webhooks()
    email_rows = ledgers.emails()
    audit = ledgers.audit()
    letters = ledgers.dead_letters()
    bench_keys = {m.key for m in mails}
    proof = Proof(
        webhooks=check_webhooks(hooks, webhook_rows, audit),
        emails=check_emails(mails, email_rows, ledgers.outbox(), audit),
        slack=check_slack(slack, ledgers.slack_seen(), _answers(stack), audit),
        forged_webhook_status=peak.forged_status,
        forged_webhook_recorded=inputs.bad_signature_webhook().event_id in webhook_rows,
        dead_letters=len(letters),
        unexpected_dead_letters=unexpected_dead_letters(letters, bench_keys),
        failed_attempts=sum(ledgers.audit(failed=True).values()),
    )
    if stack.workers and options.faults and options.kill == "pool":
        log = stack.workers[0].log
        lost = log.read_text(encoding="utf-8", errors="replace").count(LOST_TASK) if log.exists() else 0
        peak.faults.append(f"tasks in flight in the killed pool process (Celery: {LOST_TASK!r}): {lost}")
    done_webhooks = [r.updated_at - r.created_at for r in webhook_rows.values() if r.status == "done"]
    done_emails = [
        email_rows[key].updated_at - at
        for key, at in peak.delivered.items()
        if key in email_rows and email_rows[key].status == "done"
    ]
    workers = (
        f"{len(stack.workers)} workers (concurrency {options.worker_concurrency} each)"
        if stack.engine
        else "no workers"
    )
    setup = [
        "2 `copilot serve` replicas behind a TCP proxy",
        workers,
        "PostgreSQL, Redis, Dovecot, a Slack Web API stand-in",
        f"the Odoo sandbox answering after {options.odoo_latency_ms:g} ms (a real Odoo 18: ~10 ms on loopback)",
        f"{len(hooks):,} webhooks + {len(mails):,} emails + {len(slack):,} Slack events",
        f"{_cores()} cores shared by all",
    ]
    return LoadReport(
        setup=setup,
        notes=notes,
        one_worker=one_worker,
        two_workers=two_workers,
        slack_acks=latency(peak.burst.latencies),
        slack_peak_acks=latency(peak.slack.latencies),
        slack_concurrency=options.slack_concurrency,
        webhook_acceptance=latency(acceptance.latencies),
        webhook_retries=acceptance.retries,
        slack_retries=peak.burst.retries + peak.slack.retries,
        webhook_done=latency(done_webhooks),
        email_done=latency(done_emails),
        backlog_max_age_s=peak.max_age,
        backlog_max_pending=peak.max_pending,
        faults=peak.faults,
        send_failures=acceptance.failures + peak.burst.failures + peak.slack.failures,
        proof=proof,
        wall_seconds=0.0,
    )


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run(options: LoadOptions) -> LoadReport:
    """Run the whole scenario within ``options.timeout`` and return the report; everything is stopped after."""
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    remaining = Remaining(options.timeout)
    stack = Stack(options)
    ledgers: Ledgers | None = None
    try:
        stack.start(engine=engine_available())
        ledgers = Ledgers(stack.database_url, inputs.SOURCE)
        report = asyncio.run(asyncio.wait_for(_drive(stack, ledgers, remaining), remaining() + 120))
        report.wall_seconds = time.monotonic() - started
        report.notes.append(
            f"machine load average (1 min) before the run: {load_before:.1f}; at the end: {os.getloadavg()[0]:.1f}"
        )
        return report
    except BaseException:
        for name, tail in stack.logs().items():
            if tail.strip():
                print(f"--- {name} (last lines)\n{tail}")
        raise
    finally:
        if ledgers is not None:
            ledgers.close()
        stack.close()
