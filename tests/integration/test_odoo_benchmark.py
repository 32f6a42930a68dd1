"""``python -m benchmarks.odoo_tools --protocol ...`` compares JSON-RPC and JSON-2 on the sandbox flavours."""

from __future__ import annotations

import pytest

from benchmarks.odoo_tools import main


def test_benchmark_compares_the_protocols_per_tool(capsys: pytest.CaptureFixture[str]) -> None:
    """One block per setup (18 JSON-RPC, 19 JSON-RPC, 19 JSON-2), each tool with round trips and overhead."""
    main(["--repeat", "2", "--wire", "in-process"])
    out = capsys.readouterr().out
    assert "odoo18 over jsonrpc" in out and "odoo19 over jsonrpc" in out and "odoo19 over json2" in out
    tool_lines = [line for line in out.splitlines() if "copilot overhead" in line]
    assert len(tool_lines) == 18
    # the same tools need the same round trips whatever the protocol
    trips = [line.split("round trips")[1].split()[0] for line in tool_lines]
    assert trips[0:6] == trips[6:12] == trips[12:18]


def test_benchmark_runs_one_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """``--protocol json2`` measures only Odoo 19 over JSON-2."""
    main(["--repeat", "2", "--wire", "in-process", "--protocol", "json2"])
    out = capsys.readouterr().out
    assert "odoo19 over json2" in out and "jsonrpc" not in out
