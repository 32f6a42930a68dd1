"""Which tools a request called: a context-local recorder that ``OdooClient.execute`` reports to.

    with capture_tool_calls() as calls:
        result = skill(...)
    entry = AuditEntry(..., tool_calls=calls)

Outside ``capture_tool_calls`` recording costs one context-variable lookup. The recorder follows the
current context: work handed to another thread must run in a copy of it (``contextvars.copy_context``)
to be recorded. Arguments are kept small (long values cut); the audit trail redacts them before storing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["MAX_CALLS", "MAX_IDS", "capture_tool_calls", "record_odoo_call", "record_tool_call"]

#: Calls kept per request (a runaway loop does not grow the record without bound; the rest are counted).
MAX_CALLS = 200
#: Record ids kept per call.
MAX_IDS = 100
#: Longest JSON kept for one call's arguments.
MAX_ARGUMENT_CHARS = 2_000

_calls: ContextVar[list[dict[str, Any]] | None] = ContextVar("audit_tool_calls", default=None)


@contextmanager
def capture_tool_calls() -> Iterator[list[dict[str, Any]]]:
    """Collect the tool calls made inside the block (nested blocks collect their own)."""
    calls: list[dict[str, Any]] = []
    token = _calls.set(calls)
    try:
        yield calls
    finally:
        _calls.reset(token)


def _small(value: Any) -> Any:
    """``value`` as JSON-able data, or its JSON cut to ``MAX_ARGUMENT_CHARS`` when longer."""
    if value is None:
        return None
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)[:MAX_ARGUMENT_CHARS]
    if len(text) <= MAX_ARGUMENT_CHARS:
        return json.loads(text)
    return text[:MAX_ARGUMENT_CHARS] + "…"


def record_tool_call(
    name: str, arguments: Any = None, record_ids: Sequence[int] = (), *, kind: str = "tool", model: str | None = None
) -> None:
    """Note one call in the enclosing ``capture_tool_calls`` (nothing happens outside one)."""
    calls = _calls.get()
    if calls is None:
        return
    if len(calls) >= MAX_CALLS:
        if calls[-1].get("kind") != "truncated":
            calls.append({"kind": "truncated", "name": f"more than {MAX_CALLS} calls", "arguments": None})
        return
    ids = [int(i) for i in record_ids if isinstance(i, int) and not isinstance(i, bool)][:MAX_IDS]
    call: dict[str, Any] = {"kind": kind, "name": name, "arguments": _small(arguments), "record_ids": ids}
    if model is not None:
        call["model"] = model
    calls.append(call)


def _ids_of(method: str, args: Sequence[Any], result: Any) -> list[int]:
    if method == "read" and args and isinstance(args[0], (list, tuple)):
        return [i for i in args[0] if isinstance(i, int)]
    if method == "create" and isinstance(result, int):
        return [result]
    if isinstance(result, list):
        ids: list[int] = []
        for row in result:
            if isinstance(row, dict) and isinstance(row.get("id"), int):
                ids.append(row["id"])  # search_read, read
            elif isinstance(row, (list, tuple)) and row and isinstance(row[0], int):
                ids.append(row[0])  # name_search: (id, name)
            elif isinstance(row, int) and not isinstance(row, bool):
                ids.append(row)  # search
        return ids
    return []


def record_odoo_call(model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any], result: Any) -> None:
    """What ``OdooClient.execute`` reports after each call: model, method, arguments, the record ids touched."""
    if _calls.get() is None:
        return
    arguments: dict[str, Any] = {}
    if args:
        arguments["args"] = list(args)
    if kwargs:
        arguments["kwargs"] = dict(kwargs)
    record_tool_call(f"{model}.{method}", arguments, _ids_of(method, args, result), kind="odoo", model=model)
