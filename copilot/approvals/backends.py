"""Where approval requests live: the project's addon (primary; the sandbox implements the same model)
or Enterprise's ``approval.request``. One interface: submit a proposal, read requests back.

``submit`` is idempotent: the proposal's idempotency key finds an existing request first, and a
unique constraint in Odoo settles a race between two submitters. The agent credential only ever
reads and creates here.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from copilot.approvals.binding import payload_hash
from copilot.approvals.policy import Decision, Mode
from copilot.approvals.schemas import Proposal, RequestState, RiskTier
from copilot.errors import ApprovalError, OdooError, OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools import _values as v

__all__ = ["AddonBackend", "ApprovalBackend", "EnterpriseBackend", "RequestRecord", "request_values"]

#: A request in these states does not stop the same proposal from being submitted again.
_RETRYABLE = frozenset({RequestState.FAILED, RequestState.EXPIRED})
REQUEST_FIELDS = [
    "name",
    "action_type",
    "state",
    "risk_tier",
    "res_model",
    "res_id",
    "res_name",
    "idempotency_key",
    "approvals_required",
    "requested_by_id",
    "decision_ids",
    "expires_at",
    "execution_outcome",
    "payload",
    "payload_hash",
    "write_date",
]


class RequestRecord(BaseModel):
    """An approval request as Odoo holds it."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    action_type: str
    state: RequestState
    risk_tier: RiskTier
    target_model: str
    target_id: int
    target_name: str | None
    idempotency_key: str
    approvals_required: int
    requested_by: str | None
    expires_at: datetime | None
    execution_outcome: str | None
    proposal: Proposal | None = Field(description="The proposal as submitted (None if the payload is not ours)")
    payload_hash: str | None = Field(
        default=None, description="SHA-256 of (action, target, payload), computed by Odoo: what the executor may run"
    )
    created: bool = Field(default=False, description="True when this submit created it (False: it already existed)")


class ApprovalBackend(Protocol):
    """Submit proposals as approval requests and read them back (agent credential)."""

    def submit(self, proposal: Proposal, decision: Decision) -> RequestRecord:
        """Create the request for ``proposal`` (or return the existing one with the same key)."""
        ...

    def get(self, request_id: int) -> RequestRecord:
        """One request by id."""
        ...

    def search(self, states: list[RequestState] | None = None, limit: int = 50) -> list[RequestRecord]:
        """Requests, newest first, optionally in some states."""
        ...


def _odoo_dt(value: datetime) -> str:
    return v.odoo_datetime(value)


def request_values(proposal: Proposal, decision: Decision) -> dict[str, Any]:
    """The addon's field values for ``proposal`` under ``decision``."""
    mode = decision.mode if decision.mode is not Mode.ADVISORY else Mode.APPROVAL
    payload = proposal.model_dump(mode="json")
    return {
        "name": proposal.title,
        "action_type": proposal.action_type.value,
        "res_model": proposal.target.model,
        "res_id": proposal.target.id,
        "res_name": proposal.target.display_name,
        "payload": payload,
        "payload_hash": payload_hash(proposal.action_type.value, proposal.target.model, proposal.target.id, payload),
        "target_snapshot": {"write_date": proposal.target.write_date, "expect": proposal.target.expect},
        "diff": "\n".join(f"{d.field}: {d.before} -> {d.after}" for d in proposal.diff),
        "amount": proposal.amount or 0.0,
        "risk_tier": decision.tier.value,
        "policy_mode": mode.value,
        "evidence": [e.model_dump(mode="json", exclude_none=True) for e in proposal.evidence],
        "source": proposal.source,
        "on_behalf_of": proposal.on_behalf_of or False,
        "idempotency_key": proposal.idempotency_key,
        "expires_at": _odoo_dt(decision.expires_at),
    }


def _record(row: dict[str, Any], created: bool = False) -> RequestRecord:
    payload = row.get("payload")
    try:
        proposal = Proposal.model_validate(payload) if isinstance(payload, dict) else None
    except ValueError:
        proposal = None
    requester = v.ref(row.get("requested_by_id"))
    return RequestRecord(
        id=row["id"],
        name=str(row.get("name") or ""),
        action_type=str(row.get("action_type") or ""),
        state=RequestState(row["state"]),
        risk_tier=RiskTier(row.get("risk_tier") or "low"),
        target_model=str(row.get("res_model") or ""),
        target_id=int(row.get("res_id") or 0),
        target_name=v.text(row.get("res_name")),
        idempotency_key=str(row.get("idempotency_key") or ""),
        approvals_required=int(row.get("approvals_required") or 1),
        requested_by=requester.name if requester else None,
        expires_at=v.when(row.get("expires_at")),
        execution_outcome=v.text(row.get("execution_outcome")),
        proposal=proposal,
        payload_hash=v.text(row.get("payload_hash")),
        created=created,
    )


