"""The ``tickets`` collection: resolved helpdesk tickets, to find similar past cases and how they were solved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from copilot.citations import Citation
from copilot.retrieval.chunking import content_hash
from copilot.retrieval.schemas import TICKET_CITATION_MODEL, SearchHit, TicketText
from copilot.retrieval.store import TICKETS, VectorStore

__all__ = ["TicketIndex"]


def _ticket_key(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


class TicketIndex:
    """Upsert ticket texts (re-embedding only those whose text changed) and search them."""

    def __init__(self, store: VectorStore, name: str = TICKETS) -> None:
        self.store = store
        self.name = name

    def _collection(self) -> Any:
        return self.store.collection(self.name)

    def upsert(self, tickets: Sequence[TicketText], *, batch_size: int = 64) -> int:
        """Store tickets; those already stored with the same text and model are not embedded again.

        Returns how many were embedded.
        """
        if not tickets:
            return 0
        embedder = self.store.embedder.info.name
        latest = {t.ticket_id: t for t in tickets}  # the last version of a ticket given twice wins
        ids = [_ticket_key(i) for i in latest]
        with self.store.mapped(f"cannot read the {self.name!r} collection"):
            stored = self._collection().get(ids=ids, include=["metadatas"])
        known = {i: m for i, m in zip(stored["ids"], stored["metadatas"] or [], strict=False)}
        pending, retag = [], []
        for ticket in latest.values():
            meta = {**ticket.metadata, "ticket_id": ticket.ticket_id, "name": ticket.name}
            meta |= {"text_hash": content_hash(ticket.text), "embedder": embedder}
            old = known.get(_ticket_key(ticket.ticket_id))
            if old and old.get("text_hash") == meta["text_hash"] and old.get("embedder") == embedder:
                if dict(old) != meta:
                    retag.append((ticket, meta))
                continue
            pending.append((ticket, meta))
        collection = self._collection()
        with self.store.mapped(f"cannot write to the {self.name!r} collection"):
            for start in range(0, len(pending), batch_size):
                batch = pending[start : start + batch_size]
                vectors = self.store.embedder.embed([t.text for t, _ in batch])
                collection.upsert(
                    ids=[_ticket_key(t.ticket_id) for t, _ in batch],
                    embeddings=np.asarray(vectors, dtype=np.float32),
                    documents=[t.text for t, _ in batch],
                    metadatas=[m for _, m in batch],
                )
            if retag:
                collection.update(ids=[_ticket_key(t.ticket_id) for t, _ in retag], metadatas=[m for _, m in retag])
        return len(pending)

    def remove(self, ticket_ids: Sequence[int]) -> None:
        """Forget tickets (e.g. reopened ones)."""
        if ticket_ids:
            with self.store.mapped(f"cannot remove entries of the {self.name!r} collection"):
                self._collection().delete(ids=[_ticket_key(i) for i in ticket_ids])

    def count(self) -> int:
        """Tickets stored."""
        with self.store.mapped(f"cannot read the {self.name!r} collection"):
            return int(self._collection().count())

    def search(self, text: str, *, k: int = 5, where: dict[str, Any] | None = None) -> list[SearchHit]:
        """The ``k`` stored tickets closest to ``text``, best first, each citing its ``helpdesk.ticket``."""
        if not text.strip() or k <= 0:
            return []
        vector = self.store.embedder.embed([text])
        with self.store.mapped(f"cannot query the {self.name!r} collection"):
            result = self._collection().query(
                query_embeddings=vector, n_results=k, where=where, include=["documents", "metadatas", "distances"]
            )
        hits = []
        rows = zip(
            result["ids"][0],
            (result["documents"] or [[]])[0],
            (result["metadatas"] or [[]])[0],
            (result["distances"] or [[]])[0],
            strict=False,
        )
        for chunk_id, document, meta, distance in rows:
            ticket_id = int(meta["ticket_id"])  # type: ignore[arg-type]
            name = str(meta.get("name", ""))
            hits.append(
                SearchHit(
                    chunk_id=chunk_id,
                    text=document or "",
                    score=round(1.0 - float(distance), 4),
                    source=name,
                    citation=Citation(model=TICKET_CITATION_MODEL, id=ticket_id, display_name=name),
                )
            )
        return hits
