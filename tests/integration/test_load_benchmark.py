"""``python -m benchmarks.load --quick``: the scaled-out service under load and faults processes every input once.

Real servers on loopback (PostgreSQL, Redis, Dovecot), the Odoo sandbox, the Slack stand-in, two
``copilot serve`` replicas behind the benchmark's proxy and two ``copilot worker`` processes; a worker's
pool process is SIGKILLed and a replica restarted mid-run. Skipped when a server is not installed, unless
``COPILOT_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import pytest

from benchmarks.load.options import LoadOptions
from benchmarks.load.report import render
from benchmarks.load.run import run
from benchmarks.load.stack import COPILOT
from tests.integration.conftest import SERVICES_REQUIRED
from tests.servers.dovecot import dovecot_binary
from tests.servers.postgres import postgres_bin
from tests.servers.redis import redis_binary

# The whole stack in processes (~40 s): run by `make e2e` (CI), not `make test`.
pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


def _missing() -> list[str]:
    checks = {
        "PostgreSQL (apt-get install postgresql)": postgres_bin() is not None,
        "redis-server (apt-get install redis-server)": redis_binary() is not None,
        "dovecot (apt-get install dovecot-imapd)": dovecot_binary() is not None,
        "the copilot command next to this Python": COPILOT.exists(),
    }
    return [name for name, present in checks.items() if not present]


@pytest.fixture(scope="module", autouse=True)
def _services() -> None:
    missing = _missing()
    if missing and SERVICES_REQUIRED:
        pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but missing: {', '.join(missing)}")
    if missing:
        pytest.skip(f"missing: {', '.join(missing)}")


def test_quick_run_processes_every_input_exactly_once_despite_a_killed_worker_and_a_restarted_replica() -> None:
    report = run(LoadOptions.quick(embeddings=False, timeout=240.0))
    shown = render(report)
    print(f"\n{shown}")
    proof = report.proof
    assert (proof.once, proof.expected) == (145, 145), shown
    assert proof.ok, shown
    assert proof.forged_webhook_status == 401 and not proof.forged_webhook_recorded
    assert proof.dead_letters == 1 and not proof.unexpected_dead_letters  # the malformed email only
    assert any("SIGKILL" in fault for fault in report.faults) and any("replica1 restarted" in f for f in report.faults)
    assert report.slack_acks.count == 20 and report.webhook_acceptance.count == 100
    assert report.one_worker is not None and report.two_workers is not None
    assert f"exactly once: {proof.once:,}/{proof.expected:,}" in shown
