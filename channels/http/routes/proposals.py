"""Approval requests: list and read them, submit a proposal under the approval policy.

A submitted proposal is rebuilt by the server (``copilot.approvals.derive``): the client names the
action and its target, the copilot reads Odoo and derives what people will decide on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from channels.http.auth import Client, Scope
from channels.http.deps import BackendDep, CopilotDep, IdempotencyDep, actor, require
from channels.http.schemas import ErrorResponse, ProposalList, ProposalSubmission, ProposalSubmitted
from copilot.approvals import RequestRecord, RequestState
from copilot.approvals.derive import PayloadRejected

router = APIRouter(prefix="/proposals", tags=["proposals"])


@router.get(
    "",
    response_model=ProposalList,
    summary="Approval requests, newest first",
    dependencies=[Depends(require(Scope.READ))],
)
def list_proposals(
    backend: BackendDep,
    state: Annotated[list[RequestState] | None, Query(description="Only requests in these states")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ProposalList:
    """The requests in Odoo with their state and outcome."""
    rows = backend.search(states=state, limit=limit)
    return ProposalList(data=rows, count=len(rows))


@router.get(
    "/{request_id}",
    response_model=RequestRecord,
    summary="One approval request: state, approvals, outcome",
    responses={404: {"model": ErrorResponse, "description": "No such request"}},
    dependencies=[Depends(require(Scope.READ))],
)
def get_proposal(backend: BackendDep, request_id: Annotated[int, Path(gt=0)]) -> RequestRecord:
    """A request by its Odoo id."""
    return backend.get(request_id)


@router.post(
    "",
    response_model=ProposalSubmitted,
    status_code=201,
    summary="Submit a proposal: the policy decides; an approval request is created in Odoo",
    responses={
        200: {"model": ProposalSubmitted, "description": "The same proposal was already requested: that request"},
        409: {"model": ErrorResponse, "description": "The action is advisory under the policy: no request"},
        422: {"model": ErrorResponse, "description": "The payload does not describe a change to its target"},
    },
)
def submit_proposal(
    submission: ProposalSubmission,
    client: Annotated[Client, Depends(require(Scope.PROPOSE))],
    copilot: CopilotDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """201 with the new request, 200 with the existing one (same idempotency key), 409 if advisory,
    422 if a record in the payload does not belong to the target."""
    try:
        outcome = copilot.propose_payload(
            actor(client),
            submission.payload,
            (submission.target.model, submission.target.id),
            evidence=submission.evidence,
            flagged_input=submission.flagged_input,
        )
    except PayloadRejected as exc:
        raise HTTPException(422, detail={"type": "payload_rejected", "message": str(exc)}) from None
    decision, record = outcome.decision, outcome.request
    if record is None:
        return idem.respond(
            {
                "error": {
                    "type": "advisory",
                    "message": f"{submission.payload.action_type.value} is advisory under the approval policy: "
                    "shown only, no approval request is created",
                },
                "decision": decision,
            },
            status_code=409,
        )
    return idem.respond(ProposalSubmitted(decision=decision, request=record), 201 if record.created else 200)
