"""Lazy package exports (PEP 562): a package names its public API without importing every submodule.

``copilot --help`` and the Odoo-only commands must not pay for scikit-learn, LangChain or PyTorch because a
package ``__init__`` re-exported a name from a module that imports them. A package lists where each name
lives and sets ``__getattr__ = lazy_exports(__name__, {...})``; the submodule is imported on first access.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<where[name]>`` when ``name`` is first looked up."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip the hook
        return value

    return __getattr__
