"""At-risk scoring of thousands of open sale order lines on the sandbox scale data: seconds and Odoo round trips.

Run: ``python -m benchmarks.at_risk [--lines 10000] [--seed 1] [--odoo odoo18|odoo19] [--wire in-process|http]
[--repeat 3]``. The sandbox is grown with ``odoo_sandbox.scale`` (generation is not timed), then the skill scores
every open line: the figures are the lines scored, the wall time of a run (median of ``--repeat``), the time
spent in the transport (the sandbox answering, JSON on the wire), the CPU time of the process (the sandbox
runs in it too: on a shared, loaded machine the wall time grows, the CPU time hardly) and the number of Odoo
round trips, which does not grow with the number of orders (batched reads). Target: < 5 s for 10,000 lines.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC

from copilot.config import load_settings
from copilot.odoo import OdooClient
from copilot.skills.at_risk import AT_RISK, AtRiskInput
from copilot.skills.base import SkillContext
from odoo_sandbox import SandboxTransport, sandbox_json2_transport
from odoo_sandbox.scale import ScaledSandbox

TARGET_SECONDS = 5.0


def _client(server: ScaledSandbox, *, http: bool, json2: bool) -> OdooClient:
    settings = load_settings(odoo_login="copilot", odoo_password="copilot", odoo_timeout=120)  # noqa: S106 - sandbox demo login
    if http:
        return OdooClient.from_settings(settings, url=server.url, db=server.db)
    if json2:
        key = next(u.api_key for u in server.users if u.login == "copilot" and u.api_key)
        return OdooClient(sandbox_json2_transport(server, api_key=key, timeout=120), description="sandbox json2")
    transport = SandboxTransport(server, login="copilot", secret="copilot", timeout=120)  # noqa: S106 - sandbox demo login
    return OdooClient(transport, description="sandbox")


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--odoo", choices=("odoo18", "odoo19"), default="odoo18")
    parser.add_argument("--wire", choices=("in-process", "http"), default="in-process")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    server = ScaledSandbox(lines=args.lines, seed=args.seed, odoo=args.odoo)
    generated = time.perf_counter() - started
    http = args.wire == "http"
    if http:
        server.start()
    try:
        client = _client(server, http=http, json2=args.odoo == "odoo19" and not http)
        client.check_connection()
        ctx = SkillContext(settings=load_settings(), client=client, now=server.release.recorded_at.replace(tzinfo=UTC))
        counts = server.counts()
        print(
            f"{args.odoo} sandbox over {client.protocol} ({args.wire}), grown in {generated:.1f} s: "
            f"{counts['sale.order']} sale orders, {counts['sale.order.line']} sale lines, "
            f"{counts['purchase.order']} POs, {counts['stock.move']} moves, {counts['stock.picking']} pickings"
        )
        timings, wires, cpus = [], [], []
        queue = None
        trips = 0
        for _ in range(max(args.repeat, 1)):
            before, wire = client.round_trips, client.transport_seconds
            start, cpu = time.perf_counter(), time.process_time()
            queue = AT_RISK.run(ctx, AtRiskInput())
            timings.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            wires.append(client.transport_seconds - wire)
            trips = client.round_trips - before
        assert queue is not None
        seconds = statistics.median(timings)
        print(f"lines scored       {queue.lines_scored}")
        print(f"orders at risk     {len(queue.items)}")
        print(f"seconds            {seconds:.2f} (median of {len(timings)}; best {min(timings):.2f})")
        print(f"  in the transport {statistics.median(wires):.2f}")
        print(f"  CPU (process)    {statistics.median(cpus):.2f} (copilot and the in-process sandbox together)")
        print(f"odoo round trips   {trips}")
        verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
        print(f"target < {TARGET_SECONDS:.0f} s: {verdict}")
        for item in queue.items[:5]:
            print(f"  {item.order:<8} score {item.score:5.2f} risk {item.risk:4.2f} {item.severity:<8} {item.reason}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
