"""The audit trail: one append-only table, each record chained to the previous one by a keyed hash.

A record's ``hash`` is the HMAC-SHA256, with the audit key (``copilot.audit.keys``: ``COPILOT_AUDIT_KEY``
or a key file, never in the database), of the canonical JSON (sorted keys, no spaces, UTF-8) of all its
fields, ``seq``, ``version`` and ``prev_hash`` included; ``prev_hash`` is the previous record's hash (64
zeros for the first). Without the key nobody can recompute a hash, so an edited record no longer matches,
even when the editor dropped the triggers and rebuilt the chain. Deleting a record leaves a gap in ``seq``
and a ``prev_hash`` that points nowhere; reordering changes both. ``verify()`` finds the first such record.

Removing the last records leaves a shorter chain: after each append the trail signs its head
(``copilot.audit.anchors``), keeps the latest anchor beside the database and writes one to the log every
``COPILOT_AUDIT_ANCHOR_INTERVAL`` seconds; ``verify()`` checks the latest anchor by default, and any
anchor copied from the log with ``verify(anchor=...)``.

Records written before keying (``version`` 1) keep their plain SHA-256; the first keyed record after them
covers the last one's hash, so rewriting them breaks that link. An unkeyed record after a keyed one is
reported as a downgrade.

Everything is redacted with ``copilot.guardrails.pii.redact_obj`` before it is hashed and stored; the
raw input is only hashed. E-mail addresses and phone numbers in the actor become stable pseudonyms
(``email:<EMAIL:1a2b3c4d5e6f>``), so ``records(actor="email:jane@example.com")`` still finds that person.
Triggers (SQLite and PostgreSQL, made by the migrations) refuse ``UPDATE`` and ``DELETE`` on the table; the
class has no method for either. On PostgreSQL each append holds an advisory lock: one writer extends the chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from copilot.audit.anchors import ANCHOR_FILE, AnchorFile, AuditAnchor, BadAnchor
from copilot.audit.keys import KEY_FILE, AuditKey, key_file, load_audit_key
from copilot.audit.schemas import AuditEntry, AuditRecord, ChainReport, ToolCall, Verdict
from copilot.config import Settings
from copilot.guardrails.pii import find_pii, redact_obj
from copilot.state.database import Database
from copilot.state.tables import AUDIT_LEGACY_VERSION, AuditRow

__all__ = [
    "AUDIT_FILE",
    "GENESIS_HASH",
    "KEYED",
    "LEGACY",
    "AuditRow",
    "AuditTrail",
    "canonical_json",
    "entry_from_result",
    "keyed_digest",
]

log = logging.getLogger("copilot.audit")

#: The SQLite file that held the trail before it moved into the project's database (migration 0002).
AUDIT_FILE = "audit.sqlite"
#: ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64
#: ``version`` of a record hashed with plain SHA-256 (written before the chain was keyed).
LEGACY = AUDIT_LEGACY_VERSION
#: ``version`` of a record hashed with HMAC-SHA256 and the audit key.
KEYED = 2
#: Seconds between anchors written to the log when the settings do not say.
ANCHOR_INTERVAL = 300.0
#: Attempts to append when another writer took the same place in the chain.
_APPEND_ATTEMPTS = 20

_HASHED_FIELDS = (
    "seq", "request_id", "created_at", "actor", "actor_role", "channel", "skill", "input_hash", "prompt", "model",
    "tool_calls", "verdicts", "output", "proposals", "approval_ids", "error", "duration_ms", "prev_hash",
)  # fmt: skip


#: PostgreSQL advisory lock taken by each append: one writer at a time extends the chain, across processes.
_APPEND_LOCK = 0x636F70696C6F7402


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text, no NaN: the same data always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)


def _digest(fields: dict[str, Any]) -> str:
    """The plain SHA-256 of a version-1 (unkeyed) record."""
    return hashlib.sha256(canonical_json({k: fields[k] for k in _HASHED_FIELDS}).encode("utf-8")).hexdigest()


def keyed_digest(key: AuditKey | bytes | str, fields: dict[str, Any]) -> str:
    """The HMAC-SHA256 with ``key`` of a keyed record's fields (``version`` included)."""
    payload = {k: fields[k] for k in _HASHED_FIELDS} | {"version": fields.get("version", KEYED)}
    return AuditKey.of(key).mac(canonical_json(payload).encode("utf-8"))


