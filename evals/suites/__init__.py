"""The eval suites: one module per skill, each knows how to run, score and aggregate its cases."""

from __future__ import annotations

from evals.suites.answers import AnswersSuite
from evals.suites.at_risk import AtRiskSuite
from evals.suites.base import CaseResult, Suite, SuiteContext
from evals.suites.drafts import DraftsSuite
from evals.suites.proposals import ProposalsSuite
from evals.suites.security import SecuritySuite
from evals.suites.supplier_email import SupplierEmailSuite
from evals.suites.triage import TriageSuite

__all__ = ["SUITES", "CaseResult", "Suite", "SuiteContext", "get_suite"]

SUITES: dict[str, type[Suite]] = {
    "supplier_email": SupplierEmailSuite,
    "triage": TriageSuite,
    "answers": AnswersSuite,
    "drafts": DraftsSuite,
    "proposals": ProposalsSuite,
    "security": SecuritySuite,
    "at_risk": AtRiskSuite,
}


def get_suite(name: str) -> Suite:
    """A suite by name (``ValueError`` lists the known ones)."""
    try:
        return SUITES[name]()
    except KeyError:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(sorted(SUITES))}") from None
