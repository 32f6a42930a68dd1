"""The composition root of a ``copilot`` command: every part a command uses (Odoo, database, stores, models) is its.

A command opens ``with command_root() as root:`` and takes what it needs from ``root``. The root is the one given
to the CLI (``app(obj=root)``: a process that embeds the CLI, or a test with recorded parts), used as it is and
left open; else a new ``open_root(settings)``, closed when the command ends. Opening one imports nothing heavy
and connects to nothing: each part is built on first use, so ``copilot odoo late`` never loads a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from copilot.composition import Root, open_root
from copilot.config import get_settings

__all__ = ["command_root", "given_root"]


def _current_context() -> Any:
    """The running command's context (Typer carries its own copy of Click since 0.20; older ones use Click's)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a Typer that uses the click package
        from click import get_current_context
    return get_current_context(silent=True)


def given_root() -> Root | None:
    """The root given to the CLI (``obj`` of its outermost context), or None."""
    ctx = _current_context()
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if isinstance(obj, Root) else None


@contextmanager
def command_root(*, migrate: bool = True, **settings_update: Any) -> Iterator[Root]:
    """The command's root: the given one, else ``open_root`` of the settings (``settings_update`` applied; its
    database not migrated with ``migrate=False``), closed on exit. A given root is used as it is: its owner chose
    its settings."""
    root = given_root()
    if root is not None:
        yield root
        return
    settings = get_settings()
    if settings_update:
        settings = settings.model_copy(update=settings_update)
    with open_root(settings, migrate=migrate) as own:
        yield own