def _pseudonymize(actor: str) -> str:
    """E-mail addresses and phone numbers in an actor id become stable pseudonyms (the same person, the same
    pseudonym), so the trail can be searched by person without holding their address."""
    out, pos = [], 0
    for span in find_pii(actor, kinds=("email", "phone")):
        key = re.sub(r"\s", "", span.text.lower())
        out.append(actor[pos : span.start] + f"<{span.kind.upper()}:{hashlib.sha256(key.encode()).hexdigest()[:12]}>")
        pos = span.end
    return "".join(out) + actor[pos:]


def _record(row: AuditRow) -> AuditRecord:
    created = datetime.fromisoformat(row.created_at)
    return AuditRecord(
        seq=row.seq,
        request_id=row.request_id,
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        actor=row.actor,
        actor_role=row.actor_role,
        channel=row.channel,
        skill=row.skill,
        input_hash=row.input_hash,
        prompt=row.prompt,
        model=row.model,
        tool_calls=row.tool_calls or [],
        verdicts=row.verdicts or [],
        output=row.output,
        proposals=row.proposals or [],
        approval_ids=row.approval_ids or [],
        error=row.error,
        duration_ms=row.duration_ms,
        prev_hash=row.prev_hash,
        hash=row.hash,
        version=row.version,
    )


def _fields(row: AuditRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _HASHED_FIELDS} | {"version": row.version}


def _anchor_problem(
    wanted: list[_Expected], count: int, hashes: dict[int, str], plain: set[str]
) -> tuple[str | None, list[str]]:
    """The first anchor the walked chain does not hold, and the anchors it does hold."""
    checked: list[str] = []
    for expected in wanted:
        if expected.seq == 0:
            if expected.head_hash in plain:
                continue
            return f"{expected.text} is not in the chain (records after it were removed or rewritten)", checked
        if expected.seq > count:
            return (
                f"the trail ends at record {count} but {expected.text} names record {expected.seq}: "
                "the records after it were removed"
            ), checked
        if hashes.get(expected.seq) != expected.head_hash:
            return f"record {expected.seq} is not the one {expected.text} names (rewritten)", checked
        checked.append(expected.text)
    return None, checked


@dataclass(frozen=True)
class _Expected:
    """An anchor to check: record ``seq`` has ``head_hash`` (``seq`` 0: a bare hash anywhere in the chain)."""

    seq: int
    head_hash: str
    text: str


