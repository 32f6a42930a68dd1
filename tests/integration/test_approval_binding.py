"""An approval executes exactly what the approver saw (issue 13, point 1 and the approval items of 8).

End to end on the embedded sandbox: an API client with scope ``propose`` POSTs to ``/v1/proposals``,
people approve in Odoo (the sandbox's emulation of the addon), the executor runs. The client's
title, diff, amount, tier and flags are never trusted: the copilot derives them from the typed
payload and Odoo, the request stores a canonical hash of what will run, the payload is frozen from
the first decision, and the executor refuses a request whose hash does not match.
"""

from __future__ import annotations

import ast
import importlib.util
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import odoorpc
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from copilot.approvals import AddonBackend, Executor, Proposal, RequestState, executor_client
from copilot.approvals.binding import payload_hash
from copilot.audit import AuditTrail
from copilot.config import load_settings
from odoo_sandbox import RECORDED_AT, SandboxServer
from tests.conftest import make_client
from tests.unit.test_http_api import ApiSettings

REPO = Path(__file__).resolve().parents[2]
NOW = RECORDED_AT.replace(tzinfo=UTC)
PROPOSER = "proposer-token-0123456789abcdefg"
READER = "reader-token-0123456789abcdefgh"
TOKENS = f"proposer:{PROPOSER}:propose; reader:{READER}:read"
MODEL = "copilot.approval.request"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as odoo:
        yield odoo


