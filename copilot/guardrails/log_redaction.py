"""Logs carry no personal data: a ``logging.Filter`` that redacts e-mail addresses, phone numbers, IBANs,
card and account numbers from every record before any handler writes it.

``install_log_redaction()`` puts the filter on the handlers of the root logger (where the copilot's
records end up) and of the loggers that do not propagate to it (uvicorn's), so it must run after the
handlers exist: in ``copilot.cli._startup`` right after ``logging.basicConfig``, and in a server after
its logging is configured. It is idempotent.

A record keeps the shape of its arguments (a tuple stays a tuple of the same length, a mapping a
mapping): formatters such as uvicorn's ``AccessFormatter`` unpack them, and a record whose arguments were
dropped made every access line at INFO a "Logging error" traceback that printed the raw request line.
An access record (logger ``uvicorn.access``) loses its query string: a token passed as ``?access_token=``
or an address in a query never reaches a log; the path and status stay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from copilot.guardrails.pii import redact

__all__ = [
    "ACCESS_LOGGER",
    "DEFAULT_LOGGERS",
    "PiiRedactingFilter",
    "install_log_redaction",
    "path_without_query",
    "uninstall_log_redaction",
]

#: Loggers with their own handlers (they do not propagate to the root logger).
DEFAULT_LOGGERS: tuple[str, ...] = ("uvicorn", "uvicorn.error", "uvicorn.access")
#: uvicorn's access logger: arguments (client, method, path with query, HTTP version, status).
ACCESS_LOGGER = "uvicorn.access"
_ACCESS_ARGS = 5
_PATH = 2

_formatter = logging.Formatter()


def path_without_query(path: str) -> str:
    """``/v1/ask?access_token=...`` -> ``/v1/ask``: the request target without its query string."""
    return path.partition("?")[0]


def _redact_arg(value: Any) -> Any:
    """A string argument redacted; numbers and ``None`` kept (``%d`` still formats); anything else as its
    redacted text."""
    if value is None or isinstance(value, (int, float)):
        return value
    return redact(value if isinstance(value, str) else str(value))


def _access_args(record: logging.LogRecord) -> tuple[Any, ...] | None:
    """An access record's arguments with the path cut at its query and redacted (the client address,
    method, HTTP version and status are not personal text: an IP address is not read as a phone number)."""
    args = record.args
    if record.name != ACCESS_LOGGER or not isinstance(args, tuple) or len(args) != _ACCESS_ARGS:
        return None
    if not isinstance(args[_PATH], str):
        return None
    return (*args[:_PATH], redact(path_without_query(args[_PATH])), *args[_PATH + 1 :])


class PiiRedactingFilter(logging.Filter):
    """Redacts the record's format string and each of its arguments, keeping their shape (a formatter that
    unpacks them still works); an access record loses its query string. When the redacted arguments no
    longer fit the format, the message is formatted first and redacted as one text (arguments dropped).
    The traceback and the stack of the record are redacted too. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_redacted", False):
            return True
        access = _access_args(record)
        if access is not None:
            record.args = access
        elif not self._redact_keeping_args(record):
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

    @staticmethod
    def _redact_keeping_args(record: logging.LogRecord) -> bool:
        """Redact format and arguments in place; False when they would no longer format together."""
        if not isinstance(record.msg, str):
            return False
        args = record.args
        new_args: tuple[Any, ...] | Mapping[str, Any] | None
        if isinstance(args, tuple):
            new_args = tuple(_redact_arg(a) for a in args)
        elif isinstance(args, Mapping):
            new_args = {k: _redact_arg(v) for k, v in args.items()}
        elif not args:
            new_args = None
        else:
            return False
        msg = redact(record.msg)
        if new_args:
            try:
                msg % new_args  # only checks that the redacted arguments still fit the format
            except Exception:
                return False
        record.msg, record.args = msg, new_args
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
