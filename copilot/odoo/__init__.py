"""Odoo access, the lowest layer that talks to Odoo (18 and 19, JSON-RPC or JSON-2): the allow-listed client, its
transports, the per-version schema map, company scope and the session (real Odoo or the embedded sandbox).
``copilot.tools`` keeps only the LLM-facing read tools."""

from copilot.odoo.allowlist import DEFAULT_FIELD_ATTRIBUTES, READ_METHODS, Gate, check_allowed
from copilot.odoo.client import Domain, OdooClient
from copilot.odoo.json2 import Json2Transport
from copilot.odoo.schema import OdooSchema, schema_for
from copilot.odoo.scope import company_scope, current_company_scope
from copilot.odoo.transport import OdooRPCTransport, OdooTransport

__all__ = [
    "DEFAULT_FIELD_ATTRIBUTES",
    "READ_METHODS",
    "Domain",
    "Gate",
    "Json2Transport",
    "OdooClient",
    "OdooRPCTransport",
    "OdooSchema",
    "OdooTransport",
    "check_allowed",
    "company_scope",
    "current_company_scope",
    "schema_for",
]