class AuditTrail:
    """The append-only, keyed hash-chained audit trail (table ``audit_records`` of the project's database).

    ``key``: the audit key; unset, ``audit.key`` beside a SQLite file (made on first use), or a key for this
    process only with an in-memory database. ``anchor_file``: where the signed heads are appended; unset,
    ``audit.anchors.jsonl`` beside a SQLite file (none in memory). ``anchor_interval``: seconds between
    anchors written to the log (0: after every record).
    """

    def __init__(
        self,
        db: Database,
        *,
        key: AuditKey | bytes | str | None = None,
        anchor_file: Path | None = None,
        anchor_interval: float = ANCHOR_INTERVAL,
    ) -> None:
        self.db = db
        self._owns_db = False
        database = db.sqlite_file
        if key is not None:
            self.key = AuditKey.of(key)
        elif database is not None:
            self.key = key_file(database.with_name(KEY_FILE))
        elif db.dialect == "sqlite":
            self.key = AuditKey.ephemeral()
        else:
            raise ValueError("an audit trail outside SQLite needs its key (COPILOT_AUDIT_KEY)")
        if anchor_file is None and database is not None:
            anchor_file = database.with_name(ANCHOR_FILE)
        self.anchors = AnchorFile(anchor_file) if anchor_file is not None else None
        self.anchor_interval = anchor_interval
        self._unlogged: AuditAnchor | None = None
        self._logged_at: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> AuditTrail:
        """The trail in ``db`` (default: the configured database, opened for this trail and closed by ``close``),
        keyed with ``COPILOT_AUDIT_KEY`` (else the key file beside the SQLite file, or in the data dir), its
        anchors beside the key."""
        owned = db is None
        db = db if db is not None else Database.from_settings(settings)
        database = db.sqlite_file
        folder = database.parent if database is not None else Path(settings.data_dir).expanduser()
        try:
            trail = cls(
                db,
                key=load_audit_key(settings, folder / KEY_FILE),
                anchor_file=folder / ANCHOR_FILE,
                anchor_interval=settings.audit_anchor_interval,
            )
        except BaseException:
            if owned:
                db.close()
            raise
        trail._owns_db = owned
        return trail

    # -- writing ---------------------------------------------------------------------------------------
    def append(self, entry: AuditEntry, *, at: datetime | None = None) -> AuditRecord:
        """Redact ``entry``, chain it to the last record and store it; returns the stored record."""
        data = entry.model_dump(mode="json", exclude={"input_text"})
        content: dict[str, Any] = json.loads(canonical_json(redact_obj({
            k: data[k] for k in ("tool_calls", "verdicts", "output", "proposals", "approval_ids", "error")
        })))  # fmt: skip
        content.update(
            request_id=data["request_id"],
            created_at=(at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds"),
            actor=_pseudonymize(data["actor"]),
            actor_role=data["actor_role"],
            channel=data["channel"],
            skill=data["skill"],
            input_hash=data["input_hash"],
            prompt=data["prompt"],
            model=redact_obj(data["model"]),
            duration_ms=data["duration_ms"],
        )
        last_error: Exception | None = None
        with self._lock:
            for _ in range(_APPEND_ATTEMPTS):
                try:
                    with self.db.session() as session, session.begin():
                        if self.db.dialect == "postgresql":  # serialized append: no retry storm across replicas
                            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
                        last = session.execute(
                            select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
                        ).first()
                        fields = {
                            **content,
                            "seq": last.seq + 1 if last else 1,
                            "prev_hash": last.hash if last else GENESIS_HASH,
                            "version": KEYED,
                        }
                        row = AuditRow(**fields, hash=keyed_digest(self.key, fields))
                        session.add(row)
                        session.flush()
                        record = _record(row)
                except (IntegrityError, OperationalError) as exc:  # another process took this place: read again
                    last_error = exc
                    continue
                self._anchor(record.seq, record.hash)
                return record
        raise RuntimeError(f"could not append to the audit trail: {last_error}")

    # -- anchors ---------------------------------------------------------------------------------------
    def _anchor(self, seq: int, head_hash: str) -> None:
        """Sign the new head: into the anchor file always, into the log when the interval has passed."""
        self._unlogged = anchor = AuditAnchor.sign(self.key, seq, head_hash)
        if self.anchors is not None:
            try:
                self.anchors.save(anchor)
            except OSError as exc:
                log.error("the audit anchor could not be written to %s: %s", self.anchors.path, exc)
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at >= self.anchor_interval:
            self._log_anchor(anchor)

    def _log_anchor(self, anchor: AuditAnchor) -> None:
        self._logged_at, self._unlogged = time.monotonic(), None
        log.info("audit anchor %s", anchor.token())

    def anchor(self) -> AuditAnchor | None:
        """Sign the current head now (the anchor file restarts from it; the log); ``None`` for an empty trail."""
        with self.db.session() as session:
            last = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
        if last is None:
            return None
        anchor = AuditAnchor.sign(self.key, last.seq, last.hash)
        if self.anchors is not None:
            self.anchors.save(anchor, compact=True)
        self._log_anchor(anchor)
        return anchor

    def record_request(
        self,
        *,
        actor: Any,
        skill: str,
        input_hash: str = "",
        input_text: str | None = None,
        result: Any = None,
        error: BaseException | None = None,
        seconds: float | None = None,
        tool_calls: Sequence[Any] = (),
        verdicts: Sequence[Verdict | dict[str, Any]] = (),
    ) -> AuditRecord:
        """Append the record of one request from what a service knows (see ``entry_from_result``)."""
        return self.append(
            entry_from_result(
                actor=actor,
                skill=skill,
                input_hash=input_hash,
                input_text=input_text,
                result=result,
                error=error,
                seconds=seconds,
                tool_calls=tool_calls,
                verdicts=verdicts,
            )
        )

    # -- reading ---------------------------------------------------------------------------------------
    def records(
        self,
        since: datetime | None = None,
        actor: str | None = None,
        limit: int | None = None,
        skill: str | None = None,
    ) -> list[AuditRecord]:
        """Records in chain order; with ``limit``, the most recent ``limit`` of those that match."""
        query = select(AuditRow)
        if since is not None:
            stamp = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
            query = query.where(AuditRow.created_at >= stamp.isoformat(timespec="microseconds"))
        if actor is not None:
            query = query.where(AuditRow.actor == _pseudonymize(actor))
        if skill is not None:
            query = query.where(AuditRow.skill == skill)
        if limit is not None:
            query = query.order_by(AuditRow.seq.desc()).limit(max(limit, 0))
        else:
            query = query.order_by(AuditRow.seq)
        with self.db.session() as session:
            rows = [_record(r) for r in session.scalars(query)]
        return sorted(rows, key=lambda r: r.seq)

    def iter_records(self, batch: int = 500) -> Iterator[AuditRecord]:
        """Every record in chain order, read in batches (for export)."""
        after = 0
        while True:
            with self.db.session() as session:
                rows = session.scalars(
                    select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
                ).all()
                records = [_record(r) for r in rows]
            if not records:
                return
            yield from records
            after = records[-1].seq

    def export_jsonl(self, out: IO[str]) -> int:
        """Write every record as one JSON object per line; returns how many."""
        count = 0
        for record in self.iter_records():
            out.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count

    def _hashed_rows(self, batch: int = 500) -> Iterator[tuple[dict[str, Any], str]]:
        after = 0
        while True:
            with self.db.session() as session:
                rows = session.scalars(
                    select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
                ).all()
                found = [(_fields(r), r.hash) for r in rows]
            if not found:
                return
            yield from found
            after = found[-1][0]["seq"]

    def verify(self, *, anchor: str | None = None, stored_anchor: bool = True) -> ChainReport:
        """Walk the chain from the first record: each hash recomputed (keyed ones with the audit key), each
        link and sequence number checked, then the end of the chain against anchors.

        ``anchor``: a signed anchor (``cpa1...``, e.g. from the log) or a head hash printed by an earlier
        ``verify``: it must still be in the chain. ``stored_anchor``: also check the latest anchor kept beside
        the trail (a keyed trail whose anchor file is missing is reported).
        """
        expected_seq, prev_hash, count, legacy, keyed = 1, GENESIS_HASH, 0, 0, False
        hashes: dict[int, str] = {}
        plain: set[str] = set()
        wanted = self._wanted(anchor, stored_anchor)
        anchor_problem = wanted if isinstance(wanted, str) else None
        wanted = [] if isinstance(wanted, str) else wanted
        for fields, stored_hash in self._hashed_rows():
            seq = fields["seq"]
            problem = self._record_problem(fields, stored_hash, keyed)
            if problem is None and seq != expected_seq:
                gap = f"record {expected_seq}" if seq == expected_seq + 1 else f"records {expected_seq}-{seq - 1}"
                problem = f"{gap} before it is missing (deleted)"
            elif problem is None and fields["prev_hash"] != prev_hash:
                problem = "its prev_hash is not the hash of the record before it (deleted or reordered)"
            if problem is not None:
                return ChainReport(
                    ok=False, records=count, head_hash=prev_hash if count else None, first_bad_seq=seq,
                    first_bad_request_id=fields["request_id"], problem=problem, legacy_records=legacy,
                )  # fmt: skip
            keyed = keyed or fields["version"] == KEYED
            legacy += fields["version"] == LEGACY
            if any(a.seq == seq for a in wanted):
                hashes[seq] = stored_hash
            if any(a.seq == 0 and a.head_hash == stored_hash for a in wanted):
                plain.add(stored_hash)
            prev_hash, expected_seq, count = stored_hash, seq + 1, count + 1
        head = prev_hash if count else None
        if anchor_problem is not None:  # the chain itself holds: now say why the anchor cannot be used
            return ChainReport(ok=False, records=count, head_hash=head, problem=anchor_problem, legacy_records=legacy)
        problem, checked = _anchor_problem(wanted, count, hashes, plain)
        if problem is not None:
            return ChainReport(ok=False, records=count, head_hash=head, problem=problem, legacy_records=legacy)
        if stored_anchor and keyed and self.anchors is not None and not self.anchors.exists():
            return ChainReport(
                ok=False, records=count, head_hash=head, legacy_records=legacy,
                problem=f"the anchor file {self.anchors.path} is missing: records at the end may have been "
                "removed (check an anchor from the log with --anchor, then `copilot audit anchor`)",
            )  # fmt: skip
        return ChainReport(ok=True, records=count, head_hash=head, legacy_records=legacy, anchors=checked)

    def _record_problem(self, fields: dict[str, Any], stored_hash: str, keyed_before: bool) -> str | None:
        version = fields["version"]
        if version == KEYED:
            if keyed_digest(self.key, fields) != stored_hash:
                return (
                    "its content does not match its hash (the record was edited or moved, or written with another key)"
                )
            return None
        if version == LEGACY:
            if keyed_before:
                return "an unkeyed record after keyed ones (a keyed record was replaced: downgrade)"
            if _digest(fields) != stored_hash:
                return "its content does not match its hash (the record was edited or moved)"
            return None
        return f"unknown record version {version!r}"

    def _wanted(self, anchor: str | None, stored: bool) -> list[_Expected] | str:
        """The anchors to check (a signed one must verify with the key), or why one cannot be used."""
        wanted: list[_Expected] = []
        if anchor is not None:
            text = anchor.strip()
            if text.startswith("cpa"):
                try:
                    signed = AuditAnchor.parse(text)
                except BadAnchor as exc:
                    return str(exc)
                problem = signed.problem(self.key)
                if problem is not None:
                    return problem
                wanted.append(_Expected(signed.seq, signed.head_hash, signed.describe()))
            else:
                wanted.append(_Expected(0, text, f"the anchor {text}"))
        if stored and self.anchors is not None and self.anchors.exists():
            try:
                kept = self.anchors.read()
            except BadAnchor as exc:
                return str(exc)
            problem = kept.problem(self.key)
            if problem is not None:
                return f"{problem} ({self.anchors.path})"
            wanted.append(_Expected(kept.seq, kept.head_hash, kept.describe()))
        return wanted

    def count(self) -> int:
        """How many records the trail holds."""
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)

    def close(self) -> None:
        """Write the last head's anchor to the log (if not yet there); close the database if the trail opened it."""
        with self._lock:
            if self._unlogged is not None:
                self._log_anchor(self._unlogged)
        if self._owns_db:
            self.db.close()


