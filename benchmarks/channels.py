"""Speed of the channel plumbing on the CPU: email routing to the outbox, PII redaction, audit appends.

Run: ``python -m benchmarks.channels [--emails 200] [--lines 2000] [--records 1000] [--new-mail]``. Offline: the
emails are the recorded supplier emails of ``tests/fixtures/emails`` (Message-IDs varied), routed through the real
``EmailRouter`` and ``Copilot`` facade of a composition root (audit trail and outbox in SQLite) on the embedded
sandbox with the deterministic engine and the root's injection detector (its embedding layer on unless
``COPILOT_INJECTION_EMBEDDINGS=false``) into the local outbox (no IMAP, no Slack: ``tests/integration`` covers
those against real servers). Model loads are excluded. The fixtures repeat, so the detector's sentence cache answers
for their second reading on; ``--new-mail`` empties it before each email, as if every email were new.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from channels.email import EmailRouter, Outbox, OutboxNotifier
from copilot.audit import AuditEntry, AuditTrail
from copilot.composition import open_root
from copilot.config import load_settings
from copilot.email import parse_email
from copilot.guardrails.pii import redact
from copilot.service import Copilot

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "emails"
LOG_LINE = (
    "processing reply to P00009 from jane.doe@gemini-furniture.example (+1 415 555 0134), "
    "IBAN DE89 3704 0044 0532 0130 00, 12 units of FURN_8888 on 2026-11-23, total 12,500.00 USD"
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_email(count: int, data_dir: Path, *, new_mail: bool = False) -> None:
    """Route ``count`` supplier emails through the facade to the outbox; print emails/s and latency."""
    raws = [p.read_bytes() for p in sorted(FIXTURES.glob("[0-9]*.eml"))]
    settings = load_settings(
        data_dir=data_dir, database_url=None, rate_limit_per_minute=10_000, imap_user="copilot@example.com"
    )
    with open_root(settings) as root:
        copilot = Copilot(settings, root.odoo, audit=root.audit, db=root.db, components=root)
        outbox = Outbox(root.db)
        router = EmailRouter(settings, copilot, OutboxNotifier(outbox), outbox)
        injection = root.injection
        if injection.use_embeddings:  # the model load is excluded: warm it on a text the embeddings read
            injection.detect("Please note that the assistant should always follow these steps.", source="email")
        timings: list[float] = []
        started = time.perf_counter()
        for i in range(count):
            raw = raws[i % len(raws)].replace(b"Message-ID: <", f"Message-ID: <bench{i}.".encode(), 1)
            if new_mail:
                injection.clear_cache()
            t0 = time.perf_counter()
            router.route(f"bench-{i}", parse_email(raw))
            timings.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - started
    detector = "on" if injection.use_embeddings else "off (COPILOT_INJECTION_EMBEDDINGS=false)"
    detector += ", every email new mail" if new_mail else ""
    print(
        f"email routing (supplier mail → summary → outbox, injection embeddings {detector}): {count} emails in "
        f"{total:.2f} s = {count / total:.1f}/s; p50 {statistics.median(timings):.1f} ms, "
        f"p95 {_percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms"
    )


def bench_redaction(lines: int) -> None:
    """Redact ``lines`` log lines carrying an email, a phone number and an IBAN."""
    started = time.perf_counter()
    for _ in range(lines):
        redact(LOG_LINE)
    total = time.perf_counter() - started
    print(f"PII redaction: {lines} log lines in {total:.2f} s = {total / lines * 1e6:.0f} µs per line")
    big = LOG_LINE * 100
    t0 = time.perf_counter()
    redact(big)
    print(f"PII redaction of one {len(big) // 1000} KB text: {(time.perf_counter() - t0) * 1000:.1f} ms")


def bench_audit(records: int, data_dir: Path) -> None:
    """Append ``records`` audit records to the SQLite chain, then verify it."""
    trail = AuditTrail.from_settings(load_settings(data_dir=data_dir, database_url=None))
    entry = AuditEntry(actor="slack:UBUYER", channel="slack", skill="ask", input_hash="0" * 64, model="deterministic")
    started = time.perf_counter()
    for _ in range(records):
        trail.append(entry)
    appended = time.perf_counter() - started
    t0 = time.perf_counter()
    report = trail.verify()
    verified = time.perf_counter() - t0
    trail.close()
    print(
        f"audit trail: {records} appends in {appended:.2f} s = {records / appended:.0f}/s; "
        f"verify {report.records} records in {verified * 1000:.0f} ms (ok={report.ok})"
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=200)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument(
        "--new-mail", action="store_true", help="Empty the detector's sentence cache before each email."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_email(args.emails, Path(tmp) / "email", new_mail=args.new_mail)
        bench_redaction(args.lines)
        bench_audit(args.records, Path(tmp) / "audit")


if __name__ == "__main__":
    main()
