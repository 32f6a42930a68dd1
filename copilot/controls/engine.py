"""The controls engine: run a control, track its exceptions, send only what is new or worse, close what is gone.

What a run decides for each finding (``reconcile``, a pure function of the stored exceptions, the findings,
"now" and the worsen margin):

- not tracked, or closed before: **new**, opened and sent;
- open, never sent (a ``--no-notify`` run, a sink that failed): sent as **new**;
- open, worse than what was last sent (a worse severity, or a score above the last sent score plus the
  control's ``worsen_margin``): sent as **worsened**; otherwise nothing is sent (no daily re-send of the same list);
- **acknowledged**: never re-sent for the same problem, however its score creeps. Only a worse *severity* than
  the one acknowledged reopens it (open again, sent as worsened): a person who acknowledged a medium late PO
  hears about it again if it becomes critical, not every day it gets a little later;
- **snoozed**: silent until ``snoozed_until`` (even if it worsens); after that it is open again and sent once
  more as new (the reminder the snooze asked for);
- open, acknowledged or snoozed keys this run did not find: **closed** (unless the run was partial, e.g. in a
  person's companies only).

Deliveries are grouped per owner and handed to each ``ExceptionSink``; an exception is marked sent only when
every sink took its owner's digest (a failed sink means it is tried again on the next run). With no sink, the
exceptions are only tracked (visible through ``copilot controls``, ``/v1/exceptions``, the facade).

Concurrent runs of one control in one process take turns (a lock per control); runs of one control in two
processes at once (two ``copilot serve`` replicas without Celery) could both send: schedule controls in one
place (one replica, or ``copilot beat``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from copilot.controls.definitions import ControlDefinition, ControlsConfig
from copilot.controls.model import (
    SEVERITIES,
    ControlRun,
    Delivery,
    ExceptionMirror,
    ExceptionSink,
    Finding,
    TrackedException,
)
from copilot.controls.registry import ControlRegistry
from copilot.controls.store import ExceptionStore
from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.observability.controls import ControlMetrics
    from copilot.skills.base import SkillContext

__all__ = ["ControlEngine", "ExceptionNotFound", "InvalidSnooze", "Reconciled", "is_worse", "rank", "reconcile"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class ExceptionNotFound(CopilotError):
    """No tracked exception has this control and key."""


class InvalidSnooze(CopilotError):
    """A snooze that does not end in the future."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def rank(findings: Sequence[Finding]) -> list[Finding]:
    """Worst first: by severity, then by score (highest first), then by key; one finding per key (the worst)."""
    best: dict[str, Finding] = {}
    for finding in findings:
        kept = best.get(finding.key)
        if kept is None or (SEVERITIES.index(finding.severity), -finding.score) < (
            SEVERITIES.index(kept.severity),
            -kept.score,
        ):
            best[finding.key] = finding
    return sorted(best.values(), key=lambda f: (SEVERITIES.index(f.severity), -f.score, f.key))


def is_worse(finding: Finding, severity: str | None, score: float | None, margin: float) -> bool:
    """True when ``finding`` is worse than what was sent: a worse severity, or a score above ``score + margin``."""
    if severity is None:
        return True
    if SEVERITIES.index(finding.severity) < SEVERITIES.index(severity):  # type: ignore[arg-type]
        return True
    return score is not None and finding.score > score + margin + 1e-9


class Reconciled(BaseModel):
    """What one run changes: the exceptions to store, the deliveries to send, the keys closed, those opened."""

    items: list[TrackedException] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)
    closed: list[str] = Field(default_factory=list)
    opened: list[Finding] = Field(default_factory=list)


def reconcile(
    previous: Mapping[str, TrackedException],
    findings: Sequence[Finding],
    *,
    now: datetime,
    owner: str,
    margin: float,
    closes: bool = True,
) -> Reconciled:
    """Decide, for one control's run, what is new, worsened, unchanged, back from a snooze and closed."""
    out = Reconciled()
    found = set()
    for finding in findings:
        found.add(finding.key)
        old = previous.get(finding.key)
        if old is None or old.state == "closed":
            item = TrackedException(finding=finding, state="open", first_seen=now, last_seen=now)
            out.items.append(item)
            out.opened.append(finding)
            out.deliveries.append(Delivery(change="new", owner=owner, exception=item))
            continue
        item = old.model_copy(update={"finding": finding, "last_seen": now})
        change: str | None = None
        if old.state == "snoozed":
            if old.snoozed_until is not None and now < old.snoozed_until:
                out.items.append(item)
                continue
            # the snooze ran out: open again and sent once more, as if never sent
            item = item.model_copy(
                update={"state": "open", "snoozed_until": None, "sent_severity": None, "sent_score": None}
            )
            change = "new"
        elif old.state == "acknowledged":
            # the severity the person saw: the worse of the last sent and the last found before this run
            seen = min(SEVERITIES.index(old.finding.severity), SEVERITIES.index(old.sent_severity or "low"))
            if SEVERITIES.index(finding.severity) < seen:
                item = item.model_copy(update={"state": "open", "acknowledged_by": None, "acknowledged_at": None})
                change = "worsened"
        elif old.sent_severity is None:
            change = "new"
        elif is_worse(finding, old.sent_severity, old.sent_score, margin):
            change = "worsened"
        out.items.append(item)
        if change is not None:
            out.deliveries.append(Delivery(change=change, owner=owner, exception=item))  # type: ignore[arg-type]
    if closes:
        for key, old in previous.items():
            if key not in found and old.state != "closed":
                out.items.append(old.model_copy(update={"state": "closed", "closed_at": now}))
                out.closed.append(key)
    return out


