"""The copilot's exception tree.

Runtime failures that a caller may want to handle all derive from ``CopilotError``;
configuration and programming mistakes do not, so catching ``CopilotError`` never hides a bug.

    CopilotError
    ├── OdooError                    anything that went wrong talking to Odoo
    │   ├── OdooUnavailable          connection refused/reset, DNS, timeout, after bounded retries
    │   ├── OdooAuthenticationError  wrong login, password or API key
    │   ├── OdooAccessDenied         Odoo's AccessError (ACL or record rule), or our own allow-list
    │   │   └── MethodNotAllowed     refused by the client-side allow-list; nothing was sent
    │   ├── OdooNotFound             unknown model, method or record id
    │   └── OdooServerError          any other error Odoo returned (UserError, ValidationError, ...)
    ├── LLMError                     the chat model failed
    │   ├── LLMTimeout
    │   └── LLMInvalidOutput         not JSON, not the schema, or contradicted by Odoo
    ├── EmailParseError              an email that cannot be read at all
    ├── GuardrailViolation
    ├── ApprovalError
    ├── AccessDenied                 the person's role may not use this skill, or no readable company
    └── RateLimited                  too many requests from one person on one channel

    ConfigError (a ValueError)       a bad setting; raised at start-up, names the variable
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessDenied",
    "ApprovalError",
    "ConfigError",
    "CopilotError",
    "EmailParseError",
    "GuardrailViolation",
    "LLMError",
    "LLMInvalidOutput",
    "LLMTimeout",
    "MethodNotAllowed",
    "OdooAccessDenied",
    "OdooAuthenticationError",
    "OdooError",
    "OdooNotFound",
    "OdooServerError",
    "OdooUnavailable",
    "RateLimited",
]


class CopilotError(Exception):
    """Base class of every runtime failure the copilot reports."""


class OdooError(CopilotError):
    """Something went wrong talking to Odoo."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        method: str | None = None,
        odoo_error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.method = method
        #: Odoo's ``error.data.name``, e.g. ``odoo.exceptions.AccessError``, when Odoo answered.
        self.odoo_error = odoo_error


class OdooUnavailable(OdooError):
    """Odoo could not be reached (after the configured retries)."""


class OdooAuthenticationError(OdooError):
    """Odoo refused the login, password or API key."""


class OdooAccessDenied(OdooError):
    """Odoo's access rights, a record rule or the copilot's own allow-list refused the call."""


class MethodNotAllowed(OdooAccessDenied):
    """The client-side allow-list refused the call before anything was sent."""


class OdooNotFound(OdooError):
    """The model, method or record does not exist."""


class OdooServerError(OdooError):
    """Odoo returned an error that is not one of the more specific kinds."""


class LLMError(CopilotError):
    """The chat model failed."""


class LLMTimeout(LLMError):
    """The chat model did not answer in time."""


class LLMInvalidOutput(LLMError):
    """The chat model's answer is not valid JSON, not the schema, or contradicts Odoo."""

    def __init__(self, message: str, *, raw: Any = None) -> None:
        super().__init__(message)
        self.raw = raw


class EmailParseError(CopilotError):
    """An email that cannot be read at all (not even as text)."""


class GuardrailViolation(CopilotError):
    """A guardrail refused an input or an output."""


class ApprovalError(CopilotError):
    """An approval request could not be created or executed."""


class AccessDenied(CopilotError):
    """The person's role may not use this skill or tool, or sees no company the copilot can read."""


class RateLimited(CopilotError):
    """Too many requests from one person on one channel; ``retry_after`` says when to try again."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""
