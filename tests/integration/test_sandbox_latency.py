"""``copilot sandbox --latency-ms``: each RPC is answered that much later (an Odoo on its own host), so a load
test's workers wait on Odoo as they do in production instead of sharing its CPU."""

from __future__ import annotations

import time

import odoorpc

from odoo_sandbox import SandboxServer


def _three_reads(port: int) -> float:
    odoo = odoorpc.ODOO("127.0.0.1", port=port, timeout=10)
    odoo.login("demo", "copilot", "copilot")
    started = time.perf_counter()
    for _ in range(3):
        odoo.execute_kw("purchase.order", "search_read", [[("name", "=", "P00009")]], {"fields": ["name"]})
    return time.perf_counter() - started


def test_each_rpc_waits_the_latency() -> None:
    with SandboxServer(port=0) as server:
        at_once = _three_reads(server.port)
        server.latency = 0.15
        slow = _three_reads(server.port)
    assert slow >= 3 * 0.15 and slow - at_once >= 0.4, (at_once, slow)


def test_a_stop_does_not_wait_for_the_latency() -> None:
    server = SandboxServer(port=0).start()
    server.latency = 30.0
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 5
