"""The embedded sandbox keeps its writes in the data dir: the approval loop works across separate commands."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import odoorpc
import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.config import get_settings
from odoo_sandbox import APPROVAL_MODEL, SandboxServer

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
REPO = Path(__file__).resolve().parents[2]
DELAY = str(EMAILS / "02_p00002_new_ship_date.eml")


@pytest.fixture
def with_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example approval policy, as the README tells a newcomer to set it."""
    monkeypatch.setenv("COPILOT_POLICY_FILE", str(REPO / "policy.example.yaml"))
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> object:
    code, out, err = _run(*args, "--json")
    assert code == 0, out + err
    return json.loads(out)


def test_the_approval_loop_works_across_separate_commands(with_policy: None) -> None:
    [item] = _json("propose", DELAY, "--submit")  # type: ignore[misc]
    request_id = item["request"]["id"]
    assert item["request"]["state"] == "pending"

    listed = _json("approvals", "list")
    assert [(r["id"], r["state"]) for r in listed] == [(request_id, "pending")]  # type: ignore[union-attr,index]
    code, out, err = _run("approvals", "list")
    assert code == 0 and "copilot sandbox reset" in err and str(get_settings().data_dir) in " ".join(err.split())
    assert _json("approvals", "show", str(request_id))["state"] == "pending"  # type: ignore[index]

    code, out, err = _run("approvals", "approve", str(request_id))
    assert code == 0, out + err
    said = " ".join(out.split())
    assert f"#{request_id}" in said and "approved" in said and "Nora Blake (manager)" in said

    code, out, err = _run("executor", "--once")
    assert code == 0, out + err
    assert f"#{request_id}" in out and "executed" in out

    shown = _json("approvals", "show", str(request_id))
    assert shown["state"] == "executed" and "2026-12-03" in shown["execution_outcome"]  # type: ignore[index]
    status = _json("odoo", "po", "P00002")
    assert {line["date_planned"][:10] for line in status["lines"]} == {"2026-12-03"}  # type: ignore[index]

    code, out, err = _run("executor", "--once")  # each request runs once
    assert code == 0 and "nothing to do" in out


def test_a_tier_needing_two_approvers_takes_two_people_and_a_refusal_is_final(with_policy: None) -> None:
    [item] = _json("propose", str(EMAILS / "03_p00008_price_change.eml"), "--submit")  # type: ignore[misc]
    request_id = str(item["request"]["id"])
    code, out, _ = _run("approvals", "approve", request_id, "--as", "demo")
    assert code == 1 and "Copilot approver" in out + _  # Marc Demo is not an approver in the recording
    code, out, err = _run("approvals", "approve", request_id, "--reject", "--note", "price too high")
    assert code == 0, out + err
    assert "refused" in out
    shown = _json("approvals", "show", request_id)
    assert shown["state"] == "refused"  # type: ignore[index]
    code, out, err = _run("approvals", "approve", request_id)
    assert code == 1 and "refused" in out + err


