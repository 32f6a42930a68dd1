"""Dead letters: a failed input is parked once per (channel, key) with its reason, listed, read back and replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from copilot.config import load_settings
from copilot.state import Database, DeadLetterStore

RAW = b"From: someone@example.com\r\nSubject: broken\r\n\r\n\xff\xfe binary \x00\x01"
T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)


def test_park_keeps_the_payload_reason_and_error_type(database: Database) -> None:
    store = DeadLetterStore(database)
    letter = store.park(
        channel="email",
        key="mid:<1@example.com>",
        reason="the body is binary data, not text",
        error_type="UnreadableEmail",
        payload=RAW,
        summary="someone@example.com · broken",
        at=T0,
    )
    assert letter.status == "parked" and letter.attempts == 1 and letter.size == len(RAW)
    assert letter.payload is None  # park and list never carry the payload around
    got = store.get(letter.id)
    assert got is not None
    assert got.payload == RAW  # byte for byte, so a replay sees exactly what arrived
    assert got.reason == "the body is binary data, not text" and got.error_type == "UnreadableEmail"
    assert got.first_seen == T0 and got.first_seen.tzinfo is not None
    assert "binary" in got.text  # undecodable bytes are replaced, not an error
    assert store.get(letter.id + 100) is None


def test_parking_the_same_input_again_updates_one_letter(database: Database) -> None:
    store = DeadLetterStore(database)
    first = store.park(channel="email", key="k1", reason="Odoo down", error_type="OdooUnavailable", payload=b"x", at=T0)
    again = store.park(
        channel="email",
        key="k1",
        reason="Odoo still down",
        error_type="OdooUnavailable",
        payload=b"x",
        attempts=2,
        at=T0 + timedelta(minutes=5),
    )
    assert again.id == first.id
    assert again.attempts == 3 and again.reason == "Odoo still down"
    assert again.first_seen == T0 and again.last_seen == T0 + timedelta(minutes=5)
    other_channel = store.park(channel="webhook", key="k1", reason="bad", error_type="ValueError", payload="{}")
    assert other_channel.id != first.id  # keys are per channel
    assert len(store.list(status=None)) == 2


def test_list_filters_by_channel_and_status_newest_first(database: Database) -> None:
    store = DeadLetterStore(database)
    for i, channel in enumerate(["email", "slack", "email"]):
        store.park(
            channel=channel, key=f"k{i}", reason=f"r{i}", error_type="E", payload=b"", at=T0 + timedelta(minutes=i)
        )
    assert [x.key for x in store.list()] == ["k2", "k1", "k0"]
    assert [x.key for x in store.list(channel="email")] == ["k2", "k0"]
    assert [x.key for x in store.list(limit=1)] == ["k2"]


def test_mark_replayed_takes_the_letter_out_of_the_parked_list(database: Database) -> None:
    store = DeadLetterStore(database)
    letter = store.park(channel="email", key="k", reason="r", error_type="E", payload=b"x")
    done = store.mark_replayed(letter.id, at=T0)
    assert done.status == "replayed" and done.replayed_at == T0
    assert store.list() == [] and [x.status for x in store.list(status=None)] == ["replayed"]
    assert store.find("email", "k") is not None
    # failing again after a replay parks it again with a fresh count
    again = store.park(channel="email", key="k", reason="r2", error_type="E", payload=b"x")
    assert again.status == "parked" and again.attempts == 1 and again.replayed_at is None
    assert store.mark_resolved(letter.id).status == "resolved"
    with pytest.raises(KeyError):
        store.mark_replayed(9999)


def test_letters_survive_a_restart_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    store = DeadLetterStore.from_settings(settings)
    store.park(channel="email", key="k", reason="r", error_type="E", payload=RAW)
    store.close()
    reopened = DeadLetterStore.from_settings(settings)
    (letter,) = reopened.list()
    got = reopened.get(letter.id)
    assert got is not None and got.payload == RAW
    reopened.close()


def test_a_letter_needs_a_channel_and_a_key(database: Database) -> None:
    store = DeadLetterStore(database)
    with pytest.raises(ValueError, match="channel and a key"):
        store.park(channel="", key="k", reason="r", error_type="E", payload=b"")
    with pytest.raises(ValueError, match="500"):
        store.park(channel="email", key="k" * 501, reason="r", error_type="E", payload=b"")


def test_a_parked_webhook_is_replayed_through_the_facade_and_a_broken_one_stays_parked(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from copilot.audit import AuditTrail
    from copilot.cli import app
    from copilot.config import load_settings

    settings = load_settings(data_dir=tmp_path / "data")
    store = DeadLetterStore.from_settings(settings)
    good = store.park(
        channel="webhook",
        key="n8n:evt-7",
        reason="OdooUnavailable: Odoo did not answer",
        error_type="OdooUnavailable",
        payload=json.dumps({"type": "question", "text": "which Wood Corner orders are late?"}),
    )
    broken = store.park(
        channel="webhook", key="n8n:evt-8", reason="x", error_type="ValueError", payload=b'{"type": "nonsense"}'
    )
    store.close()

    result = CliRunner().invoke(app, ["deadletters", "replay", "--all", "--json"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # one letter could not be replayed
    outcome = {r["id"]: r for r in json.loads(result.stdout)}
    assert outcome[good.id]["ok"] and outcome[good.id]["kind"] == "question"
    assert not outcome[broken.id]["ok"] and "ValidationError" in outcome[broken.id]["error"]

    store = DeadLetterStore.from_settings(settings)
    assert [x.id for x in store.list(status="parked")] == [broken.id]
    store.close()
    trail = AuditTrail.from_settings(settings)
    assert [(r.channel, r.actor, r.skill) for r in trail.records()] == [("webhook", "webhook:n8n", "ask")]
    trail.close()
