"""Retrieval: Chroma collections of company knowledge (``knowledge``) and resolved tickets (``tickets``).

Vectors come only from the local embedder (``embeddings``); chromadb is imported on first use.

    store = VectorStore.from_settings(get_settings())
    index_folder(sample_kb_path(), KnowledgeBase(store))
    hits = KnowledgeBase(store).search("can I return a damaged chair", k=3)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from copilot.retrieval.chunking import chunk_id, content_hash, split_text
from copilot.retrieval.indexer import chunk_document, index_folder, scan_folder
from copilot.retrieval.knowledge import KnowledgeBase
from copilot.retrieval.loaders import SUFFIXES, load_bytes
from copilot.retrieval.schemas import (
    KB_CITATION_MODEL,
    TICKET_CITATION_MODEL,
    Chunk,
    IndexSummary,
    SearchHit,
    TicketText,
)
from copilot.retrieval.store import KNOWLEDGE, TICKETS, RetrievalError, VectorStore
from copilot.retrieval.tickets import TicketIndex

__all__ = [
    "KB_CITATION_MODEL",
    "KNOWLEDGE",
    "SUFFIXES",
    "TICKETS",
    "TICKET_CITATION_MODEL",
    "Chunk",
    "IndexSummary",
    "KnowledgeBase",
    "RetrievalError",
    "SearchHit",
    "TicketIndex",
    "TicketText",
    "VectorStore",
    "chunk_document",
    "chunk_id",
    "content_hash",
    "index_folder",
    "load_bytes",
    "sample_kb_path",
    "scan_folder",
    "split_text",
]


def sample_kb_path() -> Path:
    """Folder of the sample knowledge base shipped with the copilot (policies, FAQ, reply templates)."""
    return Path(str(resources.files("copilot.retrieval") / "sample_kb"))
