"""The governance invariant: the copilot's Odoo account reads, creates approval requests and syncs its exceptions.

Nothing else passes the allow-list: every other write, whatever the model, is refused before the transport.
"""

from __future__ import annotations

import itertools

import pytest

from copilot.errors import MethodNotAllowed
from copilot.odoo.allowlist import (
    EXCEPTION_MODEL,
    EXCEPTION_SYNC_METHOD,
    MODEL_READ_METHODS,
    READ_METHODS,
    check_allowed,
)
from copilot.odoo.json2 import json2_arguments

APPROVAL = "copilot.approval.request"
MODELS = (
    APPROVAL,
    "copilot.approval.decision",
    EXCEPTION_MODEL,
    "copilot.process.health",
    "sale.order",
    "purchase.order",
    "res.users",
    "ir.model.access",
)
WRITES = (
    "create",
    "write",
    "unlink",
    "copy",
    "copilot_sync",
    "action_acknowledge",
    "action_approve",
    "action_refuse",
    "action_start_execution",
    "action_mark_executed",
    "action_mark_failed",
    "action_expire",
    "message_post",
    "button_confirm",
    "toggle_active",
    "has_group",
    "search",
)


def _allowed(model: str, method: str) -> bool:
    try:
        check_allowed(model, method, approval_model=APPROVAL)
    except MethodNotAllowed:
        return False
    return True


def test_the_only_calls_beyond_reads_are_the_approval_create_and_the_exception_sync() -> None:
    allowed = {(m, f) for m, f in itertools.product(MODELS, (*WRITES, *READ_METHODS)) if _allowed(m, f)}
    reads = {(m, f) for m, f in itertools.product(MODELS, READ_METHODS)}
    assert allowed - reads == {(APPROVAL, "create"), (EXCEPTION_MODEL, "copilot_sync"), ("res.users", "has_group")}
    assert reads <= allowed


def test_the_read_methods_only_read() -> None:
    """A new entry here widens what the copilot may do everywhere: it must be a read, and be added on purpose."""
    assert (
        frozenset(
            {"search_read", "read", "search_count", "read_group", "formatted_read_group", "name_search", "fields_get"}
        )
        == READ_METHODS
    )
    assert frozenset({("res.users", "has_group")}) == MODEL_READ_METHODS


@pytest.mark.parametrize("method", ["write", "create", "unlink", "action_acknowledge", "copy"])
def test_the_copilot_never_writes_exceptions_but_through_the_sync(method: str) -> None:
    with pytest.raises(MethodNotAllowed, match="read-only"):
        check_allowed(EXCEPTION_MODEL, method, approval_model=APPROVAL)


@pytest.mark.parametrize("model", [APPROVAL, "sale.order", "copilot.exceptions", "copilot.exception.line"])
def test_the_sync_is_allowed_on_the_exception_model_only(model: str) -> None:
    with pytest.raises(MethodNotAllowed):
        check_allowed(model, EXCEPTION_SYNC_METHOD, approval_model=APPROVAL)


def test_json2_names_the_syncs_argument() -> None:
    assert json2_arguments("copilot_sync", [[{"key": "k"}]], {}) == {"vals_list": [{"key": "k"}]}