@pytest.fixture
def api(server: SandboxServer, tmp_path: Path) -> Iterator[TestClient]:
    """The HTTP API on this sandbox, under the example policy (price changes: high 5,000, critical 50,000)."""
    settings = ApiSettings(
        data_dir=tmp_path / "data",
        policy_file=REPO / "policy.example.yaml",
        api_tokens=SecretStr(TOKENS),
        odoo_url=server.url,
        odoo_db=server.db,
        odoo_login="copilot",
        odoo_password=SecretStr("copilot"),
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def executor(server: SandboxServer) -> Executor:
    settings = load_settings(executor_password="executor", odoo_backoff=0.01)
    return Executor(executor_client(settings, url=server.url, db=server.db), now=lambda: NOW)


def person(server: SandboxServer, login: str) -> odoorpc.ODOO:
    odoo = odoorpc.ODOO(server.host, port=server.port, timeout=10)
    odoo.login(server.db, login, login)
    return odoo


def line(server: SandboxServer, line_id: int) -> dict[str, Any]:
    fields = ["price_unit", "write_date", "state", "order_id"]
    return person(server, "admin").env["purchase.order.line"].read([line_id], fields)[0]


def post(api: TestClient, body: dict[str, Any]) -> Any:
    return api.post("/v1/proposals", json=body, headers={"Authorization": f"Bearer {PROPOSER}"})


def attack(server: SandboxServer, **target: Any) -> dict[str, Any]:
    """The proposal as the attack review submitted it: it says line 17 at 281.00, its payload sets line 19 to 5,000."""
    seen = line(server, 17)
    return {
        "title": "Accept P00008 Drawer Black at 281.00 USD",
        "payload": {"action_type": "accept_price_change", "po_id": 9, "po_name": "P00009", "line_id": 19,
                    "product": "Large Desk", "quantity": 3, "old_price": 500.0, "new_price": 5000.0,
                    "currency": "USD"},
        "target": {"model": "purchase.order.line", "id": 17, "display_name": "P00008 / Drawer Black",
                   "write_date": seen["write_date"], "expect": {"state": "purchase", "price_unit": 280.8}, **target},
        "diff": [{"field": "Unit price", "before": "280.80", "after": "281.00"}],
        "amount": 3, "currency": "USD", "risk_tier": "medium", "source": "supplier_email", "flagged_input": False,
    }  # fmt: skip


def approve(server: SandboxServer, request_id: int, login: str = "manager") -> None:
    person(server, login).env[MODEL].browse(request_id).action_approve()


# -- the finding, as found ------------------------------------------------------------------------------
def test_a_disguised_price_change_is_never_executed_after_one_approval(
    server: SandboxServer, api: TestClient, executor: Executor
) -> None:
    response = post(api, attack(server))
    if response.status_code in (200, 201):  # if a request exists, a person approves what they were shown
        approve(server, response.json()["request"]["id"])
    report = executor.run_once()
    assert not [o for o in report.outcomes if o.result == "executed"], report.outcomes
    assert line(server, 19)["price_unit"] == 500.0
    assert line(server, 17)["price_unit"] == 280.8


def test_a_payload_record_outside_the_target_is_422_with_the_reason(server: SandboxServer, api: TestClient) -> None:
    response = post(api, attack(server))
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "line 19" in message and "17" in message
    assert AddonBackend(make_client(server)).search() == []  # nothing reached Odoo


def test_the_reads_behind_a_submission_are_in_the_audit_trail(
    server: SandboxServer, api: TestClient, tmp_path: Path
) -> None:
    """The server reads Odoo inside the facade's pipeline: audited like any skill, refusals with their reason."""
    assert post(api, attack(server)).status_code == 422
    assert post(api, attack(server, id=19, display_name="x", write_date=None, expect={})).status_code == 201
    trail = AuditTrail.from_settings(load_settings(data_dir=tmp_path / "data"))
    try:
        refused, created = trail.records(skill="propose")
    finally:
        trail.close()
    assert refused.channel == "http" and refused.error and "line 19" in refused.error
    assert created.error is None and created.approval_ids
    assert any(c.name.startswith("purchase.order.line.") and 19 in c.record_ids for c in created.tool_calls)


def test_a_po_id_that_is_not_the_lines_order_is_422(server: SandboxServer, api: TestClient) -> None:
    body = attack(server, id=19)
    body["payload"] = {**body["payload"], "po_id": 8, "po_name": "P00008"}
    response = post(api, body)
    assert response.status_code == 422, response.text
    assert "P00009" in response.json()["error"]["message"]


def test_the_server_derives_title_diff_exposure_and_tier_from_odoo(
    server: SandboxServer, api: TestClient, executor: Executor
) -> None:
    """Honestly targeted at line 19, the lies in title, diff, amount and tier are replaced by the truth."""
    response = post(api, attack(server, id=19, display_name="whatever", write_date=None, expect={}))
    assert response.status_code == 201, response.text
    request, decision = response.json()["request"], response.json()["decision"]
    assert request["name"] == "Accept P00009 Large Desk at 5,000.00 USD"
    assert (request["target_model"], request["target_id"]) == ("purchase.order.line", 19)
    assert request["risk_tier"] == "critical" and request["approvals_required"] == 2
    assert decision["tier"] == "critical" and decision["approvers_needed"] == 2
    proposal = Proposal.model_validate(request["proposal"])
    assert proposal.amount == 90_000.0  # (5,000 - 500) x 20 open units
    assert [(d.before, d.after) for d in proposal.diff] == [("500.00", "5,000.00")]
    assert proposal.payload.quantity == 20.0 and proposal.payload.old_price == 500.0  # type: ignore[union-attr]
    assert proposal.target.write_date == line(server, 19)["write_date"]

    approve(server, request["id"])
    assert executor.run_once().outcomes == []  # one approval of two: nothing runs
    assert line(server, 19)["price_unit"] == 500.0
    approve(server, request["id"], "admin")
    [outcome] = executor.run_once().outcomes
    assert outcome.result == "executed" and line(server, 19)["price_unit"] == 5000.0


def test_a_client_may_raise_a_flag_but_never_lower_a_tier(server: SandboxServer, api: TestClient) -> None:
    body = attack(server, id=19)
    body["payload"] = {**body["payload"], "new_price": 501.0}  # exposure 20: the price rule's base tier
    low = post(api, {**body, "risk_tier": "low"})
    assert low.status_code == 201 and low.json()["request"]["risk_tier"] == "medium"
    body["payload"] = {**body["payload"], "new_price": 502.0}
    flagged = post(api, {**body, "flagged_input": True})
    assert flagged.status_code == 201 and flagged.json()["request"]["risk_tier"] == "high"


def test_an_api_client_gets_no_pre_approval(server: SandboxServer, api: TestClient) -> None:
    """set_ticket_labels is pre-approved for the triage skill's own proposals, not for any propose token."""
    ticket = person(server, "admin").env["helpdesk.ticket"].read([1], ["write_date"])[0]
    body = {
        "title": "Relabel HT00001", "source": "triage", "diff": [], "risk_tier": "low",
        "payload": {"action_type": "set_ticket_labels", "ticket_id": 1, "ticket_name": "HT00001",
                    "values": {"priority": "3"}, "before": {"priority": "1"}, "after": {"priority": "3"}},
        "target": {"model": "helpdesk.ticket", "id": 1, "display_name": "HT00001",
                   "write_date": ticket["write_date"]},
    }  # fmt: skip
    response = post(api, body)
    assert response.status_code == 201, response.text
    assert response.json()["request"]["state"] == "pending"
    assert response.json()["decision"]["mode"] == "approval"


# -- the request binds to its payload ----------------------------------------------------------------
def _agent_request(server: SandboxServer, tier: str = "critical") -> int:
    """A request the copilot's account created directly (as the addon receives it)."""
    agent = make_client(server)
    row = line(server, 19)
    proposal = Proposal.model_validate(
        {
            "title": "Accept P00009 Large Desk at 600.00 USD",
            "payload": {"action_type": "accept_price_change", "po_id": 9, "po_name": "P00009", "line_id": 19,
                        "product": "Large Desk", "quantity": 20, "old_price": 500.0, "new_price": 600.0,
                        "currency": "USD"},
            "target": {"model": "purchase.order.line", "id": 19, "display_name": "P00009 / Large Desk",
                       "write_date": row["write_date"], "expect": {"state": "purchase", "price_unit": 500.0}},
            "diff": [{"field": "Unit price", "before": "500.00", "after": "600.00"}],
            "amount": 2000, "source": "supplier_email", "risk_tier": tier,
        }
    )  # fmt: skip
    from copilot.approvals import Mode, Policy, decide
    from copilot.approvals.policy import ActionPolicy

    policy = Policy(version=1, actions={proposal.action_type: ActionPolicy(mode=Mode.APPROVAL)})
    return AddonBackend(agent).submit(proposal, decide(policy, proposal, now=NOW)).id


def test_the_request_stores_the_canonical_hash_of_what_will_run(server: SandboxServer) -> None:
    rid = _agent_request(server)
    row = person(server, "admin").env[MODEL].read([rid], ["payload", "payload_hash", "action_type"])[0]
    assert row["payload_hash"] == payload_hash("accept_price_change", "purchase.order.line", 19, row["payload"])
    assert len(row["payload_hash"]) == 64


def test_the_payload_is_frozen_from_the_first_decision_even_for_an_administrator(server: SandboxServer) -> None:
    rid = _agent_request(server)
    approve(server, rid)  # one of two approvals: still pending
    admin = person(server, "admin").env[MODEL]
    payload = admin.read([rid], ["payload"])[0]["payload"]
    tampered = {**payload, "payload": {**payload["payload"], "new_price": 5000.0}}
    for values in ({"payload": tampered}, {"res_id": 17}, {"payload_hash": "0" * 64}, {"risk_tier": "low"}):
        with pytest.raises(odoorpc.error.RPCError, match="frozen"):
            admin.browse(rid).write(values)
    assert admin.read([rid], ["payload"])[0]["payload"] == payload


def test_the_addon_states_a_price_changes_title_exposure_and_tier_whoever_creates_it(server: SandboxServer) -> None:
    """A request created directly in Odoo (no /v1/proposals) with a lying title, diff, amount and tier."""
    agent = make_client(server)
    body = attack(server, id=19)
    payload = {**body, "target": {**body["target"], "display_name": "P00008 / Drawer Black"}}
    values = {
        "name": body["title"], "action_type": "accept_price_change", "res_model": "purchase.order.line",
        "res_id": 19, "payload": payload, "diff": "Unit price: 280.80 -> 281.00", "amount": 3.0,
        "risk_tier": "medium", "idempotency_key": "copilot-direct",
    }  # fmt: skip
    rid = agent.create_approval_request(values)
    fields = ["name", "diff", "amount", "risk_tier", "approvals_required"]
    row = person(server, "admin").env[MODEL].read([rid], fields)[0]
    assert row["name"] == "Accept P00009 Large Desk at 5,000.00 USD"
    assert row["diff"] == "Unit price: 500.00 -> 5,000.00"
    assert (row["amount"], row["risk_tier"], row["approvals_required"]) == (90_000.0, "critical", 2)


def test_a_hash_given_at_creation_must_match_what_the_addon_computes(server: SandboxServer) -> None:
    agent = make_client(server)
    values = {
        "name": "x", "action_type": "reschedule_po_line", "res_model": "purchase.order.line", "res_id": 19,
        "payload": {"note": "not what was hashed"}, "risk_tier": "low",
        "idempotency_key": "copilot-hash-test", "payload_hash": "0" * 64,
    }  # fmt: skip
    with pytest.raises(Exception, match="hash does not match"):
        agent.create_approval_request(values)


@pytest.mark.parametrize("value", [-0.0, 1e16, 1.5e300])
def test_a_payload_postgresql_would_store_changed_is_refused_as_on_odoo(server: SandboxServer, value: float) -> None:
    """Real Odoo 18 gives -0.0 back as 0.0 and 1e+16 as an integer: the executor could never match the hash."""
    values = {
        "name": "x", "action_type": "reschedule_po_line", "res_model": "purchase.order.line", "res_id": 19,
        "payload": {"x": [value]}, "risk_tier": "low", "idempotency_key": f"copilot-jsonb-{value!r}",
    }  # fmt: skip
    with pytest.raises(Exception, match="would not be stored as sent"):
        make_client(server).create_approval_request(values)


def test_the_executor_refuses_a_request_whose_hash_does_not_match(server: SandboxServer, executor: Executor) -> None:
    rid = _agent_request(server, tier="low")
    approve(server, rid)
    # someone with database access rewrites the approved payload behind the addon's back
    store = server._backend.store  # type: ignore[attr-defined]
    rec = store.get(MODEL, rid)
    tampered = {**rec["payload"], "payload": {**rec["payload"]["payload"], "new_price": 5000.0}}
    store.update(MODEL, rid, {"payload": tampered})
    [outcome] = executor.run_once().outcomes
    assert outcome.result == "failed" and "hash" in outcome.detail
    assert line(server, 19)["price_unit"] == 500.0
    done = AddonBackend(make_client(server)).get(rid)
    assert done.state is RequestState.FAILED and "hash" in (done.execution_outcome or "")


# -- sandbox = addon: on-behalf-of, user lookup ---------------------------------------------------------
def test_the_person_on_whose_behalf_cannot_approve_whatever_the_case(server: SandboxServer) -> None:
    from copilot.approvals import Mode, Policy, decide
    from copilot.approvals.policy import ActionPolicy

    agent = make_client(server)
    row = line(server, 19)
    proposal = Proposal.model_validate(
        {
            "title": "Reschedule", "source": "supplier_email", "diff": [],
            "payload": {"action_type": "reschedule_po_line", "po_id": 9, "po_name": "P00009", "line_id": 19,
                        "product": "Large Desk", "old_date": None, "new_date": "2026-12-09T10:00:00"},
            "target": {"model": "purchase.order.line", "id": 19, "display_name": "P00009 / Large Desk",
                       "write_date": row["write_date"]},
            "on_behalf_of": "Nora.Blake@YourCompany.example.com",
        }
    )  # fmt: skip
    policy = Policy(version=1, actions={proposal.action_type: ActionPolicy(mode=Mode.APPROVAL)})
    rid = AddonBackend(agent).submit(proposal, decide(policy, proposal, now=NOW)).id
    with pytest.raises(odoorpc.error.RPCError, match="someone else"):
        approve(server, rid, "manager")
    other = proposal.payload.model_copy(update={"new_date": datetime(2026, 12, 10, 10, 0)})
    unnamed = proposal.model_copy(update={"on_behalf_of": None, "payload": other})
    later = AddonBackend(agent).submit(unnamed, decide(policy, unnamed, now=NOW))
    assert later.created and later.id != rid
    person(server, "admin").env[MODEL].browse(later.id).write({"on_behalf_of": "MANAGER"})  # named afterwards
    with pytest.raises(odoorpc.error.RPCError, match="someone else"):
        approve(server, later.id, "manager")
    approve(server, rid, "admin")


def test_a_wildcard_on_behalf_of_names_nobody(server: SandboxServer) -> None:
    """``%@yourcompany.example.com`` is not a pattern: it matches no user, so it blocks nobody by accident."""
    agent = make_client(server)
    values = {
        "name": "x", "action_type": "reschedule_po_line", "res_model": "purchase.order.line", "res_id": 19,
        "payload": {}, "risk_tier": "low", "idempotency_key": "copilot-wild", "on_behalf_of": "%@yourcompany%",
    }  # fmt: skip
    rid = agent.create_approval_request(values)
    row = person(server, "admin").env[MODEL].read([rid], ["on_behalf_of_user_id"])[0]
    assert not row["on_behalf_of_user_id"]


# -- two executors at once ---------------------------------------------------------------------------
def test_two_executor_passes_at_once_never_crash(server: SandboxServer, executor: Executor) -> None:
    other = Executor(executor.client, now=lambda: NOW)
    expired = _expired_request(server)
    stale = executor._requests("pending")
    assert [r["id"] for r in stale] == [expired]
    assert [o.result for o in other.expire()] == ["expired"]
    executor._requests = lambda state: stale if state == "pending" else []  # type: ignore[method-assign]
    assert [o.result for o in executor.expire()] == ["skipped"]  # the other pass expired it: no error


def test_two_executor_threads_run_each_request_once(server: SandboxServer, executor: Executor) -> None:
    ids = [_agent_request(server, tier="low") for _ in range(1)]
    for rid in ids:
        approve(server, rid)
    _expired_request(server)
    settings = load_settings(executor_password="executor", odoo_backoff=0.01)
    passes = [executor, Executor(executor_client(settings, url=server.url, db=server.db), now=lambda: NOW)]
    errors: list[BaseException] = []
    reports: list[Any] = []

    def run(ex: Executor) -> None:
        try:
            for _ in range(5):
                reports.append(ex.run_once())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ex,)) for ex in passes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    executed = [o for r in reports for o in r.outcomes if o.result == "executed"]
    assert len(executed) == len(ids)
    assert sum(o.result == "expired" for r in reports for o in r.outcomes) == 1


