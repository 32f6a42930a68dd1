"""The companies the current request may see, sent to Odoo as ``allowed_company_ids`` on every call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["company_scope", "current_company_scope"]


#: The companies the current request may see (``None``: whatever the copilot's Odoo user sees).
_company_scope: ContextVar[tuple[int, ...] | None] = ContextVar("odoo_company_scope", default=None)


@contextmanager
def company_scope(company_ids: Sequence[int] | None) -> Iterator[None]:
    """Every Odoo call inside sends ``allowed_company_ids``: Odoo's multi-company rules hide other companies."""
    token = _company_scope.set(tuple(company_ids) if company_ids is not None else None)
    try:
        yield
    finally:
        _company_scope.reset(token)


def current_company_scope() -> tuple[int, ...] | None:
    """The companies of the enclosing ``company_scope`` (``None`` outside one)."""
    return _company_scope.get()