# -- building an entry from a skill's result --------------------------------------------------------------
def _model_of(engine: str | None) -> str:
    if engine and "llm:" in engine:
        return engine.split("llm:", 1)[1] or "unknown"
    return "deterministic"


def _verdicts_of(result: Any, error: BaseException | None) -> list[Verdict]:
    found: list[Verdict] = []
    grounding = getattr(result, "grounding", None)
    if grounding is not None and hasattr(grounding, "grounded"):
        found.append(Verdict(check="grounding", ok=bool(grounding.grounded), detail=grounding.summary()))
    engine = str(getattr(result, "engine", "") or "")
    reason = getattr(result, "fallback_reason", None) or getattr(result, "llm_fallback_reason", None)
    if reason:
        leak = "leak" in reason
        found.append(Verdict(check="exfiltration" if leak else "llm_fallback", ok=False, detail=str(reason)))
    elif "llm:" in engine and grounding is not None:
        found.append(Verdict(check="exfiltration", ok=True, detail="the model's text passed the check"))
    if getattr(result, "flagged_input", False):
        found.append(Verdict(check="injection", ok=False, detail="the input showed attack signs"))
    if getattr(result, "not_allowed", False):
        found.append(Verdict(check="authorization", ok=False, detail="the role may not read what this needs"))
    if error is not None:
        found.append(Verdict(check=type(error).__name__, ok=False, detail=str(error)))
    return found


