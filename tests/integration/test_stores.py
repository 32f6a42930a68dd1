"""The channels' stores and the audit trail on one shared ``Database``, on SQLite and on PostgreSQL alike.

Exactly-once depends on them: the mailbox ledger, Slack's and the webhooks' dedupe, the idempotency keys
and the audit chain must hold when several writers race, whichever database is configured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from channels.email.ledger import EmailLedger
from channels.email.notify import Outbox
from channels.http.idempotency import IdempotencyConflict, IdempotencyInProgress, IdempotencyStore
from channels.http.webhook_events import EventLedger
from channels.slack.state import SEEN_TTL, SlackState
from copilot.approvals import Proposal
from copilot.audit import AuditEntry, AuditTrail
from copilot.config import load_settings
from copilot.state import Database
from copilot.state.database import HEAD
from tests.concurrency import race

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
KEY = "k" * 40
PROPOSAL = {
    "title": "Set priority of HT00001", "source": "triage", "diff": [],
    "payload": {"action_type": "set_ticket_labels", "ticket_id": 1, "ticket_name": "HT00001",
                "values": {"priority": "3"}, "before": {}, "after": {"priority": "3"}},
    "target": {"model": "helpdesk.ticket", "id": 1, "display_name": "HT00001", "write_date": None},
}  # fmt: skip


def test_the_email_ledger_remembers_done_parked_and_failed_messages(database: Database) -> None:
    ledger = EmailLedger(database)
    where = {"folder": "INBOX", "uidvalidity": 7}
    assert ledger.status("mid:<a@x>") is None
    assert ledger.record_failure("mid:<a@x>", uid=1, error="Odoo away", **where) == 1
    assert ledger.record_failure("mid:<a@x>", uid=1, error="Odoo away", **where) == 2
    assert ledger.status("mid:<a@x>") == "pending" and ledger.uid_status("INBOX", 7, 1) == "pending"
    ledger.finish("mid:<a@x>", status="done", uid=1, kind="supplier", outcome="posted", **where)
    ledger.finish("mid:<b@x>", status="parked", uid=2, **where)
    assert ledger.status("mid:<a@x>") == "done" and ledger.uid_status("INBOX", 8, 1) is None
    assert ledger.counts() == {"done": 1, "parked": 1}


def test_the_outbox_keeps_each_delivery_and_finds_a_proposal_by_key(database: Database) -> None:
    outbox = Outbox(database)
    key = Proposal.model_validate(PROPOSAL).idempotency_key
    data = {"proposals": [PROPOSAL | {"idempotency_key": key}]}
    delivery = outbox.record("mid:<a@x>", kind="supplier_summary", target="slack:C1", text="summary", data=data)
    assert outbox.delivered("mid:<a@x>", "slack:C1") and not outbox.delivered("mid:<a@x>", "slack:C2")
    assert [d.id for d in outbox.entries(kind="supplier_summary")] == [delivery.id]
    assert outbox.data(delivery.id) == data
    found = outbox.proposal(key)
    assert found is not None and found.title == "Set priority of HT00001"


def test_slack_dedupe_lets_exactly_one_of_concurrent_deliveries_through(database: Database) -> None:
    state = SlackState(database)
    assert race(8, lambda _: state.first_time("event:Ev1", now=T0)).count(True) == 1
    assert state.first_time("event:Ev1", now=T0 + SEEN_TTL + timedelta(seconds=1))  # past the TTL: new
    proposal = Proposal.model_validate(PROPOSAL)
    state.stash([proposal])
    assert state.proposal(proposal.idempotency_key) == proposal
    assert state.purge(now=T0 + timedelta(days=30)) == 2


def test_a_webhook_event_is_claimed_once_and_its_outcome_kept(database: Database) -> None:
    ledger = EventLedger(database, clock=lambda: T0.timestamp())
    claims = race(6, lambda i: ledger.claim("n8n", "evt-1", f"v1=sig{i}", "purchase.late"))
    assert claims.count(True) == 1
    assert ledger.claim("n8n", "evt-2", "v1=same", "x")
    assert not ledger.claim("n8n", "evt-3", "v1=same", "x")  # the same signed request under another id
    ledger.finish("n8n", "evt-1", result={"ok": True})
    event = ledger.get("n8n", "evt-1")
    assert event is not None and (event.status, event.result) == ("done", {"ok": True})
    ledger.release("n8n", "evt-1")
    assert ledger.get("n8n", "evt-1") is None
    ledger.ping()


def test_an_idempotency_key_runs_once_then_replays(database: Database) -> None:
    store = IdempotencyStore(database, clock=lambda: T0.timestamp())
    first = race(4, lambda _: _begin(store, "a" * 64))
    assert first.count(None) == 1 and first.count("in progress") == 3
    store.complete("client", "key-1", 201, b'{"id": 7}')
    replay = store.begin("client", "key-1", "a" * 64)
    assert replay is not None and (replay.status_code, replay.body) == (201, b'{"id": 7}')
    with pytest.raises(IdempotencyConflict):
        store.begin("client", "key-1", "b" * 64)


def _begin(store: IdempotencyStore, print_: str) -> str | None:
    try:
        return "replay" if store.begin("client", "key-1", print_) is not None else None
    except IdempotencyInProgress:
        return "in progress"


def test_concurrent_audit_appends_keep_one_chain_and_rows_cannot_be_changed(database: Database) -> None:
    trail = AuditTrail(database, key=KEY)
    other = AuditTrail(database, key=KEY)  # another writer (a replica) on the same database
    race(6, lambda i: [(trail if i % 2 else other).append(AuditEntry(actor=f"slack:U{i}", channel="slack",
                                                                     skill="answer", input_text=f"q{i}{n}"))
                       for n in range(5)])  # fmt: skip
    report = trail.verify(stored_anchor=False)
    assert report.ok and report.records == 30, report.summary()
    for statement in ("UPDATE audit_records SET skill = 'x' WHERE seq = 1", "DELETE FROM audit_records"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))
    assert trail.count() == 30


@pytest.mark.postgres
def test_the_audit_trail_on_postgresql_needs_its_key(postgres: Any) -> None:
    with Database.open(postgres.create_database()) as db:
        with pytest.raises(ValueError, match="COPILOT_AUDIT_KEY"):
            AuditTrail(db)
        settings = load_settings(audit_key=KEY)
        trail = AuditTrail.from_settings(settings, db)
        trail.append(AuditEntry(actor="cli:alice", channel="cli", skill="answer", input_text="q"))
        assert trail.verify().ok


def test_copilot_serve_opens_one_engine_for_all_its_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from channels.serve import create_app
    from copilot.state import database as database_module
    from tests.servers.dovecot import free_port

    def no_model(app: Any, settings: Any) -> None:  # no Chroma, no embedding model: engines only
        app.state.chroma_client = app.state.chroma_error = None

    monkeypatch.setattr("channels.http.main._open_heavy", no_model)
    made: list[str] = []
    real = database_module._engine
    monkeypatch.setattr(database_module, "_engine", lambda url: made.append(url) or real(url))
    settings = load_settings(
        data_dir=tmp_path / "data",
        odoo_url="http://127.0.0.1:9", odoo_db="prod", odoo_password=SecretStr("x"), odoo_retries=0, odoo_timeout=2,
        slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr("s" * 32),
        imap_host="127.0.0.1", imap_port=free_port(), imap_user="copilot", imap_password=SecretStr("x"),
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        state = client.app.state  # type: ignore[attr-defined]
        [mail] = [w for w in state.workers if w.name == "email"]
        stores = [
            state.copilot.conversations, state.copilot.audit, state.idempotency, state.webhook_events,
            state.deadletters, state.slack.state, state.slack.deadletters, mail.ledger, mail.deadletters, mail.outbox,
        ]  # fmt: skip
        assert all(store.db is state.db for store in stores)
    assert made == [f"sqlite:///{tmp_path / 'data' / 'state.sqlite'}"]


@pytest.mark.postgres
def test_copilot_database_url_puts_every_store_on_postgresql(postgres: Any, tmp_path: Path) -> None:
    url = postgres.create_database().replace("postgres@", "postgres:s3cret-pw@")
    settings = load_settings(data_dir=tmp_path / "data", database_url=SecretStr(url), audit_key=SecretStr(KEY))
    with Database.from_settings(settings) as db:
        assert db.dialect == "postgresql" and db.current() == HEAD
        assert "s3cret-pw" not in db.label and "s3cret-pw" not in repr(db)
        EmailLedger(db).finish("mid:<a@x>", status="done", folder="INBOX", uidvalidity=1, uid=1)
    assert not (tmp_path / "data" / "state.sqlite").exists()
    with Database.from_settings(settings) as again:  # another replica
        assert EmailLedger(again).status("mid:<a@x>") == "done"
