"""Retrieval: chunking, loaders, incremental indexing, the tickets collection, the store's client, the CLI.

These tests use a fast hashing embedder (bag of words) so that they check the bookkeeping, not the model;
``test_retrieval_sample_kb.py`` runs the real model on the sample knowledge base.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from copilot.config import load_settings
from copilot.retrieval import (
    Chunk,
    KnowledgeBase,
    RetrievalError,
    TicketIndex,
    TicketText,
    VectorStore,
    chunk_document,
    chunk_id,
    index_folder,
    load_bytes,
    sample_kb_path,
    split_text,
)
from copilot.retrieval.chunking import unwrap
from copilot.retrieval.embeddings import EmbedderInfo
from copilot.retrieval.schemas import IndexSummary, citation_id


# -- helpers -----------------------------------------------------------------------------------------
class HashEmbedder:
    """Deterministic bag-of-words vectors (64 dimensions): texts sharing words are close. No model."""

    def __init__(self, name: str = "hash-bow") -> None:
        self._name = name

    @property
    def info(self) -> EmbedderInfo:
        return EmbedderInfo(name=self._name, package="tests", version="0", dimension=64)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % 64] += 1.0  # noqa: S324
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


class CountingEmbedder:
    """Wraps an embedder and counts the texts (and calls) it embedded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.calls = 0

    @property
    def info(self) -> EmbedderInfo:
        return self.inner.info

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def reset(self) -> None:
        self.texts.clear()
        self.calls = 0


def make_pdf(pages: list[list[str]], title: str) -> bytes:
    """A small text PDF written with pypdf (Helvetica, one line per string)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    font = writer._add_object(  # pypdf has no public way to add a font object
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        escaped = (line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines)
        stream = StreamObject()
        stream.set_data(f"BT /F1 11 Tf 14 TL 72 720 Td {' '.join(f'({e}) Tj T*' for e in escaped)} ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


RETURNS_MD = """# Returns policy

Intro paragraph about returns for business customers.

## Return window

Products may be returned within 30 days of delivery, unused, in the original packaging.

## Damaged in transit

