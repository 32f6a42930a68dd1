"""Supplier-email summary: what a supplier's email changes on our purchase orders, checked against Odoo."""

from copilot.skills.supplier_email.extract import Candidate, Extraction, extract
from copilot.skills.supplier_email.facts import OdooFacts, gather_facts
from copilot.skills.supplier_email.schemas import (
    ChangeKind,
    Delta,
    DetectedChange,
    EmailHeader,
    EmailReference,
    EmailWarning,
    Money,
    Quantity,
    ResolvedPurchaseOrder,
    SupplierEmailSummary,
    WarningCode,
)
from copilot.skills.supplier_email.signals import DEFAULT_PO_PATTERN
from copilot.skills.supplier_email.skill import deterministic_summary, summarize_supplier_email

__all__ = [
    "DEFAULT_PO_PATTERN",
    "Candidate",
    "ChangeKind",
    "Delta",
    "DetectedChange",
    "EmailHeader",
    "EmailReference",
    "EmailWarning",
    "Extraction",
    "Money",
    "OdooFacts",
    "Quantity",
    "ResolvedPurchaseOrder",
    "SupplierEmailSummary",
    "WarningCode",
    "deterministic_summary",
    "extract",
    "gather_facts",
    "summarize_supplier_email",
]
