"""Unit-test fixtures: the sandbox in-process (unit tests run with sockets disabled)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from odoo_sandbox import RECORDED_AT, SANDBOX_USERS, SandboxServer
from odoo_sandbox._data import Store, load_dataset
from odoo_sandbox._methods import execute_kw

USERS = {u.login: u for u in SANDBOX_USERS}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One Odoo sandbox for the session, never started: clients reach it in-process (``make_client``)."""
    server = SandboxServer()
    yield server
    server.stop()


@pytest.fixture
def call() -> Callable[..., Any]:
    """Run sandbox ``model.method(*args, **kwargs)`` in-process on a fresh store (copilot by default)."""
    store = Store(load_dataset())

    def run(model: str, method: str, *args: Any, login: str = "copilot", **kwargs: Any) -> Any:
        return execute_kw(store, USERS[login], RECORDED_AT, model, method, list(args), kwargs)

    return run