Report damage within 48 hours of delivery with photos of the product and the packaging.
"""

SHIPPING_TXT = "Shipping\n\nStocked products ship within 2 business days. Freight delivers pallets curbside.\n"

FAQ_HTML = """<html><head><title>FAQ</title><style>.x{color:red}</style><script>var secret = 1;</script></head>
<body><h1>FAQ</h1><h2>Payment</h2><p>Invoices are due <b>net 30</b> days &amp; a 2% discount
applies within 10 days.</p><noscript>enable javascript</noscript></body></html>"""


def write_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "returns.md").write_text(RETURNS_MD)
    (folder / "shipping.txt").write_text(SHIPPING_TXT)
    (folder / "faq.html").write_text(FAQ_HTML)
    (folder / "pallets.pdf").write_bytes(
        make_pdf(
            [["Pallet returns", "Pallets need an RMA number and shrink wrap."], ["Pickup is booked by us."]], "Pallets"
        )
    )
    return folder


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder(HashEmbedder())


@pytest.fixture
def kb(tmp_path: Path, embedder: CountingEmbedder) -> KnowledgeBase:
    store = VectorStore.from_settings(load_settings(data_dir=tmp_path / "data"), embedder=embedder)
    return KnowledgeBase(store)


# -- chunking ----------------------------------------------------------------------------------------
def test_split_text_respects_size_and_overlaps_consecutive_chunks() -> None:
    text = " ".join(f"Sentence {i} says the pallet ships on day {i}." for i in range(80))
    chunks = split_text(text, size=300, overlap=80)
    assert len(chunks) > 5
    assert all(len(c) <= 300 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        shared = after.split(". ")[0]
        assert shared in before, "each chunk starts with the end of the one before"
        assert after[0].isupper(), "the overlap starts on a sentence boundary"
    assert "Sentence 79 says" in chunks[-1] and chunks[0].startswith("Sentence 0 says")


def test_split_text_keeps_paragraphs_whole_when_they_fit() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 30 for i in range(6)]
    chunks = split_text("\n\n".join(p.strip() for p in paragraphs), size=400, overlap=0)
    for chunk in chunks:
        for part in chunk.split("\n\n"):
            assert part.startswith("Paragraph "), "no paragraph is cut when it fits"
    assert sum(c.count("Paragraph ") for c in chunks) == 6  # no overlap asked: each paragraph once


def test_split_text_cuts_a_giant_word_and_rejects_bad_sizes() -> None:
    chunks = split_text("x" * 1000, size=300, overlap=50)
    assert all(len(c) <= 300 for c in chunks) and "".join(chunks).count("x") >= 1000
    assert split_text("   \n\n  ") == []
    with pytest.raises(ValueError, match="overlap"):
        split_text("text", size=100, overlap=100)


def test_unwrap_joins_hard_wrapped_lines_but_keeps_lists_and_tables() -> None:
    text = "A sentence wrapped\nacross two lines.\n\n- item one\n  continued\n- item two\n| a | b |\n| c | d |"
    assert (
        unwrap(text) == "A sentence wrapped across two lines.\n\n- item one continued\n- item two\n| a | b |\n| c | d |"
    )


def test_chunk_ids_are_stable_and_depend_on_corpus_source_heading_and_text() -> None:
    base = chunk_id("kb", "returns.md", "Returns", "Thirty days.")
    assert base == chunk_id("kb", "returns.md", "Returns", "Thirty days.")
    others = {
        chunk_id("kb2", "returns.md", "Returns", "Thirty days."),
        chunk_id("kb", "other.md", "Returns", "Thirty days."),
        chunk_id("kb", "returns.md", "Shipping", "Thirty days."),
        chunk_id("kb", "returns.md", "Returns", "Thirty days!"),
        chunk_id("kb", "returns.md", "Returns", "Thirty days.", 1),
    }
    assert base not in others and len(others) == 5
    assert base.startswith("kb-") and 0 < citation_id(base) < 2**60


def test_repeated_passages_in_one_file_get_distinct_ids() -> None:
    doc = load_bytes(b"# T\n\n## A\n\nSame words.\n\n## A\n\nSame words.\n", Path("dup.md"))
    chunks = chunk_document(doc, corpus="c", source="dup.md")
    assert [c.text for c in chunks] == ["Same words.", "Same words."]
    assert len({c.id for c in chunks}) == 2


# -- loaders -----------------------------------------------------------------------------------------
def test_markdown_sections_carry_their_heading_path_and_ignore_headings_in_code() -> None:
    text = RETURNS_MD + "\n### Photos\n\n```\n# not a heading\n```\n"
    doc = load_bytes(text.encode(), Path("returns.md"))
    assert doc.title == "Returns policy" and doc.kind == "md"
    assert [s.heading for s in doc.sections] == [
        "Returns policy",
        "Returns policy > Return window",
        "Returns policy > Damaged in transit",
        "Returns policy > Damaged in transit > Photos",
    ]
    assert "# not a heading" in doc.sections[-1].text


def test_html_keeps_visible_text_only() -> None:
    doc = load_bytes(FAQ_HTML.encode(), Path("faq.html"))
    assert doc.title == "FAQ"
    assert [s.heading for s in doc.sections] == ["FAQ > Payment"]
    text = doc.sections[0].text
    assert text == "Invoices are due net 30 days & a 2% discount applies within 10 days."
    assert "secret" not in text and "color" not in text and "javascript" not in text


def test_text_and_pdf_loaders() -> None:
    txt = load_bytes(SHIPPING_TXT.encode(), Path("shipping_terms.txt"))
    assert txt.title == "Shipping terms" and txt.sections[0].heading == ""
    pdf = load_bytes(make_pdf([["Pallet returns", "Need an RMA."], [], ["Last page."]], "Pallets"), Path("p.pdf"))
    assert pdf.title == "Pallets" and pdf.kind == "pdf"
    assert [(s.page, s.text) for s in pdf.sections] == [(1, "Pallet returns Need an RMA."), (3, "Last page.")]
    chunks = chunk_document(pdf, corpus="c", source="p.pdf")
    assert [c.page for c in chunks] == [1, 3] and chunks[0].embedding_text().startswith("Pallets\n")


def test_chunk_embedding_text_puts_the_heading_path_first() -> None:
    fields = {"corpus": "c", "source": "r.md", "index": 0, "kind": "md"}
    chunk = Chunk(id="kb-1", text="Report within 48 hours.", title="Returns", heading="Returns > Damage", **fields)
    assert chunk.embedding_text() == "Returns > Damage\nReport within 48 hours."
    with pytest.raises(ValidationError):
        Chunk(id="kb-1", text="", **fields)


# -- incremental indexing ----------------------------------------------------------------------------
def test_first_run_indexes_every_kind_and_search_cites_the_chunk(
    kb: KnowledgeBase, embedder: CountingEmbedder, tmp_path: Path
) -> None:
    folder = write_kb(tmp_path / "kb")
    (folder / ".hidden.md").write_text("# secret\n\nnot indexed")
    (folder / "image.png").write_bytes(b"\x89PNG")
    summary = index_folder(folder, kb)
    assert (summary.files, summary.new, summary.changed, summary.unchanged, summary.deleted) == (4, 4, 0, 0, 0)
    assert summary.chunks_embedded == summary.chunks_total == len(embedder.texts) == 3 + 1 + 1 + 2
    assert summary.corpus == str(folder.resolve())
    assert summary.line().startswith("indexed 4 files: 4 new, 0 changed, 0 unchanged, 0 deleted; 7 chunks embedded")

    hits = kb.search("damage photos within 48 hours", k=3)
    top = hits[0]
    assert (top.source, top.heading) == ("returns.md", "Returns policy > Damaged in transit")
    assert top.citation.model == "kb.chunk" and top.citation.id == citation_id(top.chunk_id)
    assert top.citation.display_name == "returns.md › Returns policy > Damaged in transit"
    assert 0 < top.score <= 1 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    pdf_hit = kb.search("pallets shrink wrap RMA", k=1)[0]
    assert (pdf_hit.source, pdf_hit.page, pdf_hit.label()) == ("pallets.pdf", 1, "pallets.pdf p.1")


def test_second_run_on_an_unchanged_folder_embeds_nothing(
    kb: KnowledgeBase, embedder: CountingEmbedder, tmp_path: Path
) -> None:
    folder = write_kb(tmp_path / "kb")
    first = index_folder(folder, kb)
    embedder.reset()
    second = index_folder(folder, kb)
    assert embedder.calls == 0 and embedder.texts == []
    assert (second.unchanged, second.new, second.changed, second.chunks_embedded, second.chunks_removed) == (
        4, 0, 0, 0, 0
    )  # fmt: skip
    assert second.chunks_total == first.chunks_total
    assert "0 chunks embedded, 0 removed" in second.line()


def test_a_changed_file_re_embeds_only_its_new_passages(
    kb: KnowledgeBase, embedder: CountingEmbedder, tmp_path: Path
) -> None:
    folder = write_kb(tmp_path / "kb")
    index_folder(folder, kb)
    embedder.reset()
    changed = RETURNS_MD.replace("within 30 days", "within 45 days")
    (folder / "returns.md").write_text(changed)
    summary = index_folder(folder, kb)
    assert (summary.changed, summary.unchanged, summary.new) == (1, 3, 0)
    assert summary.chunks_embedded == 1 and summary.chunks_kept == 2 and summary.chunks_removed == 1
    assert len(embedder.texts) == 1 and "45 days" in embedder.texts[0]
    hit = kb.search("return window days", k=1)[0]
    assert "45 days" in hit.text
    assert not any("within 30 days" in h.text for h in kb.search("return window days", k=10))
    embedder.reset()
    assert index_folder(folder, kb).chunks_embedded == 0 and embedder.calls == 0  # metadata of kept chunks updated


def test_a_deleted_file_disappears_from_results(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = write_kb(tmp_path / "kb")
    index_folder(folder, kb)
    assert any(h.source == "shipping.txt" for h in kb.search("stocked products ship business days", k=3))
    (folder / "shipping.txt").unlink()
    summary = index_folder(folder, kb)
    assert (summary.deleted, summary.files, summary.chunks_removed, summary.chunks_embedded) == (1, 3, 1, 0)
    assert all(h.source != "shipping.txt" for h in kb.search("stocked products ship business days", k=10))


def test_new_chunking_parameters_re_chunk_every_file_and_another_model_re_embeds_it(tmp_path: Path) -> None:
    folder = write_kb(tmp_path / "kb")
    (folder / "long.md").write_text("# Long\n\n" + " ".join(f"Rule {i} applies to pallets." for i in range(60)))
    settings = load_settings(data_dir=tmp_path / "data")
    counting = CountingEmbedder(HashEmbedder())
    kb = KnowledgeBase(VectorStore.from_settings(settings, embedder=counting))
    first = index_folder(folder, kb)
    counting.reset()
    resized = index_folder(folder, kb, size=400, overlap=50)
    assert resized.changed == 5 and resized.chunks_kept == first.chunks_total - 3  # short files: same passages
    assert resized.chunks_embedded == len(counting.texts) > 0 and resized.chunks_removed == 3
    assert index_folder(folder, kb, size=400, overlap=50).unchanged == 5
    other_model = KnowledgeBase(VectorStore.from_settings(settings, embedder=HashEmbedder("hash-v2")))
    again = index_folder(folder, other_model, size=400, overlap=50)
    assert again.changed == 5 and again.chunks_embedded == again.chunks_total and again.chunks_kept == 0


def test_unreadable_and_empty_files_are_skipped_and_named(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = write_kb(tmp_path / "kb")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (folder / "empty.md").write_text("# Only a title\n")
    summary = index_folder(folder, kb)
    assert sorted(summary.skipped) == ["broken.pdf", "empty.md"] and summary.new == 4 and summary.files == 6
    assert "2 skipped" in summary.line()
    (folder / "returns.md").write_text("")  # an indexed file emptied: its chunks go
    summary = index_folder(folder, kb)
    assert summary.changed == 1 and summary.chunks_removed == 3 and "returns.md" in summary.skipped


def test_two_corpora_live_side_by_side(kb: KnowledgeBase, tmp_path: Path) -> None:
    one = write_kb(tmp_path / "one")
    two = tmp_path / "two"
    two.mkdir()
    (two / "returns.md").write_text(RETURNS_MD)
    index_folder(one, kb, corpus="one")
    summary = index_folder(two, kb, corpus="two")
    assert summary.new == 1 and summary.deleted == 0  # corpus "one" is untouched
    assert kb.count("one") == 7 and kb.count("two") == 3 and kb.count() == 10
    assert {h.corpus for h in kb.search("damage photos", k=10, corpus="two")} == {"two"}


def test_index_folder_needs_a_folder(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        index_folder(tmp_path / "missing", kb)
    assert kb.search("   ") == [] and kb.search("anything") == []


# -- tickets collection ------------------------------------------------------------------------------
def test_tickets_upsert_embeds_only_new_or_changed_texts_and_cite_the_ticket(
    tmp_path: Path, embedder: CountingEmbedder
) -> None:
    index = TicketIndex(VectorStore.from_settings(load_settings(data_dir=tmp_path / "d"), embedder=embedder))
    tickets = [
        TicketText(ticket_id=11, name="HT00011 Broken chair", text="Three chairs arrived broken; replaced.",
                   metadata={"category": "Returns & Claims", "partner": "Gemini Furniture"}),
        TicketText(ticket_id=12, name="HT00012 Invoice twice", text="Invoice charged twice; credit note issued."),
    ]  # fmt: skip
    assert index.upsert(tickets) == 2 and index.count() == 2
    embedder.reset()
    assert index.upsert(tickets) == 0 and embedder.calls == 0
    relabelled = tickets[0].model_copy(update={"metadata": {"category": "Delivery"}})
    assert index.upsert([relabelled]) == 0  # same text: metadata updated, nothing embedded
    edited = tickets[1].model_copy(update={"text": "Invoice charged twice for desks; credit note issued."})
    assert index.upsert([edited]) == 1
    hit = index.search("chairs arrived broken", k=1)[0]
    assert hit.citation.model == "helpdesk.ticket" and hit.citation.id == 11 and hit.source == "HT00011 Broken chair"
    assert index.search("chairs", k=2, where={"category": "Delivery"})[0].citation.id == 11
    index.remove([11])
    assert index.count() == 1


# -- store: embedded or server, telemetry off, errors mapped ------------------------------------------
def test_store_is_embedded_under_the_data_dir_with_telemetry_off(tmp_path: Path) -> None:
    store = VectorStore.from_settings(load_settings(data_dir=tmp_path / "data"), embedder=HashEmbedder())
    assert store.where == f"chroma at {tmp_path / 'data' / 'chroma'}"
    assert store.client.get_settings().anonymized_telemetry is False
    collection = store.collection("knowledge")
    assert collection.configuration["hnsw"]["space"] == "cosine"
    assert collection.configuration["embedding_function"].name() == "copilot-local-embedder"


def test_store_uses_a_chroma_server_when_a_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    import chromadb

    calls: dict[str, Any] = {}

    def fake_http_client(**kwargs: Any) -> object:
        calls.update(kwargs)
        return object()

    monkeypatch.setattr(chromadb, "HttpClient", fake_http_client)
    settings = load_settings().model_copy(update={"chroma_url": "https://chroma.example.com:8443/"})
    store = VectorStore.from_settings(settings, embedder=HashEmbedder())
    assert (calls["host"], calls["port"], calls["ssl"]) == ("chroma.example.com", 8443, True)
    assert calls["settings"].anonymized_telemetry is False
    assert store.where == "chroma server https://chroma.example.com:8443"


def test_an_unreachable_chroma_server_is_a_retrieval_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import chromadb

    def refuse(**kwargs: Any) -> object:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(chromadb, "HttpClient", refuse)
    settings = load_settings().model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    with pytest.raises(RetrievalError, match=r"cannot reach the Chroma server at http://127\.0\.0\.1:9"):
        VectorStore.from_settings(settings, embedder=HashEmbedder())


# -- CLI -----------------------------------------------------------------------------------------------
@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The commands wired as in ``copilot.cli`` (the hashing embedder stands in for the model)."""
    from copilot.cli import _index

    monkeypatch.setattr("copilot.retrieval.embeddings.LocalEmbedder", HashEmbedder)
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    app.command("index")(_index.index)
    app.add_typer(_index.kb_app, name="kb")
    return app


