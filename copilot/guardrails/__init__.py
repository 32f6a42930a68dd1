"""Input, output and action policy checks, each a small pure function with its own tests.

The supplier-email skill already treats email text as untrusted data (delimited in prompts) and
warns on hidden text and bank-detail changes; the guardrails work gathers those checks here.
"""

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