def entry_from_result(
    *,
    actor: Any,
    skill: str,
    result: Any = None,
    input_text: str | None = None,
    input_hash: str = "",
    error: BaseException | None = None,
    seconds: float | None = None,
    tool_calls: Sequence[Any] = (),
    verdicts: Sequence[Verdict | dict[str, Any]] = (),
) -> AuditEntry:
    """An ``AuditEntry`` from a skill's result (a pydantic model): its prompt, engine, the model's tool calls,
    grounding and fallback verdicts, and for a proposal outcome its decision and approval request id.

    ``actor``: a ``copilot.identity.Actor`` (its ``key``, ``role`` and ``channel`` are used) or a string.
    ``tool_calls``: what ``capture_tool_calls`` collected (the Odoo calls); ``verdicts``: any others.
    """
    if isinstance(actor, str):
        actor_id, role, channel = actor, None, actor.split(":", 1)[0] if ":" in actor else "unknown"
    else:
        actor_id = str(getattr(actor, "key", actor))
        role = getattr(actor, "role", None)
        channel = str(getattr(actor, "channel", "unknown"))
    calls = [c if isinstance(c, ToolCall) else ToolCall.model_validate(c) for c in tool_calls]
    for call in getattr(result, "tool_calls", None) or []:
        if isinstance(call, dict):
            calls.append(ToolCall(kind="llm_tool", name=str(call.get("name", "?")), arguments=call.get("args")))
    proposals: list[Any] = []
    approval_ids: list[int | str] = []
    decision = getattr(result, "decision", None)
    if decision is not None:
        proposals.append({"decision": decision})
    request = getattr(result, "request", None)
    if request is not None and getattr(request, "id", None) is not None:
        approval_ids.append(request.id)
    for proposal in getattr(result, "proposals", None) or []:
        proposals.append(proposal)
    return AuditEntry(
        actor=actor_id,
        actor_role=str(role) if role is not None else None,
        channel=channel,
        skill=skill,
        input_text=input_text,
        input_hash=input_hash,
        prompt=getattr(result, "prompt", None),
        model=_model_of(getattr(result, "engine", None)),
        tool_calls=calls,
        verdicts=[*(v if isinstance(v, Verdict) else Verdict.model_validate(v) for v in verdicts),
                  *_verdicts_of(result, error)],
        output=result,
        proposals=proposals,
        approval_ids=approval_ids,
        error=f"{type(error).__name__}: {error}" if error is not None else None,
        duration_ms=round(seconds * 1000) if seconds is not None else None,
    )  # fmt: skip
