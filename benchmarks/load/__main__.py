"""``python -m benchmarks.load``: the load and fault test (see ``benchmarks.load``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.load.options import LoadOptions
from benchmarks.load.report import render
from benchmarks.load.run import run


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the report; exit 1 unless every input was processed exactly once."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--webhooks", type=int, help="Signed webhooks (default 2000; --quick: 100).")
    parser.add_argument("--emails", type=int, help="Emails in the mailbox (default 500; --quick: 25).")
    parser.add_argument("--slack", type=int, help="Slack events (default 200; --quick: 20).")
    parser.add_argument(
        "--workers-compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Measure 1 worker, then 2 (default on).",
    )
    parser.add_argument("--quick", action="store_true", help="A small run (100 webhooks, 25 emails, 20 Slack events).")
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument("--no-embeddings", action="store_true", help="Injection detector on rules only (no model).")
    parser.add_argument("--no-faults", action="store_true", help="Do not kill a worker nor restart a replica.")
    parser.add_argument("--worker-concurrency", type=int, help="Task slots per worker (default 1).")
    parser.add_argument("--keep-logs", type=Path, help="Copy every process's log to this folder.")
    parser.add_argument("--timeout", type=float, help="Seconds the run may take at most.")
    parser.add_argument(
        "--odoo-latency-ms",
        type=float,
        help="Milliseconds the Odoo sandbox waits before each answer, as an Odoo on its own host (default 10, what "
        "a real Odoo 18 takes for these reads on loopback; 0: the sandbox's ~1 ms, on the same cores as the rest).",
    )
    args = parser.parse_args(argv)
    overrides = {
        key: value
        for key, value in {
            "webhooks": args.webhooks,
            "emails": args.emails,
            "slack": args.slack,
            "timeout": args.timeout,
            "worker_concurrency": args.worker_concurrency,
            "keep_logs": args.keep_logs,
            "odoo_latency_ms": args.odoo_latency_ms,
        }.items()
        if value is not None
    }
    overrides |= {
        "workers_compare": args.workers_compare,
        "embeddings": not args.no_embeddings,
        "faults": not args.no_faults,
    }
    options = LoadOptions.quick(**overrides) if args.quick else LoadOptions.model_validate(overrides)
    report = run(options)
    print(json.dumps(report.as_json(), indent=2) if args.json else render(report))
    return 0 if report.proof.ok else 1


if __name__ == "__main__":
    sys.exit(main())
