"""The audit trail: an append-only, hash-chained, PII-redacted record of every request.

``AuditTrail`` (``copilot.audit.trail``) stores ``AuditEntry`` values in one table of the project's database
(``copilot.state.Database``: SQLite or PostgreSQL), chained with HMAC-SHA256 and the audit key
(``copilot.audit.keys``); ``verify()`` walks the chain and checks it against signed head anchors
(``copilot.audit.anchors``). ``capture_tool_calls()``
(``copilot.audit.calls``) collects the Odoo calls made inside it, as ``OdooClient.execute`` reports each one.

The names are imported lazily: ``copilot.odoo`` imports ``copilot.audit.calls`` on every start,
and that must not pull in SQLAlchemy models or the guardrails.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.audit.anchors import AuditAnchor
    from copilot.audit.calls import capture_tool_calls, record_odoo_call, record_tool_call
    from copilot.audit.keys import AuditKey
    from copilot.audit.schemas import AuditEntry, AuditRecord, ChainReport, ToolCall, Verdict
    from copilot.audit.trail import (
        AUDIT_FILE,
        GENESIS_HASH,
        AuditTrail,
        canonical_json,
        entry_from_result,
        keyed_digest,
    )

__all__ = [
    "AUDIT_FILE",
    "GENESIS_HASH",
    "AuditAnchor",
    "AuditEntry",
    "AuditKey",
    "AuditRecord",
    "AuditTrail",
    "ChainReport",
    "ToolCall",
    "Verdict",
    "canonical_json",
    "capture_tool_calls",
    "entry_from_result",
    "keyed_digest",
    "record_odoo_call",
    "record_tool_call",
]

_WHERE = {
    "AuditAnchor": "anchors",
    "AuditKey": "keys",
    "keyed_digest": "trail",
    "capture_tool_calls": "calls",
    "record_odoo_call": "calls",
    "record_tool_call": "calls",
    "AuditEntry": "schemas",
    "AuditRecord": "schemas",
    "ChainReport": "schemas",
    "ToolCall": "schemas",
    "Verdict": "schemas",
    "AUDIT_FILE": "trail",
    "GENESIS_HASH": "trail",
    "AuditTrail": "trail",
    "canonical_json": "trail",
    "entry_from_result": "trail",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"copilot.audit.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'copilot.audit' has no attribute {name!r}")