def _expired_request(server: SandboxServer) -> int:
    agent = make_client(server)
    values = {
        "name": "old", "action_type": "reschedule_po_line", "res_model": "purchase.order.line", "res_id": 20,
        "payload": {}, "risk_tier": "low", "idempotency_key": f"copilot-expired-{id(server)}",
        "expires_at": "2026-11-01 00:00:00",
    }  # fmt: skip
    return agent.create_approval_request(values)


# -- the addon's code says the same (its own Odoo tests run with `make odoo-test`) ----------------------
# (payload_binding.py is one text in odoo_addons/18.0 and 19.0: tests/unit/test_odoo_addon_versions.py)
ADDON = REPO / "odoo_addons" / "19.0" / "copilot_approval"


def _addon_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"copilot_addon_{name}", ADDON / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _constants(path: Path) -> dict[str, Any]:
    """Module-level frozenset({...}) constants of the addon's model, with ``*OTHER`` spreads resolved."""
    out: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "frozenset" and value.args:
            items: set[str] = set()
            for elt in getattr(value.args[0], "elts", []):
                if isinstance(elt, ast.Starred) and isinstance(elt.value, ast.Name):
                    items |= out[elt.value.id]
                elif isinstance(elt, ast.Constant):
                    items.add(elt.value)
            out[node.targets[0].id] = items
    return out


