"""Proposals become approval requests in Odoo; managers approve in Odoo; only approved actions run.

``Proposal`` (schemas) is what skills emit; ``decide`` (policy) gives its mode and risk tier; a backend
(``AddonBackend`` for the project's addon and the sandbox, ``EnterpriseBackend``) creates the request
with the agent's create-only credential; the ``Executor``, with its own credential, runs approved
requests exactly once.

The names are imported lazily: ``propose`` pulls in the skills (scikit-learn, LangChain), which reading
approval requests never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.approvals.backends import AddonBackend, ApprovalBackend, EnterpriseBackend, RequestRecord
    from copilot.approvals.executor import Executor, ExecutorReport, executor_client
    from copilot.approvals.policy import Decision, Mode, Policy, decide, load_policy
    from copilot.approvals.propose import proposals_from_supplier_email, proposals_from_triage
    from copilot.approvals.schemas import ActionType, Proposal, RequestState, RiskTier

__all__ = [
    "ActionType",
    "AddonBackend",
    "ApprovalBackend",
    "Decision",
    "EnterpriseBackend",
    "Executor",
    "ExecutorReport",
    "Mode",
    "Policy",
    "Proposal",
    "RequestRecord",
    "RequestState",
    "RiskTier",
    "decide",
    "executor_client",
    "load_policy",
    "proposals_from_supplier_email",
    "proposals_from_triage",
]

__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("AddonBackend", "ApprovalBackend", "EnterpriseBackend", "RequestRecord"), "backends"),
        **dict.fromkeys(("Executor", "ExecutorReport", "executor_client"), "executor"),
        **dict.fromkeys(("Decision", "Mode", "Policy", "decide", "load_policy"), "policy"),
        **dict.fromkeys(("proposals_from_supplier_email", "proposals_from_triage"), "propose"),
        **dict.fromkeys(("ActionType", "Proposal", "RequestState", "RiskTier"), "schemas"),
    },
)
