"""The shipped sample knowledge base with the real local model (loaded once per session): ranking and re-indexing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.config import load_settings
from copilot.retrieval import KnowledgeBase, VectorStore, index_folder, load_bytes, sample_kb_path, scan_folder
from copilot.retrieval.embeddings import LocalEmbedder
from copilot.retrieval.schemas import IndexSummary
from tests.unit.test_retrieval import CountingEmbedder


@pytest.fixture(scope="session")
def model() -> LocalEmbedder:
    """all-MiniLM-L6-v2, loaded once for the whole session (about 5 s)."""
    embedder = LocalEmbedder()
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def sample(
    model: LocalEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[KnowledgeBase, IndexSummary]]:
    """The sample KB indexed once into a temporary store, with a counting wrapper around the model."""
    counting = CountingEmbedder(model)
    settings = load_settings(data_dir=tmp_path_factory.mktemp("sample") / "data")
    kb = KnowledgeBase(VectorStore.from_settings(settings, embedder=counting))
    summary = index_folder(sample_kb_path(), kb)
    yield kb, summary


def test_the_sample_kb_is_8_to_12_readable_documents_of_several_kinds() -> None:
    files = scan_folder(sample_kb_path())
    assert 8 <= len(files) <= 12
    assert {f.suffix for f in files} >= {".md", ".html", ".txt"}
    for path in files:
        doc = load_bytes(path.read_bytes(), path)
        assert doc.sections and doc.title, path.name


def test_indexing_the_sample_kb_embeds_every_chunk_once(sample: tuple[KnowledgeBase, IndexSummary]) -> None:
    kb, summary = sample
    assert summary.new == summary.files == len(scan_folder(sample_kb_path()))
    assert summary.chunks_embedded == summary.chunks_total == kb.count() > 30


def test_a_damaged_chair_question_ranks_the_damage_policy_first(sample: tuple[KnowledgeBase, IndexSummary]) -> None:
    kb, _ = sample
    hits = kb.search("can I return a damaged chair", k=3)
    top = hits[0]
    assert top.source in {"returns_and_rma.md", "faq.html"}
    assert "damage" in top.heading.lower() and "48 hours" in top.text
    assert ("returns_and_rma.md", "Returns and RMA policy > Damaged in transit") in {
        (h.source, h.heading) for h in hits
    }


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("what are your payment terms, is there an early payment discount", "credit_and_payment_terms.md"),
        ("the vendor wants to replace the ordered desk with another model", "substitutions_policy.md"),
        ("part of my order is missing, when will the backorder ship", "shipping_and_delivery_sla.md"),
        ("how long is the warranty on the office chair gas lift", "warranty_and_product_care.txt"),
        ("write to the customer that their delivery is late", "reply_templates.md"),
        ("a Wood Corner purchase order is past its expected date", "purchasing_and_vendor_followup.md"),
    ],
)
def test_policy_questions_find_their_document_in_the_top_3(
    sample: tuple[KnowledgeBase, IndexSummary], query: str, source: str
) -> None:
    kb, _ = sample
    assert source in [h.source for h in kb.search(query, k=3)]


def test_re_indexing_the_unchanged_sample_kb_does_no_embedding(
    sample: tuple[KnowledgeBase, IndexSummary], tmp_path: Path
) -> None:
    kb, first = sample
    counting = kb.store.embedder
    assert isinstance(counting, CountingEmbedder)
    counting.reset()
    again = index_folder(sample_kb_path(), kb)
    assert counting.calls == 0
    assert again.unchanged == again.files and again.chunks_embedded == 0 and again.chunks_removed == 0
    assert again.chunks_total == first.chunks_total
    assert "0 chunks embedded" in again.line()
