"""A real n8n (from the npm registry) runs the shipped workflows against a running ``copilot serve``.

n8n is installed by ``scripts/test-services.sh install`` (``make test`` does it) at the version pinned in
integrations/n8n/runtime/package.json, into ~/.cache/copilot-test-services/n8n-<version>. Without it the test is
skipped with the reason, unless ``COPILOT_REQUIRE_SERVICES=1`` (CI): then it fails.

The test imports two workflows into a throwaway n8n (its own user folder, loopback ports, no telemetry),
publishes them, starts n8n, and posts what Odoo's "Send Webhook Notification" and a carrier post to n8n's
webhook URLs. n8n builds the copilot event, signs it with the secret from its environment and delivers it; the
copilot's event ledger must show it accepted and done exactly once, and Odoo firing the same notification again
must be a duplicate.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
N8N_DIR = ROOT / "integrations" / "n8n"
TOKEN = "ops-token-0123456789abcdefghij"
SECRET = "n8n-secret-0123456789abcdefghij"
COPILOT = Path(sys.executable).with_name("copilot")
#: Read at import: the test-isolation fixture clears every COPILOT_* variable before each test.
SERVICES_REQUIRED = os.environ.get("COPILOT_REQUIRE_SERVICES", "").strip() == "1"
CACHE = Path(os.environ.get("COPILOT_TEST_SERVICES_DIR") or Path.home() / ".cache" / "copilot-test-services")
VERSION = json.loads((N8N_DIR / "runtime" / "package.json").read_text())["dependencies"]["n8n"]
N8N = CACHE / f"n8n-{VERSION}" / "node_modules" / ".bin" / "n8n"
WORKFLOWS = {"copilotOdooTicket": "odoo-helpdesk-ticket-created.json", "copilotCarrierStat": "carrier-status.json"}
#: What Odoo 18/19 posts for an automation rule "Send Webhook Notification" on helpdesk.ticket (on creation).
ODOO_TICKET = {"_action": "Copilot: ticket created(#32)", "_id": 1, "_model": "helpdesk.ticket"}
#: An AfterShip-style carrier push.
CARRIER = {
    "msg": {
        "tracking_number": "1Z999AA10123456784",
        "slug": "ups",
        "tag": "Exception",
        "subtag_message": "Damaged parcel",
        "updated_at": "2026-12-10T09:12:00+00:00",
    }
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class _Log:
    """A process's output, collected on a thread (the pipe never fills up)."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + "\n".join(self.lines[-40:]))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the process group this test started (n8n's task runner included), SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def n8n_binary() -> Path:
    """The installed n8n, or a skip (a failure under COPILOT_REQUIRE_SERVICES=1) saying how to install it."""
    problem = None
    if not N8N.exists():
        problem = f"n8n {VERSION} is not installed in {N8N.parents[2]} (scripts/test-services.sh install)"
    elif shutil.which("node") is None:
        problem = "Node.js is not installed (apt-get install nodejs)"
    elif not COPILOT.exists():
        problem = "the copilot command is not installed next to this Python"
    if problem:
        if SERVICES_REQUIRED:
            pytest.fail(f"COPILOT_REQUIRE_SERVICES=1 but {problem}")
        pytest.skip(problem)
    return N8N


@pytest.fixture
def copilot_serve(tmp_path: Path) -> Iterator[tuple[str, _Log]]:
    """``copilot serve`` on a free loopback port with the n8n source's secret; its base URL and log."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(tmp_path),
        "COPILOT_DATA_DIR": str(tmp_path / "copilot"),
        "COPILOT_API_TOKENS": f"ops:{TOKEN}:*",
        "COPILOT_WEBHOOK_SECRETS": f"n8n:{SECRET}",
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(COPILOT), "serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    log = _Log(process.stderr)
    try:
        yield "http://" + log.wait_for(r"listening on http://(127\.0\.0\.1:\d+)", 60).group(1), log
    finally:
        _stop(process)


def _n8n_env(folder: Path, port: int, copilot_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "N8N_USER_FOLDER": str(folder),
        "N8N_PORT": str(port),
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_HOST": "127.0.0.1",
        "N8N_RUNNERS_BROKER_PORT": str(_free_port()),
        "N8N_RUNNERS_BROKER_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_TEMPLATES_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
        # the workflows read the copilot's address and their signing secret from n8n's environment
        "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
        "COPILOT_URL": copilot_url,
        "COPILOT_WEBHOOK_SECRET": SECRET,
    }


def _cli(binary: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603
    assert done.returncode == 0, f"n8n {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _outcome(base: str, event_id: str, timeout: float = 30) -> dict[str, Any]:
    """The copilot's record of an event once it is no longer running (read at its status URL)."""
    deadline = time.monotonic() + timeout
    record: Any = None
    while time.monotonic() < deadline:
        status, record = _request(
            f"{base}/v1/webhooks/n8n/events/{event_id}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        if status == 200 and record["status"] != "accepted":
            return record  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"event {event_id} not finished within {timeout} s: {record}")


