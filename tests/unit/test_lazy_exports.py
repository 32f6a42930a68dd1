"""Packages that export lazily (PEP 562) still give every public name; a typo in a name's module fails here."""

from __future__ import annotations

import importlib

import pytest

LAZY = [
    "copilot.application",
    "copilot.approvals",
    "copilot.audit",
    "copilot.guardrails",
    "copilot.skills",
    "copilot.skills.triage",
]


@pytest.mark.parametrize("package", LAZY)
def test_every_public_name_resolves(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 - a fixed statement: every name in __all__
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(namespace)
    assert all(namespace[name] is getattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("package", LAZY)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018 - the look-up is the test
    with pytest.raises(ImportError):
        exec(f"from {package} import no_such_name")  # noqa: S102 - a fixed statement
