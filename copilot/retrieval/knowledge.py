"""The ``knowledge`` collection: company policies, FAQ and reply templates, as chunks with citations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from copilot.citations import Citation
from copilot.retrieval.schemas import KB_CITATION_MODEL, Chunk, SearchHit, citation_id
from copilot.retrieval.store import KNOWLEDGE, VectorStore

__all__ = ["FileEntry", "KnowledgeBase"]

_PAGE = 5_000  # ids per get/delete call


@dataclass
class FileEntry:
    """What the collection holds for one source file: the manifest an incremental re-index compares to."""

    ids: list[str] = field(default_factory=list)
    file_hashes: set[str] = field(default_factory=set)
    embedders: set[str] = field(default_factory=set)
    chunkings: set[str] = field(default_factory=set)
    chunk_count: int = -1

    def is_current(self, file_hash: str, embedder: str, chunking: str) -> bool:
        """True when every chunk of the file is there, from this content, embedding model and way of cutting."""
        return (
            self.file_hashes == {file_hash}
            and self.embedders == {embedder}
            and self.chunkings == {chunking}
            and len(self.ids) == self.chunk_count
        )


def _metadata(chunk: Chunk, file_hash: str, chunk_count: int, chunking: str, embedder: str) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "corpus": chunk.corpus,
        "source": chunk.source,
        "title": chunk.title,
        "heading": chunk.heading,
        "index": chunk.index,
        "kind": chunk.kind,
        "file_hash": file_hash,
        "chunk_count": chunk_count,
        "chunking": chunking,
        "embedder": embedder,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def hit_from_row(chunk_id: str, text: str, meta: Mapping[str, Any], distance: float) -> SearchHit:
    """A search hit (with its ``kb.chunk`` citation) from one row of a Chroma query."""
    source = str(meta.get("source", ""))
    heading = str(meta.get("heading", ""))
    page = meta.get("page")
    display = f"{source} › {heading}" if heading else source
    return SearchHit(
        chunk_id=chunk_id,
        text=text,
        score=round(1.0 - float(distance), 4),
        source=source,
        heading=heading,
        title=str(meta.get("title", "")),
        corpus=str(meta.get("corpus", "")),
        page=int(page) if isinstance(page, int) else None,
        citation=Citation(model=KB_CITATION_MODEL, id=citation_id(chunk_id), display_name=display),
    )


class KnowledgeBase:
    """Read and write company knowledge chunks; ``search`` embeds the query with the store's embedder."""

    def __init__(self, store: VectorStore, name: str = KNOWLEDGE) -> None:
        self.store = store
        self.name = name

    @property
    def embedder_name(self) -> str:
        """Name of the model whose vectors this collection holds."""
        return self.store.embedder.info.name

    def _collection(self) -> Any:
        return self.store.collection(self.name)

    def manifest(self, corpus: str) -> dict[str, FileEntry]:
        """Source path -> its chunk ids, content hashes and embedders, for one corpus (from chunk metadata)."""
        entries: dict[str, FileEntry] = {}
        collection = self._collection()
        offset = 0
        with self.store.mapped(f"cannot read the {self.name!r} collection"):
            while True:
                page = collection.get(where={"corpus": corpus}, include=["metadatas"], limit=_PAGE, offset=offset)
                for chunk_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    entry = entries.setdefault(str(meta.get("source", "")), FileEntry())
                    entry.ids.append(chunk_id)
                    entry.file_hashes.add(str(meta.get("file_hash", "")))
                    entry.embedders.add(str(meta.get("embedder", "")))
                    entry.chunkings.add(str(meta.get("chunking", "")))
                    entry.chunk_count = int(meta.get("chunk_count", -1))  # type: ignore[arg-type]
                if len(page["ids"]) < _PAGE:
                    return entries
                offset += _PAGE

    def _metadatas(self, chunks: Sequence[Chunk], files: Mapping[str, tuple[str, int, str]]) -> list[Any]:
        return [_metadata(c, *files[c.source], self.embedder_name) for c in chunks]

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, files: Mapping[str, tuple[str, int, str]]) -> None:
        """Store chunks with their vectors; ``files`` maps each source to (file hash, chunk count, chunking key)."""
        if not chunks:
            return
        with self.store.mapped(f"cannot write to the {self.name!r} collection"):
            self._collection().upsert(
                ids=[c.id for c in chunks],
                embeddings=np.asarray(vectors, dtype=np.float32),
                documents=[c.text for c in chunks],
                metadatas=self._metadatas(chunks, files),
            )

    def retag(self, chunks: Sequence[Chunk], files: Mapping[str, tuple[str, int, str]]) -> None:
        """Update the metadata of chunks kept as they were (a changed file's unchanged passages): no embedding."""
        if not chunks:
            return
        with self.store.mapped(f"cannot write to the {self.name!r} collection"):
            self._collection().update(
                ids=[c.id for c in chunks],
                metadatas=self._metadatas(chunks, files),
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        collection = self._collection()
        with self.store.mapped(f"cannot remove entries of the {self.name!r} collection"):
            for start in range(0, len(ids), _PAGE):
                collection.delete(ids=list(ids[start : start + _PAGE]))

    def count(self, corpus: str | None = None) -> int:
        """Chunks in the collection (of one corpus when given)."""
        collection = self._collection()
        with self.store.mapped(f"cannot read the {self.name!r} collection"):
            if corpus is None:
                return int(collection.count())
            return sum(len(e.ids) for e in self.manifest(corpus).values())

    def search(self, query: str, *, k: int = 5, corpus: str | None = None) -> list[SearchHit]:
        """The ``k`` passages closest to ``query``, best first (optionally within one corpus)."""
        if not query.strip() or k <= 0:
            return []
        return self.search_vector(self.store.embedder.embed([query])[0], k=k, corpus=corpus)

    def search_vector(self, vector: np.ndarray, *, k: int = 5, corpus: str | None = None) -> list[SearchHit]:
        """The ``k`` passages closest to an already embedded query, best first."""
        with self.store.mapped(f"cannot query the {self.name!r} collection"):
            result = self._collection().query(
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where={"corpus": corpus} if corpus else None,
                include=["documents", "metadatas", "distances"],
            )
        ids = result["ids"][0] if result["ids"] else []
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            hit_from_row(i, d or "", m or {}, dist)
            for i, d, m, dist in zip(ids, documents, metadatas, distances, strict=False)
        ]
