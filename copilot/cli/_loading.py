"""Before a command loads a model: check Odoo (a dead one fails in a second), then say on stderr what loads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot.cli._output import err_console

if TYPE_CHECKING:
    from copilot.composition import Components
    from copilot.odoo.session import OdooSession
    from copilot.retrieval.embeddings import EmbedderInfo

__all__ = ["announce_model_loads", "check_odoo"]


def check_odoo(odoo: OdooSession) -> None:
    """Log in to Odoo now: unreachable, it fails in one line before seconds go into loading a model."""
    odoo.client.check_connection()


def _say_loading(info: EmbedderInfo) -> None:
    err_console.print(f"[dim]loading the embedding model ({info.name})…[/]", highlight=False)


def announce_model_loads(components: Components) -> Components:
    """Print "loading the embedding model (…)…" on stderr when the root's model starts loading (never on stdout)."""
    from copilot.retrieval.embeddings import LocalEmbedder  # NumPy: only for the commands that embed

    embedder = components.embedder
    if isinstance(embedder, LocalEmbedder):
        embedder.on_load = _say_loading
    return components