def test_cli_index_twice_then_search(cli: typer.Typer, tmp_path: Path) -> None:
    folder = write_kb(tmp_path / "kb")
    runner = CliRunner()
    first = runner.invoke(cli, ["index", str(folder)])
    assert first.exit_code == 0, first.output
    assert "indexed 4 files: 4 new, 0 changed, 0 unchanged, 0 deleted; 7 chunks embedded, 0 removed in" in first.stdout
    second = runner.invoke(cli, ["index", str(folder), "--json"])
    summary = IndexSummary.model_validate(json.loads(second.stdout))
    assert (summary.unchanged, summary.chunks_embedded) == (4, 0)
    found = runner.invoke(cli, ["kb", "search", "damage photos 48 hours", "--k", "2", "--json"])
    hits = json.loads(found.stdout)
    assert len(hits) == 2 and hits[0]["source"] == "returns.md" and hits[0]["citation"]["model"] == "kb.chunk"
    table = runner.invoke(cli, ["kb", "search", "damage photos 48 hours", "-k", "1"])
    assert table.exit_code == 0 and "returns.md" in table.stdout


def test_cli_index_defaults_to_the_sample_kb_and_search_on_an_empty_store(cli: typer.Typer) -> None:
    runner = CliRunner()
    empty = runner.invoke(cli, ["kb", "search", "returns"])
    assert empty.exit_code == 0 and "index documents first" in empty.stdout
    result = runner.invoke(cli, ["index", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["corpus"] == str(sample_kb_path()) and summary["new"] == summary["files"] >= 8
    assert runner.invoke(cli, ["index", "--chunk-size", "300", "--overlap", "300"]).exit_code == 2
