"""The audit trail: append-only, hash-chained, PII-redacted; verify finds edits, deletions and cuts."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditTrail,
    ToolCall,
    Verdict,
    capture_tool_calls,
    entry_from_result,
)
from copilot.cli import app
from copilot.config import load_settings
from copilot.identity import Actor
from copilot.odoo import OdooClient
from copilot.skills.draft_reply import DraftRequest, draft_reply
from copilot.skills.draft_reply.schemas import KbPassage
from copilot.state import Database
from odoo_sandbox import RECORDED_AT

RAW = (
    "From: jane.doe@customer.example\nHi, S00024 is late again. Call me on +1 (941) 284-4875. "
    "Refund to IBAN DE89 3704 0044 0532 0130 00 please."
)
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def entry(n: int = 0, **kw: object) -> AuditEntry:
    values: dict[str, object] = {
        "actor": f"slack:U{n}",
        "actor_role": "customer_service",
        "channel": "slack",
        "skill": "draft",
        "input_text": RAW,
        "prompt": {"name": "reply_draft", "version": 1, "sha256": "ab" * 32},
        "model": "gpt-test",
        "tool_calls": [ToolCall(kind="odoo", name="sale.order.search_read", arguments={"domain": []}, record_ids=[24])],
        "verdicts": [Verdict(check="grounding", ok=True, detail="grounded (5 facts checked)")],
        "output": {"body": "Dear Jane, S00024 ships 2026-12-03. We will call +1 (941) 284-4875.", "n": n},
        "proposals": [{"title": "Expedite P00009", "amount": 1250.5}],
        "approval_ids": [7],
    }
    values.update(kw)
    return AuditEntry.model_validate(values)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite"


@pytest.fixture
def trail(db: Path) -> AuditTrail:
    t = AuditTrail(Database.open(f"sqlite:///{db}"))
    for n in range(5):
        t.append(entry(n), at=T0 + timedelta(minutes=n))
    return t


def raw_sql(db: Path, *statements: str | tuple[str, tuple[object, ...]]) -> None:
    """What someone with the file can do: drop the append-only triggers and edit rows by hand."""
    con = sqlite3.connect(db)
    try:
        con.execute("DROP TRIGGER IF EXISTS audit_records_no_update")
        con.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, ())
            con.execute(sql, params)
        con.commit()
    finally:
        con.close()


# -- what is stored -----------------------------------------------------------------------------------------
def test_records_are_chained_in_order_from_the_genesis_hash(trail: AuditTrail) -> None:
    records = trail.records()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert len({r.hash for r in records}) == 5
    first = records[0]
    assert first.actor == "slack:U0" and first.actor_role == "customer_service" and first.skill == "draft"
    assert first.prompt is not None and (first.prompt.name, first.prompt.version) == ("reply_draft", 1)
    assert first.model == "gpt-test" and first.approval_ids == [7]
    assert first.tool_calls[0].name == "sale.order.search_read" and first.tool_calls[0].record_ids == [24]
    assert first.created_at == T0


def test_the_input_is_only_hashed_and_nothing_stored_holds_raw_pii(trail: AuditTrail, db: Path) -> None:
    record = trail.records(limit=1)[0]
    assert record.input_hash == hashlib.sha256(RAW.encode()).hexdigest()
    assert record.output["body"] == "Dear Jane, S00024 ships 2026-12-03. We will call <PHONE>."
    assert record.proposals == [{"title": "Expedite P00009", "amount": 1250.5}]  # business data kept
    trail.close()
    stored = b"".join(p.read_bytes() for p in db.parent.glob("audit.sqlite*"))  # the file and its WAL
    for raw in (b"jane.doe@customer.example", b"284-4875", b"DE89", b"0532 0130"):
        assert raw not in stored
    assert b"S00024" in stored


def test_an_email_actor_is_kept_as_a_pseudonym_that_still_finds_the_person(db: Path) -> None:
    t = AuditTrail(Database.open(f"sqlite:///{db}"))
    t.append(entry(actor="email:Jane.Doe@customer.example", channel="email"))
    t.append(entry(actor="slack:U9"))
    [record] = t.records(actor="email:jane.doe@customer.example")
    assert record.actor.startswith("email:<EMAIL:") and "customer.example" not in record.actor
    assert t.verify().ok


def test_records_filter_by_actor_time_and_limit(trail: AuditTrail) -> None:
    assert [r.seq for r in trail.records(limit=2)] == [4, 5]  # the most recent, oldest first
    assert [r.seq for r in trail.records(actor="slack:U3")] == [4]
    assert [r.seq for r in trail.records(since=T0 + timedelta(minutes=3))] == [4, 5]
    assert trail.records(skill="ask") == []
    assert trail.count() == 5


# -- tamper evidence ---------------------------------------------------------------------------------------
def test_an_intact_chain_verifies(trail: AuditTrail) -> None:
    report = trail.verify()
    assert report.ok and report.records == 5 and report.head_hash == trail.records()[-1].hash
    assert report.summary().startswith("chain ok: 5 records")


def test_the_table_refuses_updates_and_deletes(trail: AuditTrail, db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        for statement in ("UPDATE audit_records SET skill = 'ask' WHERE seq = 2", "DELETE FROM audit_records"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(statement)
    finally:
        con.close()
    assert trail.verify().ok
    assert not hasattr(trail, "update") and not hasattr(trail, "delete")


def test_a_record_edited_by_hand_is_found(trail: AuditTrail, db: Path) -> None:
    raw_sql(db, "UPDATE audit_records SET output = json_set(output, '$.body', 'All fine, nothing late') WHERE seq = 3")
    report = trail.verify()
    assert not report.ok and report.first_bad_seq == 3 and report.records == 2
    assert "edited" in (report.problem or "")
    assert report.first_bad_request_id == trail.records()[2].request_id


def test_an_edit_with_a_recomputed_plain_hash_does_not_match_the_keyed_hash(trail: AuditTrail, db: Path) -> None:
    from copilot.audit.trail import _digest

    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    fields = dict(con.execute("SELECT * FROM audit_records WHERE seq = 2").fetchone())
    con.close()
    for name in ("prompt", "tool_calls", "verdicts", "output", "proposals", "approval_ids"):
        fields[name] = json.loads(fields[name])
    fields["verdicts"] = [{"check": "grounding", "ok": True, "detail": "edited"}]
    forged = _digest(fields)  # the forger recomputes the edited record's hash as the unkeyed trail did
    raw_sql(
        db, ("UPDATE audit_records SET verdicts = ?, hash = ? WHERE seq = 2", (json.dumps(fields["verdicts"]), forged))
    )
    assert forged != fields["hash"]
    report = trail.verify()
    assert not report.ok and report.first_bad_seq == 2 and "does not match" in (report.problem or "")


def test_a_deleted_record_is_found(trail: AuditTrail, db: Path) -> None:
    raw_sql(db, "DELETE FROM audit_records WHERE seq = 2")
    report = trail.verify()
    assert not report.ok and report.first_bad_seq == 3 and report.problem == "record 2 before it is missing (deleted)"


def test_reordered_records_are_found(trail: AuditTrail, db: Path) -> None:
    raw_sql(
        db,
        "UPDATE audit_records SET seq = 100 WHERE seq = 2",
        "UPDATE audit_records SET seq = 2 WHERE seq = 4",
        "UPDATE audit_records SET seq = 4 WHERE seq = 100",
    )
    report = trail.verify()
    assert not report.ok and report.first_bad_seq == 2


def test_a_cut_tail_is_found_with_the_anchor_kept_from_an_earlier_verify(trail: AuditTrail, db: Path) -> None:
    head = trail.verify().head_hash
    raw_sql(db, "DELETE FROM audit_records WHERE seq >= 4")
    assert trail.verify(stored_anchor=False).ok  # a shorter chain is still a chain...
    assert "removed" in (trail.verify().problem or "")  # ...that the anchor kept beside the trail does not match
    report = trail.verify(anchor=head, stored_anchor=False)
    assert not report.ok and "anchor" in (report.problem or "")  # ...but the head printed before is gone
    assert report.summary().startswith("chain broken: the anchor")


def test_appends_from_several_writers_keep_one_chain(db: Path) -> None:
    AuditTrail(Database.open(f"sqlite:///{db}")).close()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        t = AuditTrail(Database.open(f"sqlite:///{db}"))  # its own engine and connections, like another process
        try:
            for i in range(8):
                t.append(entry(n * 100 + i))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            t.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    t = AuditTrail(Database.open(f"sqlite:///{db}"))
    report = t.verify()
    assert report.ok and report.records == 32, report.summary()


# -- filling entries -------------------------------------------------------------------------------------
def test_odoo_calls_made_inside_capture_are_recorded_with_their_record_ids(odoo: OdooClient) -> None:
    odoo.search_read("sale.order", [("name", "=", "S00024")], ["name"])  # outside: not recorded
    with capture_tool_calls() as calls:
        rows = odoo.search_read("sale.order", [("name", "in", ["S00024", "S00028"])], ["name"])
        odoo.read("res.partner", [11], ["name"])
    assert [c["name"] for c in calls] == ["sale.order.search_read", "res.partner.read"]
    assert sorted(calls[0]["record_ids"]) == sorted(r["id"] for r in rows) and len(rows) == 2
    assert calls[0]["arguments"]["args"][0] == [["name", "in", ["S00024", "S00028"]]]
    assert calls[1]["record_ids"] == [11] and calls[1]["model"] == "res.partner"


def test_an_entry_from_a_real_draft_carries_its_verdicts_tools_and_redacted_output(
    odoo: OdooClient, tmp_path: Path
) -> None:
    passage = KbPassage.model_validate({
        "source": "shipping.md", "heading": None, "text": "Late orders: we chase the vendor.", "score": 1.0,
        "citation": {"model": "kb", "id": 1, "display_name": "shipping.md"},
    })  # fmt: skip
    message = "Where is S00024? Reach me at jane@gemini.example or +1 (941) 284-4875."
    actor = Actor(channel="slack", external_id="U42", role="customer_service")
    with capture_tool_calls() as calls:
        draft = draft_reply(
            DraftRequest(message=message, customer="Gemini Furniture"), client=odoo, settings=load_settings(),
            as_of=RECORDED_AT, passages=[passage],
        )  # fmt: skip
    trail = AuditTrail(Database.open(f"sqlite:///{tmp_path / 'a.sqlite'}"))
    record = trail.record_request(actor=actor, skill="draft", input_text=message, result=draft, tool_calls=calls)
    assert record.actor == "slack:U42" and record.actor_role == "customer_service" and record.channel == "slack"
    assert record.model == "deterministic" and record.prompt is None
    assert {t.name for t in record.tool_calls} >= {"res.partner.search_read", "sale.order.search_read"}
    assert any(24 in t.record_ids for t in record.tool_calls if t.name.startswith("sale.order"))
    assert [(v.check, v.ok) for v in record.verdicts] == [("grounding", True)]
    assert record.output["orders"] == ["S00024"] and record.output["status"] == draft.status
    assert "jane@gemini.example" not in json.dumps(record.model_dump(mode="json"))
    assert trail.verify().ok


def test_an_entry_records_a_refusal_and_an_llm_fallback() -> None:
    from copilot.errors import AccessDenied

    refused = entry_from_result(actor="http:client-a", skill="propose", input_hash="f" * 64, error=AccessDenied("no"))
    assert refused.channel == "http" and refused.error == "AccessDenied: no"
    assert [(v.check, v.ok) for v in refused.verdicts] == [("AccessDenied", False)]

    class Fallback:
        engine = "templates"
        fallback_reason = "the model's draft would leak data: url 'https://evil.example'"
        prompt = None

    leaked = entry_from_result(actor="slack:U1", skill="draft", result=Fallback())
    assert [(v.check, v.ok) for v in leaked.verdicts] == [("exfiltration", False)]


# -- the command -----------------------------------------------------------------------------------------
def test_audit_commands_show_export_and_verify(tmp_path: Path) -> None:
    settings = load_settings()
    trail = AuditTrail.from_settings(settings)
    for n in range(3):
        trail.append(entry(n), at=T0 + timedelta(minutes=n))
    trail.close()
    runner = CliRunner()

    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and result.output.startswith("chain ok: 3 records"), result.output

    shown = runner.invoke(app, ["audit", "show", "--limit", "2", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [r["seq"] for r in json.loads(shown.output)] == [2, 3]
    table = runner.invoke(app, ["audit", "show", "--actor", "slack:U1"])
    assert table.exit_code == 0 and "slack:U1" in table.output and "grounding" in table.output
    assert "slack:U0" not in table.output and "slack:U2" not in table.output

    out = tmp_path / "export" / "audit.jsonl"
    exported = runner.invoke(app, ["audit", "export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert json.loads(lines[1])["prev_hash"] == json.loads(lines[0])["hash"]
    assert "284-4875" not in out.read_text(encoding="utf-8")

    raw_sql(Path(settings.data_dir) / "state.sqlite", "UPDATE audit_records SET skill = 'ask' WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert broken.output.startswith("chain broken at record 2: its content does not match its hash")