def _module_strings(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.targets[0].id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)
    }


def test_the_addon_hashes_and_checks_targets_like_the_copilot() -> None:
    from copilot.approvals import binding

    addon = _addon_module("payload_binding")
    assert addon.PAYLOAD_TARGETS == binding.PAYLOAD_TARGETS
    samples = [
        ("accept_price_change", "purchase.order.line", 19, {"payload": {"new_price": 5000.0, "note": "é €"}}),
        ("set_ticket_labels", "helpdesk.ticket", 1, {"b": [1, 2], "a": None}),
        ("expedite", "purchase.order", 10, None),
    ]
    for action, model, rid, payload in samples:
        assert addon.canonical_json(action, model, rid, payload) == binding.canonical_json(action, model, rid, payload)
        assert addon.payload_hash(action, model, rid, payload) == payload_hash(action, model, rid, payload)
    assert binding.canonical_json("a", "m", 1, {"z": 1, "y": [2]}) == (
        '{"action":"a","payload":{"y":[2],"z":1},"target":{"id":1,"model":"m"}}'
    )
    inner = {"action_type": "accept_price_change", "line_id": 19}
    good = {"payload": inner, "target": {"model": "purchase.order.line", "id": 19}}
    lying = {"payload": inner, "target": {"model": "purchase.order.line", "id": 17}}
    for action, model, rid, payload in (
        ("accept_price_change", "purchase.order.line", 19, good),
        ("accept_price_change", "purchase.order.line", 17, lying),
        ("accept_price_change", "purchase.order.line", 19, lying),
        ("expedite", "purchase.order.line", 19, good),
    ):
        ours, theirs = (
            binding.binding_problem(action, model, rid, payload),
            addon.binding_problem(action, model, rid, payload),
        )
        assert ours == theirs
    assert binding.binding_problem("accept_price_change", "purchase.order.line", 19, good) is None
    assert binding.binding_problem("accept_price_change", "purchase.order.line", 17, lying) is not None


