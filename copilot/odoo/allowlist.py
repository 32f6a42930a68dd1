"""The allow-list: the copilot's Odoo account may read, create approval requests and sync its exceptions; nothing else.

This is the code half of the governance rule (the Odoo addon's security groups are the other half): every
call goes through ``OdooClient.execute``, which runs this check *before* the transport is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copilot.errors import MethodNotAllowed

__all__ = [
    "DEFAULT_FIELD_ATTRIBUTES",
    "EXCEPTION_MODEL",
    "EXCEPTION_SYNC_METHOD",
    "MODEL_READ_METHODS",
    "READ_METHODS",
    "Gate",
    "check_allowed",
]

#: ``gate(model, method, args, kwargs)`` raises ``MethodNotAllowed`` for a call that must not be sent.
Gate = Callable[[str, str, tuple[Any, ...], dict[str, Any]], None]

#: Methods the copilot may call on any model. All of them only read.
READ_METHODS: frozenset[str] = frozenset(
    {"search_read", "read", "search_count", "read_group", "formatted_read_group", "name_search", "fields_get"}
)
#: Read-only methods that exist on one model only: (model, method).
MODEL_READ_METHODS: frozenset[tuple[str, str]] = frozenset({("res.users", "has_group")})
#: The addon's exception model (Copilot > Exceptions) and its one method the copilot may call: an upsert by
#: control and key of whitelisted fields, which the addon lets only the Copilot agent group call.
EXCEPTION_MODEL = "copilot.exception"
EXCEPTION_SYNC_METHOD = "copilot_sync"
#: Field attributes asked of ``fields_get`` unless the caller says otherwise.
DEFAULT_FIELD_ATTRIBUTES: tuple[str, ...] = ("string", "type", "relation", "selection", "required", "readonly")


def check_allowed(model: str, method: str, *, approval_model: str) -> None:
    """Raise ``MethodNotAllowed`` unless ``model.method`` is on the allow-list."""
    if not model or not method:
        raise MethodNotAllowed("empty model or method", model=model, method=method)
    if method in READ_METHODS or (model, method) in MODEL_READ_METHODS:
        return
    if method == "create" and model == approval_model:
        return
    if (model, method) == (EXCEPTION_MODEL, EXCEPTION_SYNC_METHOD):
        return
    raise MethodNotAllowed(
        f"the copilot may not call {model}.{method}: its Odoo access is read-only "
        f"(allowed: {', '.join(sorted(READ_METHODS))}; create only on {approval_model}; "
        f"{EXCEPTION_SYNC_METHOD} only on {EXCEPTION_MODEL})",
        model=model,
        method=method,
    )