def test_high_tier_requests_need_a_second_distinct_approver(with_policy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(state_file=get_settings().sandbox_writes_file) as server:
        agent = odoorpc.ODOO(server.host, port=server.port)
        agent.login(server.db, "copilot", "copilot")
        request_id = agent.env[APPROVAL_MODEL].create(
            {
                "name": "Return 2 chairs", "action_type": "create_return", "res_model": "purchase.order",
                "res_id": 2, "risk_tier": "high", "idempotency_key": "two-approvers", "company_id": 1,
            }
        )  # fmt: skip
    code, out, err = _run("approvals", "approve", str(request_id))
    assert code == 0 and "1 of 2" in " ".join(out.split()), out + err
    code, out, err = _run("approvals", "approve", str(request_id))  # the next approver is picked by default
    assert code == 0, out + err
    assert "Mitchell Admin" in out and "approved" in out
    assert _json("approvals", "show", str(request_id))["state"] == "approved"  # type: ignore[index]


def test_sandbox_reset_restores_the_recording(with_policy: None) -> None:
    _json("propose", DELAY, "--submit")
    enterprise = get_settings().model_copy(update={"sandbox_helpdesk": "enterprise"}).sandbox_writes_file
    with SandboxServer(helpdesk="enterprise", state_file=enterprise) as server:  # another flavour's file
        agent = odoorpc.ODOO(server.host, port=server.port)
        agent.login(server.db, "copilot", "copilot")
        agent.env[APPROVAL_MODEL].create(
            {
                "name": "Expedite P00002", "action_type": "expedite", "res_model": "purchase.order", "res_id": 2,
                "risk_tier": "low", "idempotency_key": "enterprise-flavour", "company_id": 1,
            }
        )  # fmt: skip
    code, out, err = _run("sandbox", "reset")
    assert code == 0, out + err
    said = " ".join(out.split())
    assert "removed 2 approval requests" in said and str(enterprise) in said
    assert _json("approvals", "list") == []
    code, out, err = _run("sandbox", "reset")
    assert code == 0 and "nothing to remove" in out


def test_approve_is_refused_against_a_real_odoo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_ODOO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("COPILOT_ODOO_DB", "prod")
    monkeypatch.setenv("COPILOT_ODOO_PASSWORD", "x")
    get_settings.cache_clear()
    code, out, err = _run("approvals", "approve", "1")
    assert code == 1
    message = (out + err).strip()
    assert len(message.splitlines()) == 1 and "approver" in message and "in Odoo" in message


def test_submit_without_a_policy_says_how_to_enable_one() -> None:
    code, out, err = _run("propose", DELAY, "--submit")
    said = " ".join((out + err).split())
    assert code == 2, said  # a missing setting: exits 2 like every configuration error, before any work
    assert "COPILOT_POLICY_FILE=policy.example.yaml" in said and len(err.strip().splitlines()) == 1
    code, out, err = _run("propose", DELAY)  # without --submit: the proposals, and the next step
    assert code == 0 and "advisory" in out
    assert "set COPILOT_POLICY_FILE=policy.example.yaml and add --submit" in err


def test_two_sandboxes_on_one_state_file_see_each_others_writes(tmp_path: Path) -> None:
    state = tmp_path / "writes.sqlite"
    with SandboxServer(state_file=state) as first, SandboxServer(state_file=state) as second:
        clients = []
        for server in (first, second):
            client = odoorpc.ODOO(server.host, port=server.port)
            client.login(server.db, "copilot", "copilot")
            clients.append(client)
        created: list[int] = []

        def create(client: odoorpc.ODOO, n: int) -> None:
            for i in range(n):
                created.append(
                    client.env[APPROVAL_MODEL].create(
                        {
                            "name": f"r{i}", "action_type": "expedite", "res_model": "purchase.order", "res_id": 2,
                            "risk_tier": "low", "idempotency_key": f"{id(client)}-{i}", "company_id": 1,
                        }
                    )
                )  # fmt: skip

        threads = [threading.Thread(target=create, args=(c, 10)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(created) == list(range(1, 21))  # no id handed out twice
        for client in clients:
            assert client.env[APPROVAL_MODEL].search_count([]) == 20
    with SandboxServer(state_file=state) as later:  # a new process starts from what was kept
        client = odoorpc.ODOO(later.host, port=later.port)
        client.login(later.db, "copilot", "copilot")
        assert client.env[APPROVAL_MODEL].search_count([]) == 20
    with SandboxServer() as fresh:  # without a state file: the recording, in memory
        client = odoorpc.ODOO(fresh.host, port=fresh.port)
        client.login(fresh.db, "copilot", "copilot")
        assert client.env[APPROVAL_MODEL].search_count([]) == 0


def test_a_failed_call_keeps_nothing(tmp_path: Path) -> None:
    state = tmp_path / "writes.sqlite"
    with SandboxServer(state_file=state) as server:
        client = odoorpc.ODOO(server.host, port=server.port)
        client.login(server.db, "copilot", "copilot")
        with pytest.raises(odoorpc.error.RPCError):
            client.env[APPROVAL_MODEL].create({"name": "no key", "action_type": "expedite"})
    with SandboxServer(state_file=state) as server:
        client = odoorpc.ODOO(server.host, port=server.port)
        client.login(server.db, "copilot", "copilot")
        assert client.env[APPROVAL_MODEL].search_count([]) == 0


_WRITER = """
import sys
from pathlib import Path
import odoorpc
from odoo_sandbox import APPROVAL_MODEL, SandboxServer
with SandboxServer(state_file=Path(sys.argv[1])) as server:
    client = odoorpc.ODOO(server.host, port=server.port)
    client.login(server.db, "copilot", "copilot")
    for i in range(15):
        client.env[APPROVAL_MODEL].create({
            "name": f"r{i}", "action_type": "expedite", "res_model": "purchase.order", "res_id": 2,
            "risk_tier": "low", "idempotency_key": f"{sys.argv[2]}-{i}", "company_id": 1,
        })
"""


def test_two_processes_writing_at_once_keep_every_write(tmp_path: Path) -> None:
    import subprocess
    import sys

    state = tmp_path / "writes.sqlite"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(state), name], cwd=REPO, stderr=subprocess.PIPE)  # noqa: S603
        for name in ("serve", "cli")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    with SandboxServer(state_file=state) as server:
        client = odoorpc.ODOO(server.host, port=server.port)
        client.login(server.db, "copilot", "copilot")
        ids = client.env[APPROVAL_MODEL].search([])
        assert sorted(ids) == list(range(1, 31))
        keys = {r["idempotency_key"] for r in client.env[APPROVAL_MODEL].read(ids, ["idempotency_key"])}
        assert len(keys) == 30


def test_a_damaged_or_foreign_writes_file_is_one_line_and_reset_clears_it() -> None:
    import sqlite3

    path = get_settings().sandbox_writes_file
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:  # written by another recording of the sandbox
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('format', '1'), ('recorded_at', '2020-01-01T00:00:00')")
    code, out, err = _run("approvals", "list")
    assert code == 2 and "copilot sandbox reset" in err and len(err.strip().splitlines()) == 1
    assert _run("sandbox", "reset")[0] == 0
    assert _json("approvals", "list") == []

    path.write_bytes(b"not a database at all" * 100)
    code, out, err = _run("approvals", "list")
    assert code == 2 and "copilot sandbox reset" in err and len(err.strip().splitlines()) == 1
    code, out, err = _run("sandbox", "reset")
    assert code == 0 and "unreadable writes file (deleted)" in out and not path.exists()
    assert _json("approvals", "list") == []


def test_evals_score_the_recording_not_the_kept_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from copilot.cli import _root
    from copilot.config import Settings
    from copilot.errors import CopilotError

    seen: list[Settings] = []

    @contextmanager
    def fake_root(settings: Settings, **_: object) -> Iterator[None]:
        seen.append(settings)
        raise CopilotError("stop here")
        yield

    monkeypatch.setattr(_root, "open_root", fake_root)
    code, _, err = _run("eval", "run", "--suite", "proposals")
    assert code == 1 and "stop here" in err
    assert get_settings().sandbox_state_file is not None  # the CLI keeps writes by default...
    assert [s.sandbox_state_file for s in seen] == [None]  # ...an eval run never reads or adds to them