def test_the_sandbox_freezes_exactly_what_the_addon_freezes() -> None:
    from odoo_sandbox import _approval as sandbox

    addon = _constants(ADDON / "models" / "copilot_approval_request.py")
    assert addon["BOUND_FIELDS"] == set(sandbox.BOUND_FIELDS)
    assert addon["FROZEN_FIELDS"] == set(sandbox.FROZEN_FIELDS)
    default = _module_strings(ADDON / "models" / "copilot_approval_request.py")["DEFAULT_EXPOSURE_TIERS"]
    assert [(t, float(m)) for t, m in (p.split(":") for p in default.split(","))] == list(sandbox.EXPOSURE_TIERS)
    assert {"payload", "payload_hash", "name", "diff", "amount", "risk_tier"} <= addon["FROZEN_FIELDS"]


def test_the_addon_freezes_from_the_first_decision_and_finds_users_exactly() -> None:
    """What the addon's own tests check in Odoo, read from its code: the rules the sandbox emulates."""
    source = (ADDON / "models" / "copilot_approval_request.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    methods = {
        n.name: ast.get_source_segment(source, n) or "" for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
    }
    assert 'r.state != "pending" or r.decision_ids' in methods["write"]
    assert "BOUND_FIELDS" in methods["write"] and "self.env.su" not in methods["write"].split("bound =")[1]
    assert "payload_hash(" in methods["_bind_payload"] and "binding_problem(" in methods["_bind_payload"]
    find_user = methods["_find_user"]
    assert '"=ilike"' in find_user and 'replace("%", ' in find_user and "casefold()" in find_user
    assert "has_group(GROUP_AGENT)" in methods["_check_pre_approval"]
    assert "on_behalf_of_user_id" in methods["_is_requester"]
    assert "_bind_payload(vals)" in methods["create"]


