"""Claims on the embedded SQLite database (the single-process default): the same rules as on PostgreSQL.

The races themselves, with several processes on a real PostgreSQL, are in tests/integration/test_claims.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.email.ledger import EmailLedger
from channels.http.webhook_events import EventLedger
from copilot.state import Database

WHERE = {"folder": "INBOX", "uidvalidity": 7, "uid": 3}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield database
    database.close()


def test_an_email_claim_excludes_others_until_finished_failed_or_expired(db: Database) -> None:
    ledger = EmailLedger(db)
    assert ledger.claim("mid:<a@x>", owner="A", lease=60, now=1000, **WHERE) == "claimed"
    assert ledger.claim("mid:<a@x>", owner="B", lease=60, now=1001, **WHERE) == "busy"
    assert ledger.record_failure("mid:<a@x>", error="Odoo away", **WHERE) == 1  # released for the retry
    assert ledger.claim("mid:<a@x>", owner="B", lease=60, now=1002, **WHERE) == "claimed"
    ledger.release("mid:<a@x>", owner="A")  # not A's any more: nothing changes
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1003, **WHERE) == "busy"
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1063, **WHERE) == "claimed"  # B's lease ran out
    ledger.finish("mid:<a@x>", status="parked", outcome="gave up", **WHERE)
    assert ledger.claim("mid:<a@x>", owner="C", lease=60, now=1064, **WHERE) == "parked"
    assert ledger.attempts("mid:<a@x>") == 1 and ledger.uid_status("INBOX", 7, 3) == "parked"


def test_a_webhook_event_runs_only_while_accepted(db: Database) -> None:
    ledger = EventLedger(db, clock=lambda: 1000.0)
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "unknown"
    assert ledger.claim("n8n", "e1", "sha256=x", "question")
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "claimed"
    assert ledger.start("n8n", "e1", owner="U", lease=60) == "busy"
    ledger.finish("n8n", "e1", error="OdooNotFound: no ticket")
    assert ledger.start("n8n", "e1", owner="T", lease=60) == "failed"
    record = ledger.get("n8n", "e1")
    assert record is not None and record.status == "failed"
