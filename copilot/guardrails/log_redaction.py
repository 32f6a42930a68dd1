"""Logs carry no personal data: a ``logging.Filter`` that redacts e-mail addresses, phone numbers, IBANs,
card and account numbers from every record before any handler writes it.

``install_log_redaction()`` puts the filter on the handlers of the root logger (where the copilot's
records end up) and of the loggers that do not propagate to it (uvicorn's), so it must run after the
handlers exist: in ``copilot.cli._startup`` right after ``logging.basicConfig``, and in a server after
its logging is configured. It is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from copilot.guardrails.pii import redact

__all__ = ["DEFAULT_LOGGERS", "PiiRedactingFilter", "install_log_redaction", "uninstall_log_redaction"]

#: Loggers with their own handlers (they do not propagate to the root logger).
DEFAULT_LOGGERS: tuple[str, ...] = ("uvicorn", "uvicorn.error", "uvicorn.access")

_formatter = logging.Formatter()


class PiiRedactingFilter(logging.Filter):
    """Formats the record's message with its arguments, then redacts it (the arguments are dropped: a
    dict or a model passed as an argument is redacted as the text it prints). The traceback and the
    stack of the record are redacted too. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep the raw format string
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._pii_redacted = True
        return True


_FILTER = PiiRedactingFilter()


def _handlers(loggers: Iterable[str]) -> list[logging.Handler]:
    found = list(logging.getLogger().handlers)
    for name in loggers:
        found += logging.getLogger(name).handlers
    return found


def install_log_redaction(*loggers: str) -> PiiRedactingFilter:
    """Add the redaction filter to the handlers of the root logger and of ``loggers`` (default: uvicorn's)."""
    for handler in _handlers(loggers or DEFAULT_LOGGERS):
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER


def uninstall_log_redaction(*loggers: str) -> None:
    """Remove the filter again (tests)."""
    for handler in _handlers(loggers or DEFAULT_LOGGERS):
        handler.removeFilter(_FILTER)