class ControlEngine:
    """Runs controls on a context, keeps their exceptions in ``store``, sends deliveries to ``sinks``."""

    def __init__(
        self,
        store: ExceptionStore,
        *,
        registry: ControlRegistry,
        definitions: ControlsConfig,
        sinks: Sequence[ExceptionSink] = (),
        metrics: ControlMetrics | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.store = store
        self.registry = registry
        self.definitions = definitions
        #: Where deliveries go: the composition root's own list when given one (a sink appended to it later counts).
        self.sinks = sinks if isinstance(sinks, list) else list(sinks)
        self.metrics = metrics
        self.clock = clock
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()
        #: When each mirror's acknowledgements of each control were last read (in this process).
        self._pulled: dict[tuple[int, str], datetime] = {}

    def definition(self, name: str) -> ControlDefinition:
        """The definition of control ``name`` (``UnknownControl`` if no such control)."""
        self.registry.get(name)
        definition = self.definitions.controls.get(name)
        if definition is None:
            return ControlDefinition(schedule="0 7 * * *", owner="manager", enabled=False)
        return definition

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks[name]

    def run(
        self,
        ctx: SkillContext,
        name: str,
        *,
        notify: bool = True,
        closes: bool = True,
        scope: Mapping[str, Any] | None = None,
    ) -> ControlRun:
        """Run control ``name`` now: its ranked findings, what was sent (or would be, ``notify=False``), what closed.

        ``closes=False``: a partial run (e.g. in some companies only) closes nothing it did not see. ``scope``:
        thresholds that narrow this run (e.g. ``{"purchase_orders": ["P00009"]}`` when that PO's date changed),
        merged over the control's own; a scoped run is partial too.
        """
        if scope:
            closes = False
        control = self.registry.get(name)
        definition = self.definition(name)
        with self._lock(name):
            ran_at = self.clock()
            started = time.perf_counter()
            client = ctx.client
            trips = client.round_trips if client is not None else 0
            try:
                findings = rank(control.run(ctx, {**definition.thresholds, **(scope or {})}))
            except Exception as exc:
                seconds = time.perf_counter() - started
                failed = ControlRun(control=name, ran_at=ran_at, duration_s=seconds, findings=[], notified=False)
                self.store.record_run(failed, outcome="error", error=f"{type(exc).__name__}: {exc}"[:2000])
                if self.metrics is not None:
                    self.metrics.run(name, "error", seconds)
                raise
            trips = (client.round_trips - trips) if client is not None else None
            self._pull_acknowledgements(name)
            now = self.clock()
            plan = reconcile(
                self.store.tracked(name),
                findings,
                now=now,
                owner=definition.owner,
                margin=definition.worsen_margin,
                closes=closes,
            )
            sent = self._send(plan.deliveries, now) if notify else set()
            items = [self._mark_sent(item, now) if item.finding.key in sent else item for item in plan.items]
            deliveries = [
                d.model_copy(update={"exception": self._mark_sent(d.exception, now)})
                if d.exception.finding.key in sent
                else d
                for d in plan.deliveries
            ]
            self.store.save(items)
            seconds = time.perf_counter() - started
            run = ControlRun(
                control=name,
                ran_at=ran_at,
                duration_s=round(seconds, 4),
                findings=findings,
                deliveries=deliveries,
                closed=plan.closed,
                odoo_round_trips=trips,
                notified=notify,
            )
            self.store.record_run(run)
            if plan.closed:  # not a notification: the mirror must not keep showing what is gone
                self._push_closed(name, plan.closed)
        if self.metrics is not None:
            self.metrics.run(name, "ok", seconds)
            self.metrics.changes(name, (f.severity for f in plan.opened), len(plan.closed))
            self.refresh_gauges([name])
        log.info(
            "control %s: %d finding(s), %d sent, %d closed in %.2fs",
            name,
            len(findings),
            len(sent),
            len(plan.closed),
            seconds,
        )
        return run

    # -- mirrors: Odoo's Exceptions menu, where people acknowledge too ------------------------------------
    def _mirrors(self) -> list[ExceptionMirror]:
        return [sink for sink in self.sinks if isinstance(sink, ExceptionMirror)]

    def _pull_acknowledgements(self, name: str) -> None:
        """Mark acknowledged here what people acknowledged in a mirror since the last run, when they did so after
        the exception was last sent (an older acknowledgement was of what it was before it got worse)."""
        for mirror in self._mirrors():
            mark = (id(mirror), name)
            pulled_at = self.clock()
            try:
                acks = mirror.acknowledged(name, self._pulled.get(mark))
            except Exception:  # the mirror is down: its acknowledgements are read at the next run
                log.exception("could not read the acknowledgements of %s from %s", name, type(mirror).__name__)
                continue
            self._pulled[mark] = pulled_at
            if not acks:
                continue
            tracked = self.store.tracked(name)  # one read for every acknowledgement
            updated = []
            for ack in acks:
                item = tracked.get(ack.key)
                if item is None or item.state not in ("open", "snoozed"):
                    continue
                if item.last_sent is not None and ack.acknowledged_at < item.last_sent.replace(microsecond=0):
                    continue
                who = f"{ack.acknowledged_by or 'someone'} (in Odoo)"
                updated.append(
                    item.model_copy(
                        update={
                            "state": "acknowledged",
                            "acknowledged_by": who,
                            "acknowledged_at": ack.acknowledged_at,
                            "snoozed_until": None,
                        }
                    )
                )
            if updated:
                self.store.save(updated)
                log.info("control %s: %d exception(s) acknowledged in Odoo", name, len(updated))

    def _push_closed(self, name: str, keys: Sequence[str]) -> None:
        for mirror in self._mirrors():
            try:
                mirror.closed(name, keys)
            except Exception:
                log.exception("could not close %d exception(s) of %s in %s", len(keys), name, type(mirror).__name__)

    @staticmethod
    def _mark_sent(item: TrackedException, now: datetime) -> TrackedException:
        return item.model_copy(
            update={"last_sent": now, "sent_severity": item.finding.severity, "sent_score": item.finding.score}
        )

    def _send(self, deliveries: Sequence[Delivery], now: datetime) -> set[str]:
        """Hand each owner's deliveries to every sink; the keys every sink took."""
        by_owner: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            by_owner[delivery.owner].append(delivery)
        sent: set[str] = set()
        for owner, group in by_owner.items():
            ok = True
            for sink in self.sinks:
                try:
                    sink.deliver(owner, group)
                except Exception:  # one sink's failure: tried again next run, the other sinks still get theirs
                    log.exception("sink %s failed to deliver %d exception(s) to %s", sink.name, len(group), owner)
                    ok = False
            if ok:
                sent.update(d.exception.finding.key for d in group)
        return sent

    # -- a person's decisions ---------------------------------------------------------------------------
    def _existing(self, control: str, key: str) -> TrackedException:
        item = self.store.get(control, key)
        if item is None:
            raise ExceptionNotFound(f"no exception {key!r} of control {control!r}")
        return item

    def acknowledge(self, control: str, key: str, *, by: str) -> TrackedException:
        """Mark the exception acknowledged by ``by``: it is not sent again unless its severity gets worse."""
        with self._lock(control):
            item = self._existing(control, key)
            if item.state == "closed":
                raise ExceptionNotFound(f"exception {key!r} of control {control!r} is closed")
            item = item.model_copy(
                update={
                    "state": "acknowledged",
                    "acknowledged_by": by,
                    "acknowledged_at": self.clock(),
                    "snoozed_until": None,
                }
            )
            self.store.save([item])
        self.refresh_gauges([control])
        return item

    def snooze(self, control: str, key: str, until: datetime) -> TrackedException:
        """Silence the exception until ``until`` (aware, in the future); then it is sent again if still found."""
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if until <= self.clock():
            raise InvalidSnooze(f"snooze until a time in the future (not {until.isoformat()})")
        with self._lock(control):
            item = self._existing(control, key)
            if item.state == "closed":
                raise ExceptionNotFound(f"exception {key!r} of control {control!r} is closed")
            item = item.model_copy(update={"state": "snoozed", "snoozed_until": until})
            self.store.save([item])
        self.refresh_gauges([control])
        return item

    def exceptions(
        self, *, state: str | None = "open", control: str | None = None, severity: str | None = None
    ) -> list[TrackedException]:
        """Tracked exceptions, worst first (``None`` filters nothing)."""
        if control is not None:
            self.registry.get(control)
        return self.store.search(state=state, control=control, severity=severity)

    def refresh_gauges(self, controls: Sequence[str] | None = None) -> None:
        """Set the open-exception gauges from the store (every registered control by default)."""
        if self.metrics is None:
            return
        names = list(controls) if controls is not None else self.registry.names()
        self.metrics.open_now(names, self.store.counts("open"), self.store.oldest("open"), self.clock())