# -- the class, not the single case: every action's records must belong to its target ------------------
@pytest.mark.parametrize(
    ("payload", "target", "reason"),
    [
        ({"action_type": "reschedule_receipt", "picking_id": 20, "picking_name": "WH/IN/00008", "po_name": "P00002",
          "line_ids": [4, 6], "old_date": None, "new_date": "2026-12-03T10:00:00"},
         ("stock.picking", 20), "PO line 6"),
        ({"action_type": "expedite", "po_id": 10, "po_name": "P00010", "vendor_id": 11,
          "message": "Please ship P00010 by Friday, our customer is waiting."},
         ("purchase.order", 10), "not the vendor"),
        ({"action_type": "send_customer_reply", "model": "sale.order", "res_id": 24, "record_name": "S00024",
          "partner_ids": [15], "subject": "Your order", "body": "Ships Dec 3."},
         ("sale.order", 24), "neither the customer nor a follower"),
        ({"action_type": "create_return", "picking_id": 28, "picking_name": "WH/OUT/00013",
          "lines": [{"product_id": 19, "product": "Large Desk", "quantity": 1}], "reason": "damaged"},
         ("stock.picking", 28), "was not delivered"),
        ({"action_type": "substitute_product", "po_id": 8, "po_name": "P00008", "line_id": 19, "old_product_id": 19,
          "old_product": "Large Desk", "new_product_id": 12, "new_product": "Customizable Desk"},
         ("purchase.order.line", 19), "belongs to P00009"),
        ({"action_type": "change_so_commitment", "so_id": 24, "so_name": "S00024", "old_date": None,
          "new_date": "2026-12-04T15:00:00"},
         ("sale.order", 23), "declared target is sale.order 23"),
    ],
)  # fmt: skip
def test_every_action_refuses_a_record_outside_its_target(
    server: SandboxServer, api: TestClient, payload: dict[str, Any], target: tuple[str, int], reason: str
) -> None:
    body = {"payload": payload, "target": {"model": target[0], "id": target[1]}}
    response = post(api, body)
    assert response.status_code == 422, response.text
    assert reason in response.json()["error"]["message"]
    assert AddonBackend(make_client(server)).search() == []


