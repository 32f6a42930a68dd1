"""Latency and round trips of each read-only tool, and supplier-email summaries per second, on the sandbox.

Run: ``python -m benchmarks.odoo_tools [--repeat N]``. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from copilot.config import load_settings
from copilot.odoo.session import odoo_session
from copilot.tools import (
    find_partners,
    get_purchase_orders,
    late_purchase_orders,
    product_availability,
    recent_emails,
    sale_order_status,
)
from copilot.tools.chatter import email_from_chatter


def _measure(name: str, repeat: int, call: Callable[[], Any], client: Any) -> None:
    call()  # warm-up: the first call also logs in
    timings = []
    trips = 0
    for _ in range(repeat):
        before = client.round_trips
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
        trips = client.round_trips - before
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
    print(f"{name:<34} p50 {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   round trips {trips}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    settings = load_settings(sandbox_keep_writes=False)  # the recording, as measured
    with odoo_session(settings) as odoo:
        c = odoo.client
        print(f"Odoo: {odoo.label}; {args.repeat} runs each")
        _measure(
            "purchase order status (3 POs)",
            args.repeat,
            lambda: get_purchase_orders(c, ["P00002", "P00009", "P00010"]),
            c,
        )
        _measure("late purchase orders", args.repeat, lambda: late_purchase_orders(c, as_of=odoo.as_of), c)
        _measure("sale order status (S00004)", args.repeat, lambda: sale_order_status(c, "S00004"), c)
        _measure("product availability (chair)", args.repeat, lambda: product_availability(c, "chair"), c)
        _measure("partner lookup (gemini)", args.repeat, lambda: find_partners(c, "gemini"), c)
        _measure("supplier emails on POs", args.repeat, lambda: recent_emails(c), c)
        from copilot.skills.supplier_email import summarize_supplier_email

        emails = [email_from_chatter(m) for m in recent_emails(c)]
        start = time.perf_counter()
        before = c.round_trips
        for email in emails:
            summarize_supplier_email(email, client=c, llm=None, settings=settings)
        elapsed = time.perf_counter() - start
        print(
            f"{'supplier-email summaries':<34} {len(emails) / elapsed:7.1f} emails/s   "
            f"{(c.round_trips - before) / len(emails):.1f} round trips per email"
        )


if __name__ == "__main__":
    main()
