"""Input, output and action policy checks, each a small function with its own tests.

Input: ``injection`` (rules plus embeddings against a library of attack patterns) and ``hidden`` (text a
reader would not see). Output: ``grounding`` (every reference, date and amount is in the evidence),
``exfiltration`` (no links, contacts, bank details or other customers' data from nowhere) and ``pii``
(redaction for logs and the audit trail, ``log_redaction``). Action: ``ratelimit``; roles and
allow-lists live in ``copilot.identity``, approvals in ``copilot.approvals``.

The names are imported lazily: every command installs ``log_redaction``, which must not import NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.guardrails.exfiltration import ExfiltrationVerdict, check_exfiltration
    from copilot.guardrails.injection import InjectionVerdict, detect_injection
    from copilot.guardrails.pii import PiiSpan, find_pii, redact, redact_obj

__all__ = [
    "ExfiltrationVerdict",
    "InjectionVerdict",
    "PiiSpan",
    "check_exfiltration",
    "detect_injection",
    "find_pii",
    "redact",
    "redact_obj",
]

__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("ExfiltrationVerdict", "check_exfiltration"), "exfiltration"),
        **dict.fromkeys(("InjectionVerdict", "detect_injection"), "injection"),
        **dict.fromkeys(("PiiSpan", "find_pii", "redact", "redact_obj"), "pii"),
    },
)
