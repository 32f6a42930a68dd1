"""Incremental, idempotent indexing of a folder of documents into the ``knowledge`` collection.

The collection is its own manifest: every chunk carries its file's path, content hash, chunk count
and embedding model. A run compares the folder with it: unchanged files are skipped without reading
their text again; a changed file embeds only passages that are new (kept ones get their metadata
updated) and loses the ones that are gone; a deleted file's chunks are removed. New chunks are
written before old ones are deleted, so an interrupted run is finished by the next one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from copilot.retrieval.chunking import (
    DEFAULT_OVERLAP,
    DEFAULT_SIZE,
    chunk_id,
    chunking_key,
    content_hash,
    split_text,
)
from copilot.retrieval.knowledge import FileEntry, KnowledgeBase
from copilot.retrieval.loaders import LoadedDocument, file_kind, load_bytes
from copilot.retrieval.schemas import Chunk, IndexSummary

__all__ = ["DEFAULT_BATCH", "ProgressFn", "chunk_document", "index_folder", "scan_folder"]

log = logging.getLogger(__name__)

#: Called as ``progress(embedded_so_far, to_embed)``: first with 0 before the model loads, then per batch.
ProgressFn = Callable[[int, int], None]
DEFAULT_BATCH = 64


@dataclass
class _Plan:
    source: str
    file_hash: str
    status: Literal["new", "changed", "unchanged"]
    chunks: list[Chunk] = field(default_factory=list)
    embed: list[Chunk] = field(default_factory=list)
    keep: list[Chunk] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def scan_folder(folder: Path) -> list[Path]:
    """Supported documents under ``folder`` (recursively, hidden files and folders skipped), sorted."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and file_kind(path) is not None:
            found.append(path)
    return sorted(found)


def chunk_document(
    doc: LoadedDocument,
    *,
    corpus: str,
    source: str,
    size: int = DEFAULT_SIZE,
    overlap: int = DEFAULT_OVERLAP,
) -> list[Chunk]:
    """The chunks of a loaded document, each section split on its own (a chunk never spans two headings)."""
    chunks: list[Chunk] = []
    seen: dict[tuple[str, str], int] = {}
    for section in doc.sections:
        heading = section.heading if section.page is None else f"page {section.page}"
        for text in split_text(section.text, size=size, overlap=overlap):
            occurrence = seen.get((heading, text), 0)
            seen[(heading, text)] = occurrence + 1
            chunks.append(
                Chunk(
                    id=chunk_id(corpus, source, heading, text, occurrence),
                    text=text,
                    corpus=corpus,
                    source=source,
                    title=doc.title,
                    heading=section.heading,
                    index=len(chunks),
                    kind=doc.kind,
                    page=section.page,
                )
            )
    return chunks


def _plan(
    path: Path, source: str, entry: FileEntry | None, kb: KnowledgeBase, corpus: str, size: int, overlap: int
) -> _Plan:
    data = path.read_bytes()
    file_hash = content_hash(data)
    if entry is not None and entry.is_current(file_hash, kb.embedder_name, chunking_key(size, overlap)):
        return _Plan(source, file_hash, "unchanged")
    doc = load_bytes(data, path)
    chunks = chunk_document(doc, corpus=corpus, source=source, size=size, overlap=overlap)
    plan = _Plan(source, file_hash, "new" if entry is None else "changed", chunks=chunks)
    old = set(entry.ids) if entry is not None and entry.embedders == {kb.embedder_name} else set()
    new_ids = {c.id for c in chunks}
    plan.embed = [c for c in chunks if c.id not in old]
    plan.keep = [c for c in chunks if c.id in old]
    plan.remove = [i for i in (entry.ids if entry else []) if i not in new_ids]
    return plan


def index_folder(
    folder: Path,
    kb: KnowledgeBase,
    *,
    corpus: str | None = None,
    size: int = DEFAULT_SIZE,
    overlap: int = DEFAULT_OVERLAP,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressFn | None = None,
) -> IndexSummary:
    """Bring the collection in line with ``folder``; ``corpus`` defaults to the folder's absolute path."""
    started = time.perf_counter()
    folder = folder.resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    corpus = corpus or str(folder)
    manifest = kb.manifest(corpus)
    plans: list[_Plan] = []
    skipped: list[str] = []
    paths = scan_folder(folder)
    for path in paths:
        source = path.relative_to(folder).as_posix()
        try:
            plan = _plan(path, source, manifest.get(source), kb, corpus, size, overlap)
        except Exception as exc:  # a corrupt PDF or an unreadable file must not stop the run
            log.warning("index: cannot read %s: %s", source, exc)
            skipped.append(source)
            continue
        if plan.status != "unchanged" and not plan.chunks:
            skipped.append(source)  # no text: its old chunks (if any) go, since the file says nothing now
            if plan.status == "new":
                continue
        plans.append(plan)

    present = {p.source for p in plans} | set(skipped)
    gone = {source: entry for source, entry in manifest.items() if source not in present}
    chunking = chunking_key(size, overlap)
    files = {p.source: (p.file_hash, len(p.chunks), chunking) for p in plans}

    to_embed = [c for p in plans for c in p.embed]
    if to_embed and progress:
        progress(0, len(to_embed))
    for start in range(0, len(to_embed), batch_size):
        batch = to_embed[start : start + batch_size]
        vectors = kb.store.embedder.embed([c.embedding_text() for c in batch])
        kb.upsert(batch, vectors, files)
        if progress:
            progress(start + len(batch), len(to_embed))
    kb.retag([c for p in plans for c in p.keep], files)
    removed = [i for p in plans for i in p.remove] + [i for entry in gone.values() for i in entry.ids]
    kb.delete(removed)

    return IndexSummary(
        corpus=corpus,
        files=len(paths),
        new=sum(p.status == "new" for p in plans),
        changed=sum(p.status == "changed" for p in plans),
        unchanged=sum(p.status == "unchanged" for p in plans),
        deleted=len(gone),
        skipped=skipped,
        chunks_embedded=len(to_embed),
        chunks_kept=sum(len(p.keep) for p in plans),
        chunks_removed=len(removed),
        chunks_total=kb.count(corpus),
        seconds=round(time.perf_counter() - started, 3),
    )
