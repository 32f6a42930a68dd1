"""Pydantic models at the retrieval boundary: chunks, search hits (with their citation), index summaries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation

__all__ = [
    "KB_CITATION_MODEL",
    "TICKET_CITATION_MODEL",
    "Chunk",
    "IndexSummary",
    "SearchHit",
    "TicketText",
    "citation_id",
]

#: ``Citation.model`` of a knowledge-base chunk. Not an Odoo model: the ``kb.`` prefix keeps it apart from
#: Odoo's dotted names (no Odoo model starts with ``kb.``), so a renderer can tell the two kinds at a glance.
KB_CITATION_MODEL = "kb.chunk"
#: ``Citation.model`` of a resolved ticket: the Odoo record itself (OCA and Enterprise use the same name).
TICKET_CITATION_MODEL = "helpdesk.ticket"

FileKind = Literal["md", "txt", "html", "pdf"]


def citation_id(chunk_id: str) -> int:
    """A stable positive integer for a chunk id (``Citation.id`` is an int): the first 60 bits of its hash."""
    digest = chunk_id.split("-", 1)[-1]
    return int(digest[:15], 16) or 1


class Chunk(BaseModel):
    """One passage of a source file, as stored in the ``knowledge`` collection."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id: a hash of corpus, source, heading, text and occurrence")
    text: str = Field(min_length=1, description="The passage (what a reader sees)")
    corpus: str = Field(description="The indexed folder (absolute path unless named with --corpus)")
    source: str = Field(description="Path of the file relative to the corpus folder, with / separators")
    title: str = Field(default="", description="Document title (first heading, <title>, or the file name)")
    heading: str = Field(default="", description="Heading path, e.g. 'Returns policy > Damaged in transit'")
    index: int = Field(ge=0, description="Position of the chunk in its file")
    kind: FileKind
    page: int | None = Field(default=None, ge=1, description="PDF page the chunk comes from")

    def embedding_text(self) -> str:
        """What is embedded: title and heading path give a short passage its context."""
        parts = [self.title] if self.title and not self.heading.startswith(self.title) else []
        if self.heading:
            parts.append(self.heading)
        context = " > ".join(parts)
        return f"{context}\n{self.text}" if context else self.text


class SearchHit(BaseModel):
    """One passage returned for a query, best first, with the citation a skill attaches to its answer."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    text: str
    score: float = Field(description="Cosine similarity of query and passage (1 is identical)")
    source: str = Field(description="File relative to its corpus, or the ticket reference")
    heading: str = ""
    title: str = ""
    corpus: str = ""
    page: int | None = None
    citation: Citation

    def label(self) -> str:
        """Where the passage comes from, e.g. ``returns_policy.md › Damaged in transit``."""
        where = self.source + (f" p.{self.page}" if self.page else "")
        return f"{where} › {self.heading}" if self.heading else where


class TicketText(BaseModel):
    """A resolved helpdesk ticket to store in the ``tickets`` collection."""

    model_config = ConfigDict(frozen=True)

    ticket_id: int = Field(gt=0, description="Odoo id of the helpdesk.ticket")
    name: str = Field(description="Reference or subject shown for the ticket, e.g. 'HT00012 Broken chair'")
    text: str = Field(min_length=1, description="Subject, description and resolution, as one text")
    metadata: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Labels to filter on (category, team, partner, closed_at, ...)"
    )


class IndexSummary(BaseModel):
    """What one ``copilot index`` run did."""

    corpus: str
    files: int = Field(ge=0, description="Readable files found in the folder")
    new: int = Field(ge=0)
    changed: int = Field(ge=0)
    unchanged: int = Field(ge=0)
    deleted: int = Field(ge=0, description="Files indexed before that are gone now")
    skipped: list[str] = Field(default_factory=list, description="Files without text or that could not be read")
    chunks_embedded: int = Field(ge=0)
    chunks_kept: int = Field(ge=0, description="Chunks of changed files whose text did not change (not re-embedded)")
    chunks_removed: int = Field(ge=0)
    chunks_total: int = Field(ge=0, description="Chunks of this corpus in the collection after the run")
    seconds: float = Field(ge=0)

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        text = (
            f"indexed {self.files} files: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.deleted} deleted; {self.chunks_embedded} chunks embedded, {self.chunks_removed} removed "
            f"in {self.seconds:.1f} s"
        )
        if self.skipped:
            text += f" ({len(self.skipped)} skipped: no text)"
        return text
