"""The executor: its own process and Odoo credential; runs approved requests, each exactly once.

For each approved request it claims the request first (approved -> executing, a state change that
only one executor can make), re-checks the target (unchanged since the proposal), acts, and records
the outcome (executing -> executed | failed). A crash between acting and recording leaves the
request in ``executing``; the next run finds it and reconciles from what Odoo shows: the change is
there -> executed; it is not -> failed. It never acts twice. Refused requests need nothing; pending
ones past their expiry are closed as expired.

Before acting it recomputes the canonical hash of (action, target, payload) it is about to run and
refuses (records the request as failed, with the reason) a request whose stored hash differs, whose
payload changes another record than the request's target, or whose records do not belong to that
target. Several executors may run at once: a request another pass already claimed, expired or
finished is skipped, never an error; ``executing`` requests are reconciled only once their claim is
older than ``reconcile_after`` (another pass may still be acting on a younger one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.approvals.actions import ACTIONS, check_preconditions, executor_gate
from copilot.approvals.binding import binding_problem, payload_hash
from copilot.approvals.derive import PayloadRejected, derive
from copilot.approvals.schemas import Proposal
from copilot.config import Settings
from copilot.errors import ConfigError, OdooError
from copilot.odoo import OdooClient
from copilot.tools import _values as v

if TYPE_CHECKING:
    from copilot.observability import CopilotMetrics

__all__ = ["EXECUTOR_FIELDS", "Executor", "ExecutorReport", "Outcome", "executor_client"]

log = logging.getLogger(__name__)

#: What the executor reads of a request.
EXECUTOR_FIELDS = [
    "name", "state", "payload", "expires_at", "action_type", "res_model", "res_id", "payload_hash", "write_date",
    "create_date", "approved_date",
]  # fmt: skip
#: How long a claim is left to the pass that made it before another pass reconciles it.
RECONCILE_AFTER = timedelta(minutes=5)


class Outcome(BaseModel):
    """What happened to one request in a run."""

    model_config = ConfigDict(frozen=True)

    request_id: int
    name: str
    result: str = Field(description="executed, failed, reconciled_executed, reconciled_failed, expired, skipped")
    detail: str


class ExecutorReport(BaseModel):
    """One run of the executor."""

    outcomes: list[Outcome] = Field(default_factory=list)

    def count(self, result: str) -> int:
        """How many requests ended with ``result``."""
        return sum(1 for o in self.outcomes if o.result == result)


def executor_client(settings: Settings, *, url: str | None = None, db: str | None = None) -> OdooClient:
    """An Odoo client with the executor's own credential and allow-list (never the agent's)."""
    key = settings.executor_api_key
    secret = settings.executor_password or key
    if secret is None:
        raise ConfigError("COPILOT_EXECUTOR_PASSWORD: the executor needs its own Odoo credential")
    return OdooClient.connect(
        settings,
        url=url,
        db=db,
        login=settings.executor_login,
        secret=secret.get_secret_value(),
        api_key=key.get_secret_value() if key else None,
        gate=executor_gate(settings.approval_model),
        role=" (executor)",
    )


class Executor:
    """Runs approved requests once each; reconciles interrupted ones; expires stale ones."""

    def __init__(
        self,
        client: OdooClient,
        *,
        now: Callable[[], datetime],
        notify: Callable[[Outcome], None] | None = None,
        reconcile_after: timedelta | None = RECONCILE_AFTER,
        metrics: CopilotMetrics | None = None,
    ) -> None:
        self.client = client
        #: Outcomes by action type and the approval cycle time go here (``/metrics``); None: not recorded.
        self.metrics = metrics
        self._action_types: dict[int, str] = {}
        self.model = client.approval_model
        self._now = now
        self._notify = notify
        self._reconcile_after = reconcile_after
        self._wake = threading.Event()

    # -- transitions ------------------------------------------------------------------------------
    def _call(self, method: str, rid: int, *args: Any) -> None:
        self.client.execute(self.model, method, [rid], *args)

    def _claim(self, rid: int) -> bool:
        try:
            self._call("action_start_execution", rid)
        except OdooError as exc:  # another executor claimed it, or it changed state meanwhile
            log.info("executor: request %s not claimed: %s", rid, exc)
            return False
        return True

    def _finish(self, rid: int, name: str, result: str, detail: str) -> Outcome:
        method = "action_mark_executed" if result.endswith("executed") else "action_mark_failed"
        try:
            self._call(method, rid, detail)
        except OdooError as exc:  # another pass recorded it first (or it changed state meanwhile)
            log.warning("executor: request %s: %s not recorded: %s", rid, result, exc)
            detail = f"{detail} (not recorded: {exc})"
        outcome = Outcome(request_id=rid, name=name, result=result, detail=detail)
        log.info("executor: request %s %s: %s", rid, result, detail)
        if self._notify is not None:
            self._notify(outcome)
        return outcome

    # -- one run -----------------------------------------------------------------------------------
    def _requests(self, state: str) -> list[dict[str, Any]]:
        rows = self.client.search_read(self.model, [("state", "=", state)], EXECUTOR_FIELDS, order="id asc")
        for row in rows:
            self._action_types[row["id"]] = str(row.get("action_type") or "")
        return rows

    def _observe_cycle(self, row: dict[str, Any]) -> None:
        """The approval cycle time (creation to approval) of a request this pass claimed: once per request."""
        created, approved = v.when(row.get("create_date")), v.when(row.get("approved_date"))
        if self.metrics is not None and created is not None and approved is not None:
            seconds = (approved.replace(tzinfo=None) - created.replace(tzinfo=None)).total_seconds()
            self.metrics.approval_cycle_time(str(row.get("action_type") or ""), seconds)

    def _record(self, outcomes: list[Outcome]) -> None:
        if self.metrics is not None:
            for outcome in outcomes:
                self.metrics.executor_outcome(self._action_types.get(outcome.request_id, ""), outcome.result)
        self._action_types.clear()

    @staticmethod
    def _proposal(row: dict[str, Any]) -> Proposal | None:
        try:
            return Proposal.model_validate(row.get("payload"))
        except ValueError:
            return None

    def _claimed_long_ago(self, row: dict[str, Any]) -> bool:
        if self._reconcile_after is None:
            return True
        claimed = v.when(row.get("write_date"))
        now = self._now().replace(tzinfo=None)
        return claimed is None or claimed.replace(tzinfo=None) <= now - self._reconcile_after

    def reconcile(self) -> list[Outcome]:
        """Requests left in ``executing`` by an interrupted run: decided from what Odoo shows, never re-run."""
        out = []
        for row in self._requests("executing"):
            if not self._claimed_long_ago(row):
                continue  # another pass may be acting on it right now
            proposal = self._proposal(row)
            if proposal is None:
                out.append(self._finish(row["id"], row["name"], "reconciled_failed", "payload unreadable; not run"))
                continue
            if ACTIONS[proposal.action_type].applied(self.client, proposal.payload, proposal):
                detail = "the change is in Odoo: an interrupted run applied it (recorded after a restart)"
                out.append(self._finish(row["id"], row["name"], "reconciled_executed", detail))
            else:
                detail = "interrupted before the change was applied; not retried automatically: re-propose it"
                out.append(self._finish(row["id"], row["name"], "reconciled_failed", detail))
        return out

    def expire(self) -> list[Outcome]:
        """Pending requests past their expiry are closed without action."""
        out = []
        now = self._now().replace(tzinfo=None)
        for row in self._requests("pending"):
            expires = v.when(row.get("expires_at"))
            if expires is not None and expires.replace(tzinfo=None) <= now:
                try:
                    self._call("action_expire", row["id"])
                except OdooError as exc:  # another pass expired it, or a person decided meanwhile
                    detail = f"not expired here: {exc}"
                    out.append(Outcome(request_id=row["id"], name=row["name"], result="skipped", detail=detail))
                    continue
                out.append(Outcome(request_id=row["id"], name=row["name"], result="expired", detail="past its expiry"))
        return out

    def _binding_problem(self, row: dict[str, Any], proposal: Proposal) -> str | None:
        """Why what would run is not what was approved (None: it is)."""
        action, model, rid = str(row.get("action_type") or ""), str(row.get("res_model") or ""), row.get("res_id")
        stored = row.get("payload_hash")
        if not stored:
            return "the request has no payload hash (what was approved is unknown); nothing was done: re-propose it"
        if payload_hash(action, model, int(rid or 0), row.get("payload")) != stored:
            return "the payload hash does not match what was approved (the request was altered); nothing was done"
        problem = binding_problem(action, model, int(rid or 0), row.get("payload"))
        if problem is not None:
            return f"{problem}; nothing was done"
        try:
            derive(self.client, proposal.payload, (model, int(rid or 0)))
        except (PayloadRejected, OdooError) as exc:
            return f"{exc}; nothing was done"
        return None

    def execute(self, row: dict[str, Any]) -> Outcome:
        """Claim, re-check, act, record: one approved request."""
        rid, name = row["id"], row["name"]
        proposal = self._proposal(row)
        if not self._claim(rid):
            return Outcome(request_id=rid, name=name, result="skipped", detail="claimed by another executor")
        self._observe_cycle(row)
        if proposal is None:
            return self._finish(
                rid, name, "failed", "the request's payload is not a copilot proposal; nothing was done"
            )
        problem = self._binding_problem(row, proposal) or check_preconditions(self.client, proposal)
        if problem is not None:
            return self._finish(rid, name, "failed", problem)
        try:
            detail = ACTIONS[proposal.action_type].execute(self.client, proposal.payload, proposal)
        except OdooError as exc:
            return self._finish(rid, name, "failed", f"Odoo refused the change: {exc}")
        return self._finish(rid, name, "executed", detail)

    def run_once(self) -> ExecutorReport:
        """Reconcile, expire, then execute every approved request."""
        report = ExecutorReport()
        self._action_types.clear()  # a run that raised midway left its rows here
        report.outcomes += self.reconcile()
        report.outcomes += self.expire()
        for row in self._requests("approved"):
            report.outcomes.append(self.execute(row))
        self._record(report.outcomes)
        return report

    def wake(self) -> None:
        """Run now instead of at the next poll (an authenticated webhook from Odoo calls this)."""
        self._wake.set()

    def run_forever(self, interval: float, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds (or when woken) until ``stop`` is set; errors are logged, not fatal."""
        while not stop.is_set():
            try:
                self.run_once()
            except OdooError as exc:
                log.error("executor: run failed, retrying in %.0f s: %s", interval, exc)
            self._wake.wait(interval)
            self._wake.clear()
