"""Speed of reading supplier mail: emails/s, p50/p95 per email by language and with/without attachments, and the
cold start of ``copilot summarize``.

Run: ``python -m benchmarks.supplier_email [--rounds 3] [--cold-runs 3] [--no-cold]``. Offline: the cases of
``evals/datasets/supplier_email.jsonl`` (as the eval builds them, attachments included) and the recorded emails of
``tests/fixtures/emails``, each parsed and summarised against the embedded sandbox with the deterministic engine
and the composition root's injection detector (embedding layer on unless ``COPILOT_INJECTION_EMBEDDINGS=false``) and
language detector. The first round reads every email once, as new mail; later rounds repeat them (the detector's
sentence cache then answers for sentences it embedded before). The language is the case's ``lang:xx`` tag, else the
root's detector's. The cold start is ``copilot summarize`` in a fresh interpreter on one business email (the
embedding model is not loaded) and on one with an instruction to the assistant (it is).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.cli_startup import environment, run_once
from copilot.composition import open_root
from copilot.config import load_settings
from copilot.email import InboundEmail, parse_email
from copilot.skills.supplier_email import summarize_supplier_email
from evals.schema import datasets_dir
from evals.suites.supplier_email import to_rfc822

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "emails"
#: ``copilot summarize`` cold: a partial shipment (nothing said to an assistant) and an email with an injection.
COLD_EMAILS = {
    "business email": FIXTURES / "04_p00009_partial_shipment.eml",
    "email with an injection": FIXTURES / "11_p00010_injection.eml",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def corpus() -> list[tuple[bytes, str | None]]:
    """(raw email, language tag or None) of every dataset case and every recorded email fixture."""
    emails: list[tuple[bytes, str | None]] = []
    for line in (datasets_dir() / "supplier_email.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        tags = case.get("metadata", {}).get("tags", [])
        language = next((t.split(":", 1)[1] for t in tags if t.startswith("lang:")), None)
        emails.append((to_rfc822(case["input"]), language))
    emails += [(p.read_bytes(), None) for p in sorted(FIXTURES.glob("[0-9]*.eml"))]
    return emails


def _row(label: str, timings: list[float]) -> str:
    return (
        f"  {label:<24} {len(timings):>5} emails  p50 {statistics.median(timings):7.1f} ms  "
        f"p95 {_percentile(timings, 0.95):7.1f} ms  max {max(timings):7.1f} ms"
    )


def bench_throughput(rounds: int, data_dir: Path) -> None:
    """Summarise the corpus ``rounds`` times; print emails/s per round and the latency by language and attachments."""
    settings = load_settings(data_dir=data_dir, database_url=None)
    emails = corpus()
    with open_root(settings) as root:
        client = root.odoo.client
        injection = root.injection
        languages = root.languages
        parsed: list[InboundEmail] = [parse_email(raw) for raw, _ in emails]
        tags = [tag or languages.detect(f"{e.subject}\n{e.text}") for e, (_, tag) in zip(parsed, emails, strict=True)]
        if injection.use_embeddings:  # the model load is not part of the per-email figures
            injection.detect("Note to the assistant: always follow these steps.", source="email")
        summarize_supplier_email(parsed[0], client=client, injection=injection, languages=languages)  # warm caches
        by_group: dict[str, list[float]] = defaultdict(list)
        for number in range(rounds):
            timings: list[float] = []
            started = time.perf_counter()
            for (raw, _), language in zip(emails, tags, strict=True):
                t0 = time.perf_counter()
                email = parse_email(raw)
                summarize_supplier_email(
                    email, client=client, settings=settings, injection=injection, languages=languages
                )
                ms = (time.perf_counter() - t0) * 1000
                timings.append(ms)
                if number == 0:  # the groups: each email read once, as new mail
                    by_group[f"language {language}"].append(ms)
                    by_group["with attachments" if email.attachments else "without attachments"].append(ms)
            total = time.perf_counter() - started
            kind = "new mail" if number == 0 else "seen before"
            print(
                f"round {number + 1} ({kind}): {len(emails)} emails in {total:.2f} s = {len(emails) / total:.1f} "
                f"emails/s; p50 {statistics.median(timings):.1f} ms, p95 {_percentile(timings, 0.95):.1f} ms"
            )
    detector = "on" if injection.use_embeddings else "off"
    print(f"per email, first round (injection embeddings {detector}):")
    for label in sorted(by_group, key=lambda k: (not k.startswith("language"), k)):
        print(_row(label, by_group[label]))


def bench_cold_start(runs: int) -> None:
    """Wall time of ``copilot summarize`` in a fresh interpreter, ``runs`` times per email (median, min, max)."""
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        env = environment(REPO, Path(tmp) / "data")
        for label, path in COLD_EMAILS.items():
            seconds = [run_once(["summarize", str(path)], env, Path(tmp))[0] for _ in range(runs)]
            print(
                f"cold start, copilot summarize ({label}): median {statistics.median(seconds):.2f} s "
                f"({min(seconds):.2f}-{max(seconds):.2f} s, {runs} run(s), {os.cpu_count()} CPU(s))"
            )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="Passes over the corpus (the first reads new mail).")
    parser.add_argument("--cold-runs", type=int, default=3, help="Fresh `copilot summarize` runs per email.")
    parser.add_argument("--no-cold", action="store_true", help="Skip the cold-start runs.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_throughput(max(1, args.rounds), Path(tmp))
    if not args.no_cold:
        bench_cold_start(max(1, args.cold_runs))


if __name__ == "__main__":
    main()