def _post_to_n8n(n8n: str, path: str, payload: dict[str, Any], timeout: float = 30) -> None:
    """POST as Odoo does; retried while n8n is still registering the published workflow's webhook (404)."""
    deadline = time.monotonic() + timeout
    while True:
        status, answer = _request(
            f"{n8n}/webhook/{path}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        if status != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert (status, answer) == (200, {"message": "Workflow was started"}), answer


def test_n8n_signs_and_delivers_odoo_and_carrier_events_that_the_copilot_runs_once(
    n8n_binary: Path, copilot_serve: tuple[str, _Log], tmp_path: Path
) -> None:
    started = time.monotonic()
    base, copilot_log = copilot_serve
    folder, port = tmp_path / "n8n", _free_port()
    env = _n8n_env(folder, port, base)
    imports = tmp_path / "workflows"
    imports.mkdir()
    for name in WORKFLOWS.values():
        shutil.copy(N8N_DIR / "workflows" / name, imports / name)
    _cli(n8n_binary, env, "import:workflow", "--separate", f"--input={imports}")
    for workflow_id in WORKFLOWS:
        _cli(n8n_binary, env, "publish:workflow", f"--id={workflow_id}")
    imported = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - the n8n this test installed
        [str(n8n_binary), "start"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    n8n_log = _Log(process.stdout)
    try:
        n8n = f"http://127.0.0.1:{port}"
        n8n_log.wait_for(r"Activated workflow .*copilotCarrierStat", 60)
        n8n_log.wait_for(r"Activated workflow .*copilotOdooTicket", 5)
        ready = time.monotonic()
        copilot_log.wait_for(r"HTTP API ready on", 60)

        # Odoo's notification of a new ticket: n8n signs and delivers it; the copilot classifies it once
        _post_to_n8n(n8n, "odoo/helpdesk-ticket-created", ODOO_TICKET)
        ticket = _outcome(base, "helpdesk.ticket-1-created")
        assert ticket["status"] == "done" and ticket["type"] == "helpdesk.ticket.created", ticket
        [category] = [p for p in ticket["result"]["predictions"] if p["field"] == "category"]
        assert category["label"]["name"]  # classified against the sandbox's helpdesk categories

        # Odoo fires the same notification again: n8n signs a new request with the same event id: a duplicate
        _post_to_n8n(n8n, "odoo/helpdesk-ticket-created", ODOO_TICKET)
        copilot_log.wait_for(r"event helpdesk\.ticket-1-created \(helpdesk\.ticket\.created\) is a duplicate", 30)

        # a carrier's exception: matched against Odoo's transfers and reported (the sandbox keeps no tracking numbers)
        _post_to_n8n(n8n, "carrier/status", CARRIER)
        carrier_id = "carrier-1Z999AA10123456784-Exception-2026-12-10T09:12:00+00:00"
        carrier = _outcome(base, carrier_id)
        assert carrier["status"] == "done", carrier
        assert carrier["result"]["attention"] is True and carrier["result"]["detail"] == "Damaged parcel"
        assert carrier["result"]["tracked_in_odoo"] is False
        finished = time.monotonic()
    finally:
        _stop(process)

    for event in ("helpdesk.ticket-1-created (helpdesk.ticket.created)", f"{carrier_id} (carrier.status)"):
        assert copilot_log.count(f"webhook n8n event {event} accepted") == 1, copilot_log.lines
        assert copilot_log.count(f"webhook n8n event {event} done") == 1, copilot_log.lines
    assert copilot_log.count("is a duplicate") == 1
    assert copilot_log.count("refused") == 0  # every delivery carried a valid signature
    sys.stderr.write(
        f"n8n {VERSION}: import+publish {imported - started:.1f} s, start to webhooks active "
        f"{ready - imported:.1f} s, three deliveries {finished - ready:.1f} s, total {finished - started:.1f} s\n"
    )
    assert finished - started < 90