class AddonBackend:
    """``copilot.approval.request`` from ``odoo_addons/<series>/copilot_approval`` (and the sandbox)."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self.model = client.approval_model

    def _find(self, key: str) -> RequestRecord | None:
        rows = self.client.search_read(self.model, [("idempotency_key", "=", key)], REQUEST_FIELDS, limit=1)
        return _record(rows[0]) if rows else None

    def submit(self, proposal: Proposal, decision: Decision) -> RequestRecord:
        """Create the request (one round trip to look, one to create); an existing key returns that request."""
        if not decision.creates_request:
            raise ApprovalError(f"{proposal.action_type.value} is advisory under the policy: no request is created")
        key = proposal.idempotency_key
        attempt = 1
        while (existing := self._find(key)) is not None:
            if existing.state not in _RETRYABLE:
                return existing  # pending, approved, running, done or refused: the same request
            attempt += 1  # failed or expired: proposing it again is a new request, the old one stays as record
            key = f"{proposal.idempotency_key}~{attempt}"
        values = request_values(proposal, decision) | {"idempotency_key": key}
        try:
            new_id = self.client.create_approval_request(values)
        except OdooError as exc:
            again = self._find(key)  # a concurrent submit won the unique constraint
            if again is not None:
                return again
            raise ApprovalError(f"Odoo refused the approval request: {exc}") from exc
        return self.get(new_id).model_copy(update={"created": True})

    def get(self, request_id: int) -> RequestRecord:
        """One request by id."""
        rows = self.client.read(self.model, [request_id], REQUEST_FIELDS)
        if not rows:
            raise OdooNotFound(f"no approval request with id {request_id}", model=self.model)
        return _record(rows[0])

    def search(self, states: list[RequestState] | None = None, limit: int = 50) -> list[RequestRecord]:
        """Requests, newest first."""
        domain = [("state", "in", [s.value for s in states])] if states else []
        rows = self.client.search_read(self.model, domain, REQUEST_FIELDS, limit=limit, order="id desc")
        return [_record(r) for r in rows]


class EnterpriseBackend:
    """Odoo Enterprise's Approvals app: one ``approval.category`` per action type, named
    ``Copilot: <action_type>``; the proposal travels as JSON in the request's reason, the idempotency
    key in ``reference``. Enterprise submits a request with ``action_confirm``, which the agent may not
    call: an Odoo automation rule on creation (or a person) submits it. Not verified against a live
    Enterprise database (none is available to the project)."""

    MODEL = "approval.request"

    def __init__(self, client: OdooClient) -> None:
        self.client = client

    def _category(self, proposal: Proposal) -> int:
        name = f"Copilot: {proposal.action_type.value}"
        rows = self.client.search_read("approval.category", [("name", "=", name)], ["name"], limit=1)
        if not rows:
            raise ApprovalError(f"no approval category {name!r} in Odoo: create it with its approvers first")
        return int(rows[0]["id"])

    def submit(self, proposal: Proposal, decision: Decision) -> RequestRecord:
        """Create the Enterprise request (the agent's client must allow ``approval.request``)."""
        if not decision.creates_request:
            raise ApprovalError(f"{proposal.action_type.value} is advisory under the policy: no request is created")
        rows = self.client.search_read(
            self.MODEL, [("reference", "=", proposal.idempotency_key)], ["name", "request_status"], limit=1
        )
        if rows:
            return self._as_record(rows[0]["id"], proposal, rows[0]["request_status"])
        diff = "".join(
            f"<li>{html.escape(d.field)}: {html.escape(d.before)} → {html.escape(d.after)}</li>" for d in proposal.diff
        )
        body = html.escape(json.dumps(proposal.model_dump(mode="json"), sort_keys=True))
        values = {
            "name": proposal.title,
            "category_id": self._category(proposal),
            "reference": proposal.idempotency_key,
            "amount": proposal.amount or 0.0,
            "reason": f"<ul>{diff}</ul><pre>{body}</pre>",
        }
        new_id = int(self.client.execute(self.MODEL, "create", values))
        return self._as_record(new_id, proposal, "new").model_copy(update={"created": True})

    def _as_record(self, rid: int, proposal: Proposal, status: str) -> RequestRecord:
        states = {
            "new": "pending",
            "pending": "pending",
            "approved": "approved",
            "refused": "refused",
            "cancel": "refused",
        }
        return RequestRecord(
            id=rid,
            name=proposal.title,
            action_type=proposal.action_type.value,
            state=RequestState(states.get(status, "pending")),
            risk_tier=proposal.risk_tier,
            target_model=proposal.target.model,
            target_id=proposal.target.id,
            target_name=proposal.target.display_name,
            idempotency_key=proposal.idempotency_key,
            approvals_required=1,
            requested_by=None,
            expires_at=None,
            execution_outcome=None,
            proposal=proposal,
        )

    def get(self, request_id: int) -> RequestRecord:
        """Enterprise requests are read in Odoo's Approvals app; the copilot only submits them."""
        raise ApprovalError("reading Enterprise approval requests back is not supported yet")

    def search(self, states: list[RequestState] | None = None, limit: int = 50) -> list[RequestRecord]:
        """See ``get``."""
        raise ApprovalError("listing Enterprise approval requests is not supported yet")
