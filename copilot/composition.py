"""The composition root's heavy parts: the embedder, the injection detector and the knowledge base.

Whoever starts the work (a CLI command, ``open_copilot`` for the service and the workers) builds one
``Components`` from the settings and passes it down; nothing is cached at module level, so two roots share
nothing and code that is given no component (the deterministic extractor) never loads a model. Every part is
built on first use: building a ``Components`` imports neither NumPy, PyTorch nor Chroma.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from copilot.config import Settings

if TYPE_CHECKING:
    from copilot.guardrails.injection import InjectionDetector
    from copilot.retrieval import KnowledgeBase
    from copilot.retrieval.embeddings import Embedder

__all__ = ["Components"]

log = logging.getLogger(__name__)


class Components:
    """The embedder, injection detector and knowledge base of one root, each built once, on first use."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._embedder = embedder
        self._injection: InjectionDetector | None = None
        self._knowledge: KnowledgeBase | None = None

    @property
    def embedder(self) -> Embedder:
        """The local sentence embedder (the model itself loads on the first text it embeds)."""
        with self._lock:
            if self._embedder is None:
                from copilot.retrieval.embeddings import LocalEmbedder

                self._embedder = LocalEmbedder()
            return self._embedder

    @property
    def injection(self) -> InjectionDetector:
        """The injection detector; its embedding layer is off when ``COPILOT_INJECTION_EMBEDDINGS=false``."""
        with self._lock:
            if self._injection is None:
                from copilot.guardrails.injection import InjectionDetector  # NumPy and the rules: on first use

                use = self.settings.injection_embeddings
                self._injection = InjectionDetector(self.embedder if use else None, use_embeddings=use)
            return self._injection

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base of the settings, opened (and filled with the shipped sample if empty) once."""
        with self._lock:
            if self._knowledge is None:
                from copilot.retrieval import KnowledgeBase, VectorStore, index_folder, sample_kb_path

                kb = KnowledgeBase(VectorStore.from_settings(self.settings, embedder=self.embedder))
                if kb.count() == 0:
                    log.info("the knowledge base is empty; indexing the sample knowledge base")
                    index_folder(sample_kb_path(), kb)
                self._knowledge = kb
            return self._knowledge
