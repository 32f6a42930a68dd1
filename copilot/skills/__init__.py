"""Skills: one package per job the copilot does (supplier-email summary, ...)."""

from copilot.skills.supplier_email import SupplierEmailSummary, summarize_supplier_email

__all__ = ["SupplierEmailSummary", "summarize_supplier_email"]
