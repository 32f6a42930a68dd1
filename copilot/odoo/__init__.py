"""Odoo access, the lowest layer that talks to Odoo: the allow-listed client, its transports, company scope and
the session (real Odoo or the embedded sandbox). ``copilot.tools`` keeps only the LLM-facing read tools."""

from copilot.odoo.allowlist import DEFAULT_FIELD_ATTRIBUTES, READ_METHODS, Gate, check_allowed
from copilot.odoo.client import Domain, OdooClient
from copilot.odoo.scope import company_scope, current_company_scope
from copilot.odoo.transport import OdooRPCTransport, OdooTransport

__all__ = [
    "DEFAULT_FIELD_ATTRIBUTES",
    "READ_METHODS",
    "Domain",
    "Gate",
    "OdooClient",
    "OdooRPCTransport",
    "OdooTransport",
    "check_allowed",
    "company_scope",
    "current_company_scope",
]
