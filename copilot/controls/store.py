"""The exceptions scheduled controls track, and their runs, in the project's database (``copilot.state``).

One row per (control, key) in ``control_exceptions`` (``TrackedException`` in and out) and one row per run
in ``control_runs``. The store only reads and writes; what a run changes (new, worsened, closed) is decided
by the engine (``copilot.controls.engine``), which hands the store the rows to write in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, delete, func, select

from copilot.controls.model import SEVERITIES, ControlRun, Finding, TrackedException
from copilot.state.database import Store
from copilot.state.tables import ControlRunRow, ExceptionRow

__all__ = ["KEEP_RUNS", "ExceptionStore", "RunSummary"]

#: Runs kept per control (older ones are deleted as new ones are recorded): months of a run every two hours.
KEEP_RUNS = 1000


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps no time zone


def _tracked(row: ExceptionRow) -> TrackedException:
    return TrackedException(
        finding=Finding.model_validate(row.finding),
        state=row.state,  # type: ignore[arg-type] - written from ExceptionState only
        first_seen=_aware(row.first_seen),  # type: ignore[arg-type]
        last_seen=_aware(row.last_seen),  # type: ignore[arg-type]
        last_sent=_aware(row.last_sent),
        sent_severity=row.sent_severity,  # type: ignore[arg-type]
        sent_score=row.sent_score,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=_aware(row.acknowledged_at),
        snoozed_until=_aware(row.snoozed_until),
        closed_at=_aware(row.closed_at),
    )


def _fill(row: ExceptionRow, item: TrackedException) -> None:
    finding = item.finding
    row.state = item.state
    row.severity = finding.severity
    row.score = finding.score
    row.finding = finding.model_dump(mode="json")
    row.first_seen = item.first_seen
    row.last_seen = item.last_seen
    row.last_sent = item.last_sent
    row.sent_severity = item.sent_severity
    row.sent_score = item.sent_score
    row.acknowledged_by = item.acknowledged_by
    row.acknowledged_at = item.acknowledged_at
    row.snoozed_until = item.snoozed_until
    row.closed_at = item.closed_at


class RunSummary(BaseModel):
    """A stored run, without its findings (``controls list``)."""

    control: str
    ran_at: datetime
    duration_s: float
    outcome: str
    findings: int
    new: int
    worsened: int
    closed: int
    error: str | None = None


class ExceptionStore(Store):
    """Tracked exceptions per (control, key) and the runs of each control (the latest ``keep_runs`` of each)."""

    keep_runs = KEEP_RUNS

    # -- exceptions ---------------------------------------------------------------------------------
    def tracked(self, control: str) -> dict[str, TrackedException]:
        """The exceptions of ``control`` not closed, by key (a closed one found again is new: ``save`` reuses its
        row), so a run reads what is open however many were closed before."""
        with self.db.session() as session:
            rows = session.scalars(
                select(ExceptionRow).where(ExceptionRow.control == control, ExceptionRow.state != "closed")
            ).all()
            return {row.key: _tracked(row) for row in rows}

    def get(self, control: str, key: str) -> TrackedException | None:
        """One exception, or None."""
        with self.db.session() as session:
            row = session.get(ExceptionRow, (control, key))
            return _tracked(row) if row is not None else None

    def save(self, items: Iterable[TrackedException]) -> None:
        """Insert or update these exceptions (one transaction)."""
        items = list(items)
        with self.db.session() as session, session.begin():
            rows: dict[tuple[str, str], ExceptionRow] = {}
            for control in {item.finding.control for item in items}:  # one read per control, not one per item
                keys = [item.finding.key for item in items if item.finding.control == control]
                for start in range(0, len(keys), 500):
                    found = session.scalars(
                        select(ExceptionRow).where(
                            ExceptionRow.control == control, ExceptionRow.key.in_(keys[start : start + 500])
                        )
                    )
                    rows.update(((row.control, row.key), row) for row in found)
            for item in items:
                row = rows.get((item.finding.control, item.finding.key))
                if row is None:
                    row = rows[(item.finding.control, item.finding.key)] = ExceptionRow(
                        control=item.finding.control, key=item.finding.key
                    )
                    session.add(row)
                _fill(row, item)

    def search(
        self,
        *,
        state: str | None = None,
        control: str | None = None,
        severity: str | None = None,
        limit: int = 500,
    ) -> list[TrackedException]:
        """Exceptions, worst first then oldest first; ``None`` filters nothing."""
        query = select(ExceptionRow)
        if state is not None:
            query = query.where(ExceptionRow.state == state)
        if control is not None:
            query = query.where(ExceptionRow.control == control)
        if severity is not None:
            query = query.where(ExceptionRow.severity == severity)
        worst = case({name: rank for rank, name in enumerate(SEVERITIES)}, value=ExceptionRow.severity, else_=99)
        query = query.order_by(worst, ExceptionRow.score.desc(), ExceptionRow.first_seen.asc()).limit(limit)
        with self.db.session() as session:
            return [_tracked(row) for row in session.scalars(query).all()]

    def counts(self, state: str = "open") -> dict[tuple[str, str], int]:
        """How many exceptions are in ``state``, by (control, severity)."""
        query = (
            select(ExceptionRow.control, ExceptionRow.severity, func.count())
            .where(ExceptionRow.state == state)
            .group_by(ExceptionRow.control, ExceptionRow.severity)
        )
        with self.db.session() as session:
            return {(c, s): int(n) for c, s, n in session.execute(query).all()}

    def oldest(self, state: str = "open") -> dict[str, datetime]:
        """The first-seen time of the oldest exception in ``state``, by control."""
        query = (
            select(ExceptionRow.control, func.min(ExceptionRow.first_seen))
            .where(ExceptionRow.state == state)
            .group_by(ExceptionRow.control)
        )
        with self.db.session() as session:
            return {c: _aware(t) for c, t in session.execute(query).all() if t is not None}  # type: ignore[misc]

    # -- runs ---------------------------------------------------------------------------------------
    def record_run(self, run: ControlRun, *, outcome: str = "ok", error: str | None = None) -> None:
        """Keep one run: its time, duration, counts and (as JSON) its findings and deliveries."""
        changes = [d.change for d in run.deliveries]
        result: dict[str, Any] = run.model_dump(mode="json")
        with self.db.session() as session, session.begin():
            session.add(
                ControlRunRow(
                    control=run.control,
                    ran_at=run.ran_at,
                    duration_s=run.duration_s,
                    outcome=outcome,
                    findings_count=len(run.findings),
                    new_count=changes.count("new"),
                    worsened_count=changes.count("worsened"),
                    closed_count=len(run.closed),
                    error=error,
                    result=result,
                )
            )
            session.flush()
            oldest_kept = session.scalars(
                select(ControlRunRow.id)
                .where(ControlRunRow.control == run.control)
                .order_by(ControlRunRow.id.desc())
                .offset(self.keep_runs - 1)
                .limit(1)
            ).first()
            if oldest_kept is not None:
                session.execute(
                    delete(ControlRunRow).where(ControlRunRow.control == run.control, ControlRunRow.id < oldest_kept)
                )

    def run_count(self, control: str) -> int:
        """How many runs of ``control`` are kept."""
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).where(ControlRunRow.control == control)) or 0)

    def last_runs(self) -> dict[str, RunSummary]:
        """The latest run of each control that ran."""
        latest = select(ControlRunRow.control, func.max(ControlRunRow.id).label("id")).group_by(ControlRunRow.control)
        ids = latest.subquery()
        query = select(ControlRunRow).join(ids, ControlRunRow.id == ids.c.id)
        with self.db.session() as session:
            return {
                row.control: RunSummary(
                    control=row.control,
                    ran_at=_aware(row.ran_at),  # type: ignore[arg-type]
                    duration_s=row.duration_s,
                    outcome=row.outcome,
                    findings=row.findings_count,
                    new=row.new_count,
                    worsened=row.worsened_count,
                    closed=row.closed_count,
                    error=row.error,
                )
                for row in session.scalars(query).all()
            }