def test_the_policy_raises_any_action_by_its_exposure_and_keeps_pre_approval_for_the_copilot() -> None:
    from copilot.approvals import Mode, Policy, decide
    from copilot.approvals.policy import ActionPolicy
    from copilot.approvals.schemas import ActionType

    policy = Policy(
        version=1,
        actions={
            ActionType.ISSUE_CREDIT_NOTE: ActionPolicy(mode=Mode.APPROVAL),
            ActionType.SET_TICKET_LABELS: ActionPolicy(mode=Mode.PRE_APPROVED),
        },
    )
    note = Proposal.model_validate(
        {"title": "t", "source": "api", "diff": [], "amount": 60_000,
         "payload": {"action_type": "issue_credit_note", "invoice_id": 2, "invoice_name": "INV/2026/00002",
                     "amount": 60_000, "currency": "USD", "reason": "x"},
         "target": {"model": "account.move", "id": 2, "display_name": "INV/2026/00002", "write_date": None}}
    )  # fmt: skip
    decision = decide(policy, note, now=NOW)
    assert (decision.tier.value, decision.approvers_needed) == ("critical", 2)
    assert decide(policy, note.model_copy(update={"amount": 12_000}), now=NOW).tier.value == "high"
    labels = Proposal.model_validate(
        {"title": "t", "source": "triage", "diff": [],
         "payload": {"action_type": "set_ticket_labels", "ticket_id": 1, "ticket_name": "HT00001",
                     "values": {"priority": "3"}, "before": {}, "after": {"priority": "3"}},
         "target": {"model": "helpdesk.ticket", "id": 1, "display_name": "HT00001", "write_date": None}}
    )  # fmt: skip
    assert decide(policy, labels, now=NOW).mode is Mode.PRE_APPROVED
    from_api = decide(policy, labels.model_copy(update={"source": "api"}), now=NOW)
    assert from_api.mode is Mode.APPROVAL and from_api.approvers_needed == 1
    assert any("copilot's own proposals" in r for r in from_api.reasons)


def test_a_fresh_claim_is_left_to_the_pass_that_made_it(server: SandboxServer, executor: Executor) -> None:
    """Another pass never reconciles a request the first pass is still acting on; a stale claim it does."""
    rid = _agent_request(server, tier="low")
    approve(server, rid)
    executor.client.execute(MODEL, "action_start_execution", [rid])  # pass A claimed it and is acting
    other = Executor(executor.client, now=lambda: NOW)
    assert other.run_once().outcomes == []
    assert AddonBackend(make_client(server)).get(rid).state is RequestState.EXECUTING
    later = Executor(executor.client, now=lambda: NOW + timedelta(hours=1))  # pass A died long ago
    [outcome] = later.run_once().outcomes
    assert outcome.result == "reconciled_failed" and line(server, 19)["price_unit"] == 500.0
