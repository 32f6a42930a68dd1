"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from odoo_sandbox import RECORDED_AT, SANDBOX_USERS
from odoo_sandbox._data import Store, load_dataset
from odoo_sandbox._methods import execute_kw

USERS = {u.login: u for u in SANDBOX_USERS}


@pytest.fixture
def call() -> Callable[..., Any]:
    """Run sandbox ``model.method(*args, **kwargs)`` in-process on a fresh store (copilot by default)."""
    store = Store(load_dataset())

    def run(model: str, method: str, *args: Any, login: str = "copilot", **kwargs: Any) -> Any:
        return execute_kw(store, USERS[login], RECORDED_AT, model, method, list(args), kwargs)

    return run
