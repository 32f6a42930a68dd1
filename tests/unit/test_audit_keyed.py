"""The audit trail against someone who can write its SQLite file: a keyed chain (HMAC-SHA256, the key kept
outside the database) and signed head anchors (in a file beside the trail and in the log) that ``verify``
checks by default, so a rewritten record, a recomputed chain and a cut tail are all found."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from copilot.audit import AuditEntry, AuditTrail
from copilot.cli import app
from copilot.config import load_settings

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
KEY = "k" * 40
JSON_COLUMNS = ("prompt", "tool_calls", "verdicts", "output", "proposals", "approval_ids")
LEGACY_FIELDS = (
    "seq", "request_id", "created_at", "actor", "actor_role", "channel", "skill", "input_hash", "prompt", "model",
    "tool_calls", "verdicts", "output", "proposals", "approval_ids", "error", "duration_ms", "prev_hash",
)  # fmt: skip


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        actor=f"slack:U{n}",
        actor_role="buyer",
        channel="slack",
        skill="propose",
        input_text=f"request {n}",
        output={"approved": n % 2 == 0, "n": n},
        proposals=[{"title": f"Accept P0000{n}", "amount": 100 + n}],
    )


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def plain_sha256(fields: dict[str, object]) -> str:
    """How the trail hashed records before keying: what any reader of the project can recompute."""
    return hashlib.sha256(canonical({k: fields[k] for k in LEGACY_FIELDS})).hexdigest()


def rows(db: Path) -> list[dict[str, object]]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        found = [dict(r) for r in con.execute("SELECT * FROM audit_records ORDER BY seq")]
    finally:
        con.close()
    for row in found:
        for name in JSON_COLUMNS:
            row[name] = json.loads(row[name]) if row[name] is not None else None
    return found


def rewrite(db: Path, edited: list[dict[str, object]]) -> None:
    """Drop the append-only triggers and store ``edited`` rows over the old ones."""
    con = sqlite3.connect(db)
    try:
        con.execute("DROP TRIGGER IF EXISTS audit_records_no_update")
        con.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
        con.execute("DELETE FROM audit_records")
        for row in edited:
            names = list(row)
            values = [json.dumps(row[n]) if n in JSON_COLUMNS and row[n] is not None else row[n] for n in names]
            con.execute(
                f"INSERT INTO audit_records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",  # noqa: S608 (the table's own column names)
                values,
            )
        con.commit()
    finally:
        con.close()


def forge(db: Path, seq: int, digest: object) -> None:
    """The attack of the review: edit record ``seq``, then recompute every hash and link from there on."""
    found = rows(db)
    found[seq - 1]["output"] = {"approved": False, "n": seq, "note": "nothing was approved"}
    prev = found[seq - 2]["hash"] if seq > 1 else "0" * 64
    for row in found[seq - 1 :]:
        row["prev_hash"] = prev
        row["hash"] = prev = digest(row)  # type: ignore[operator]
    rewrite(db, found)


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "data", audit_key=SecretStr(KEY))


@pytest.fixture
def db(settings) -> Path:  # type: ignore[no-untyped-def]
    trail = AuditTrail.from_settings(settings)
    for n in range(1, 6):
        trail.append(entry(n), at=T0 + timedelta(minutes=n))
    trail.close()
    return Path(settings.data_dir) / "state.sqlite"


def verify(settings, **kw: object):  # type: ignore[no-untyped-def]
    trail = AuditTrail.from_settings(settings)
    try:
        return trail.verify(**kw)  # type: ignore[arg-type]
    finally:
        trail.close()


# -- the review's attacks ------------------------------------------------------------------------------------
def test_an_edit_with_the_whole_plain_sha256_chain_recomputed_is_found(settings, db: Path) -> None:  # type: ignore[no-untyped-def]
    forge(db, 3, plain_sha256)
    report = verify(settings)
    assert not report.ok and report.first_bad_seq == 3, report.summary()
    assert "does not match" in (report.problem or "")


def test_deleting_the_last_records_is_found_without_giving_an_anchor(settings, db: Path) -> None:  # type: ignore[no-untyped-def]
    rewrite(db, rows(db)[:3])
    report = verify(settings)
    assert not report.ok and report.records == 3, report.summary()
    assert "anchor" in (report.problem or "") and "5" in (report.problem or "")


def test_a_forger_holding_the_key_is_caught_by_the_anchor_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", audit_key=SecretStr(KEY), audit_anchor_interval=0)
    caplog.set_level(logging.INFO, logger="copilot.audit")
    trail = AuditTrail.from_settings(settings)
    for n in range(1, 5):
        trail.append(entry(n))
    trail.close()
    logged = [r.getMessage().split()[-1] for r in caplog.records if r.getMessage().startswith("audit anchor ")]
    assert logged, "no signed anchor was written to the log"
    db = Path(settings.data_dir) / "state.sqlite"

    def keyed(row: dict[str, object]) -> str:  # the stolen key: the forger recomputes exactly what the trail does
        from copilot.audit.trail import keyed_digest

        return keyed_digest(KEY.encode(), row)

    forge(db, 2, keyed)
    (Path(settings.data_dir) / "audit.anchors.jsonl").unlink()  # ...and removes the local anchors
    report = verify(settings, anchor=logged[-1])
    assert not report.ok and "anchor" in (report.problem or ""), report.summary()


def test_a_forged_anchor_is_refused(settings, db: Path) -> None:  # type: ignore[no-untyped-def]
    token = json.loads((db.parent / "audit.anchors.jsonl").read_text().splitlines()[-1])["token"]
    parts = token.split(".")
    parts[1] = "3"  # claim an anchor at record 3, so that records 4 and 5 could be dropped
    report = verify(settings, anchor=".".join(parts))
    assert not report.ok and "signature" in (report.problem or "")


def test_another_key_does_not_verify_the_chain(settings, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = load_settings(data_dir=settings.data_dir, audit_key=SecretStr("x" * 40))
    report = verify(other)
    assert not report.ok and report.first_bad_seq == 1


# -- without a configured key ------------------------------------------------------------------------------
def test_without_a_key_a_private_key_file_is_made_once_and_a_warning_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    caplog.set_level(logging.WARNING, logger="copilot.audit")
    trail = AuditTrail.from_settings(settings)
    trail.append(entry(1))
    trail.close()
    key_file = Path(settings.data_dir) / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert any("COPILOT_AUDIT_KEY" in r.getMessage() for r in caplog.records)
    again = AuditTrail.from_settings(settings)  # a restart reads the same key
    again.append(entry(2))
    report = again.verify()
    again.close()
    assert report.ok and report.records == 2, report.summary()
    forge(Path(settings.data_dir) / "state.sqlite", 1, plain_sha256)
    assert not verify(settings).ok


# -- records written before keying ------------------------------------------------------------------------
def legacy_db(db: Path, n: int) -> None:
    """An audit file as the unkeyed trail wrote it (no version column, plain SHA-256 chain)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE audit_records (seq INTEGER NOT NULL PRIMARY KEY, request_id VARCHAR(64) NOT NULL, "
        "created_at VARCHAR(40) NOT NULL, actor VARCHAR(300) NOT NULL, actor_role VARCHAR(60), "
        "channel VARCHAR(40) NOT NULL, skill VARCHAR(60) NOT NULL, input_hash VARCHAR(64) NOT NULL, prompt JSON, "
        "model VARCHAR(200) NOT NULL, tool_calls JSON NOT NULL, verdicts JSON NOT NULL, output JSON, "
        "proposals JSON NOT NULL, approval_ids JSON NOT NULL, error TEXT, duration_ms INTEGER, "
        "prev_hash VARCHAR(64) NOT NULL UNIQUE, hash VARCHAR(64) NOT NULL UNIQUE)"
    )
    con.commit()
    con.close()
    prev, made = "0" * 64, []
    for seq in range(1, n + 1):
        row: dict[str, object] = {
            "seq": seq, "request_id": f"r{seq}", "created_at": (T0 + timedelta(minutes=seq)).isoformat(),
            "actor": "slack:U1", "actor_role": None, "channel": "slack", "skill": "ask", "input_hash": "",
            "prompt": None, "model": "deterministic", "tool_calls": [], "verdicts": [], "output": {"n": seq},
            "proposals": [], "approval_ids": [], "error": None, "duration_ms": 5, "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = plain_sha256(row)
        made.append(row)
    rewrite(db, made)


def test_unkeyed_records_are_kept_and_sealed_by_the_first_keyed_one(settings) -> None:  # type: ignore[no-untyped-def]
    db = Path(settings.data_dir) / "state.sqlite"
    legacy_db(Path(settings.data_dir) / "audit.sqlite", 3)  # its own file, as before the migrations
    trail = AuditTrail.from_settings(settings)  # the migration moves the records into state.sqlite
    trail.append(entry(4))
    report = trail.verify()
    trail.close()
    assert report.ok and report.records == 4 and report.legacy_records == 3, report.summary()
    assert "3 unkeyed" in report.summary()
    found = rows(db)
    assert [r["version"] for r in found] == [1, 1, 1, 2]
    # the forger rewrites an unkeyed record and its plain chain: the keyed record after it no longer links
    found[1]["output"] = {"n": 99}
    prev = found[0]["hash"]
    for row in found[1:3]:
        row["prev_hash"] = prev
        row["hash"] = prev = plain_sha256(row)
    rewrite(db, found)
    broken = verify(settings)
    assert not broken.ok and broken.first_bad_seq == 4, broken.summary()


def test_an_unkeyed_record_after_keyed_ones_is_a_downgrade(settings, db: Path) -> None:  # type: ignore[no-untyped-def]
    found = rows(db)
    last = found[-1]
    last["version"] = 1
    last["hash"] = plain_sha256(last)
    rewrite(db, found)
    report = verify(settings, anchor=None)
    assert not report.ok and report.first_bad_seq == 5


# -- the commands ------------------------------------------------------------------------------------------
def test_verify_checks_the_latest_anchor_and_anchor_prints_a_signed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_AUDIT_KEY", KEY)
    settings = load_settings()
    trail = AuditTrail.from_settings(settings)
    for n in range(1, 4):
        trail.append(entry(n))
    trail.close()
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "checked against the anchor at record 3" in ok.output, ok.output
    printed = runner.invoke(app, ["audit", "anchor"])
    assert printed.exit_code == 0 and printed.output.strip().startswith("cpa1.3."), printed.output
    token = printed.output.strip()
    db = Path(settings.data_dir) / "state.sqlite"
    rewrite(db, rows(db)[:2])
    cut = runner.invoke(app, ["audit", "verify"])
    assert cut.exit_code == 1 and "anchor" in cut.output, cut.output
    assert runner.invoke(app, ["audit", "verify", "--anchor", token]).exit_code == 1


def test_the_anchor_file_stays_small_and_a_line_that_is_not_an_anchor_is_reported(tmp_path: Path) -> None:
    from copilot.audit.anchors import MAX_FILE_BYTES, AnchorFile, AuditAnchor
    from copilot.audit.keys import AuditKey

    key = AuditKey.of(KEY)
    anchors = AnchorFile(tmp_path / "audit.anchors.jsonl")
    for seq in range(1, 2000):
        anchors.save(AuditAnchor.sign(key, seq, f"{seq:064x}"))
    assert anchors.path.stat().st_size <= MAX_FILE_BYTES + 1000
    latest = anchors.read()
    assert latest.seq == 1999 and latest.problem(key) is None
    with anchors.path.open("a") as fh:
        fh.write('{"token": "cpa1.9999.forged"}\n')
    with pytest.raises(ValueError, match="not an anchor"):
        anchors.read()
