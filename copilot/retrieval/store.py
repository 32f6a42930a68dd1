"""The Chroma client (embedded by default, a server by URL) and its collections, with our embeddings only.

Chroma never embeds anything itself here: every write and query passes vectors computed by the
copilot's local embedder, and collections are created with ``LocalEmbeddingFunction`` (a wrapper of
that embedder) so that even a stray ``query_texts=`` call cannot reach Chroma's default function,
which downloads a model from the internet. Anonymous telemetry is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from copilot.errors import CopilotError
from copilot.retrieval.embeddings import Embedder, LocalEmbedder

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from copilot.config import Settings

__all__ = [
    "KNOWLEDGE",
    "TICKETS",
    "RetrievalError",
    "VectorStore",
    "chroma_path",
    "embedding_function",
    "open_embedded_client",
]

#: Collection of company knowledge: policies, FAQ, reply templates.
KNOWLEDGE = "knowledge"
#: Collection of resolved helpdesk tickets.
TICKETS = "tickets"
_EF_NAME = "copilot-local-embedder"


class RetrievalError(CopilotError):
    """The vector store failed: unreachable server, unreadable store, or a collection of another model."""


@contextmanager
def _mapped(action: str) -> Iterator[None]:
    """Turn chromadb's (and its HTTP client's) exceptions into ``RetrievalError``, once, ``from exc``."""
    try:
        yield
    except RetrievalError:
        raise
    except (ValueError, TypeError) as exc:
        if type(exc).__module__.startswith("chromadb"):
            raise RetrievalError(f"{action}: {exc}") from exc
        raise
    except Exception as exc:  # chromadb raises many types (ChromaError, httpx errors, sqlite errors)
        raise RetrievalError(f"{action}: {exc}") from exc


def chroma_path(settings: Settings) -> Path:
    """Folder of the embedded store: ``<data_dir>/chroma``."""
    return Path(settings.data_dir) / "chroma"


def open_embedded_client(settings: Settings) -> ClientAPI:
    """The embedded ``PersistentClient`` under the data dir (imports chromadb; ``RetrievalError`` if unusable).

    An unusable data dir is a ``ConfigError`` naming ``COPILOT_DATA_DIR``.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from copilot.state.db import usable_data_dir

    usable_data_dir(settings)
    path = chroma_path(settings)
    with _mapped(f"cannot open the Chroma store at {path}"):
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def embedding_function(embedder: Embedder) -> Any:
    """A chromadb ``EmbeddingFunction`` that calls ``embedder`` (registered, so collections record its name)."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import known_embedding_functions, register_embedding_function

    class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
        """The copilot's local sentence embedder, as Chroma sees it."""

        def __init__(self, inner: Embedder) -> None:
            self.inner = inner

        def __call__(self, input: Documents) -> Embeddings:
            return list(self.inner.embed(list(input)))

        @staticmethod
        def name() -> str:
            return _EF_NAME

        def default_space(self) -> Any:
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            info = self.inner.info
            return {"model": info.name, "dimension": info.dimension}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> LocalEmbeddingFunction:
            return LocalEmbeddingFunction(LocalEmbedder())

        def is_legacy(self) -> bool:
            return False

    cls = known_embedding_functions.get(_EF_NAME)
    if cls is None:
        cls = register_embedding_function(LocalEmbeddingFunction)
    return cls(embedder)


class VectorStore:
    """A Chroma client, the embedder whose vectors it holds, and the copilot's collections."""

    def __init__(self, client: ClientAPI, embedder: Embedder, *, where: str) -> None:
        self.client = client
        self.embedder = embedder
        #: Human-readable location, e.g. ``chroma at /home/me/.local/share/odoo-ops-copilot/chroma``.
        self.where = where
        self._collections: dict[str, Collection] = {}

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> VectorStore:
        """Embedded ``PersistentClient`` under the data dir, or an ``HttpClient`` when ``chroma_url`` is set."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        url = getattr(settings, "chroma_url", None)
        embedder = embedder or LocalEmbedder()  # the caller's (the composition root's), else its own
        if url:
            parts = urlsplit(str(url))
            ssl = parts.scheme == "https"
            port = parts.port or (443 if ssl else 8000)
            with _mapped(f"cannot reach the Chroma server at {parts.scheme}://{parts.netloc}"):
                client = chromadb.HttpClient(
                    host=parts.hostname or "localhost", port=port, ssl=ssl, settings=chroma_settings
                )
            return cls(client, embedder, where=f"chroma server {parts.scheme}://{parts.netloc}")
        return cls(open_embedded_client(settings), embedder, where=f"chroma at {chroma_path(settings)}")

    def collection(self, name: str) -> Collection:
        """The collection ``name`` (created on first use, cosine space, our embedding function)."""
        if name not in self._collections:
            with _mapped(f"cannot open the Chroma collection {name!r}"):
                self._collections[name] = self.client.get_or_create_collection(
                    name,
                    embedding_function=embedding_function(self.embedder),
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self.embedder.info.name, "dimension": self.embedder.info.dimension},
                )
        return self._collections[name]

    def mapped(self, action: str) -> Any:
        """Context manager mapping chromadb failures during ``action`` to ``RetrievalError``."""
        return _mapped(action)
