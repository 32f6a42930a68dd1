"""Latency, round trips and the copilot's own overhead of each read-only tool, per Odoo version and protocol.

Run: ``python -m benchmarks.odoo_tools [--protocol jsonrpc|json2|both] [--wire http|in-process] [--repeat N]``.
Each setup (Odoo 18 over JSON-RPC; Odoo 19 over JSON-RPC, deprecated there; Odoo 19 over JSON-2 with an API key)
runs against the matching sandbox flavour, served on loopback by default (``--wire http``: odoorpc or httpx on
a real socket) or in this process. Per tool: p50 / p95 latency, round trips, and the copilot's overhead (the
time not spent in the transport: building calls, translating field names, shaping results).
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

#: (sandbox flavour, protocol)
SETUPS: tuple[tuple[str, str], ...] = (("odoo18", "jsonrpc"), ("odoo19", "jsonrpc"), ("odoo19", "json2"))


def _measure(name: str, repeat: int, call: Callable[[], Any], client: Any) -> None:
    call()  # warm-up: the first call also logs in
    timings, overheads = [], []
    trips = 0
    for _ in range(repeat):
        before, wire = client.round_trips, client.transport_seconds
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        timings.append(elapsed * 1000)
        overheads.append((elapsed - (client.transport_seconds - wire)) * 1000)
        trips = client.round_trips - before
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
    print(
        f"  {name:<32} p50 {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   "
        f"round trips {trips}   copilot overhead {statistics.median(overheads):6.2f} ms"
    )


def _run(flavour: str, protocol: str, repeat: int, http: bool) -> None:
    settings = load_settings(sandbox_keep_writes=False, sandbox_odoo=flavour, odoo_protocol=protocol)
    with odoo_session(settings, http=http) as odoo:
        c = odoo.client
        print(f"{flavour} over {c.protocol}: {odoo.label}; {repeat} runs each")
        _measure(
            "purchase order status (3 POs)",
            repeat,
            lambda: get_purchase_orders(c, ["P00002", "P00009", "P00010"]),
            c,
        )
        _measure("late purchase orders", repeat, lambda: late_purchase_orders(c, as_of=odoo.as_of), c)
        _measure("sale order status (S00004)", repeat, lambda: sale_order_status(c, "S00004"), c)
        _measure("product availability (chair)", repeat, lambda: product_availability(c, "chair"), c)
        _measure("partner lookup (gemini)", repeat, lambda: find_partners(c, "gemini"), c)
        _measure("supplier emails on POs", repeat, lambda: recent_emails(c), c)
        from copilot.skills.supplier_email import summarize_supplier_email

        emails = [email_from_chatter(m) for m in recent_emails(c)]
        start = time.perf_counter()
        before = c.round_trips
        for email in emails:
            summarize_supplier_email(email, client=c, llm=None, settings=settings)
        elapsed = time.perf_counter() - start
        print(
            f"  {'supplier-email summaries':<32} {len(emails) / elapsed:7.1f} emails/s   "
            f"{(c.round_trips - before) / len(emails):.1f} round trips per email"
        )


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--protocol", choices=("jsonrpc", "json2", "both"), default="both")
    parser.add_argument("--wire", choices=("http", "in-process"), default="http")
    args = parser.parse_args(argv)
    for flavour, protocol in SETUPS:
        if args.protocol in (protocol, "both"):
            _run(flavour, protocol, args.repeat, args.wire == "http")


if __name__ == "__main__":
    main()
