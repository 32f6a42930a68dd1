"""Knowledge-base indexing and search speed on the CPU: 1,000 chunks, 200 queries, re-index of an unchanged folder.

Run: ``python -m benchmarks.retrieval [--chunks 1000] [--queries 200] [--keep DIR]``. Offline: the documents are
variations of the shipped sample knowledge base (products, customers, numbers and paragraph order vary), written
to a temporary folder and indexed into a temporary embedded Chroma store. The model load is timed on its own line;
throughput and latencies exclude it.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from copilot.config import load_settings
from copilot.retrieval import KnowledgeBase, VectorStore, index_folder, sample_kb_path, scan_folder
from copilot.retrieval.embeddings import LocalEmbedder

_PRODUCTS = ["Office Chair", "Large Desk", "Corner Desk", "Cabinet with Doors", "Acoustic Bloc Screens", "Drawer"]
_CUSTOMERS = ["Gemini Furniture", "Lumber Inc", "The Jackson Group", "Deco Addict", "Ready Mat", "Wood Corner"]
_QUERIES = [
    "can I return a damaged chair",
    "what is the restocking fee",
    "when will my backorder ship",
    "payment terms for new customers",
    "can you substitute a different desk finish",
    "how do I get an RMA number",
    "the delivery is late, what do I tell the customer",
    "warranty on the gas lift",
    "order on credit hold",
    "vendor announced a price increase",
]


def _variant(text: str, rng: random.Random, n: int) -> str:
    """The same document with other products, customers and numbers, and its paragraphs shuffled within sections."""
    text = re.sub("|".join(map(re.escape, _PRODUCTS)), lambda _: rng.choice(_PRODUCTS), text)
    text = re.sub("|".join(map(re.escape, _CUSTOMERS)), lambda _: rng.choice(_CUSTOMERS), text)
    text = re.sub(r"\b\d{1,2}\b", lambda m: str(max(1, int(m.group()) + rng.randint(-3, 5))), text)
    blocks = text.split("\n\n")
    head, body = blocks[:2], blocks[2:]
    rng.shuffle(body)
    return "\n\n".join([*head, f"Revision {n}: applies to region {rng.randint(1, 40)}.", *body])


def _write_corpus(folder: Path, chunks: int, rng: random.Random) -> int:
    """Write variations of the sample documents until they make about ``chunks`` chunks; returns the file count."""
    from copilot.retrieval import chunk_document, load_bytes

    sources = [p for p in scan_folder(sample_kb_path()) if p.suffix in {".md", ".txt", ".html"}]
    total, n = 0, 0
    while total < chunks:
        src = sources[n % len(sources)]
        path = folder / f"{src.stem}_{n:04d}{src.suffix}"
        path.write_text(_variant(src.read_text(), rng, n))
        doc = load_bytes(path.read_bytes(), path)
        total += len(chunk_document(doc, corpus="bench", source=path.name))
        n += 1
    return n


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=1000, help="Chunks to index (about).")
    parser.add_argument("--queries", type=int, default=200, help="Queries to time.")
    args = parser.parse_args()
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not security

    started = time.perf_counter()
    embedder = LocalEmbedder()
    embedder.load()
    import torch

    print(f"embedding model load (torch import + weights)  {time.perf_counter() - started:6.2f} s")
    print(f"torch threads                                  {torch.get_num_threads()}")

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        root = Path(tmp)
        folder = root / "kb"
        folder.mkdir()
        settings = load_settings(data_dir=root / "data")
        kb = KnowledgeBase(VectorStore.from_settings(settings, embedder=embedder))
        files = _write_corpus(folder, args.chunks, rng)

        first = index_folder(folder, kb)
        rate = first.chunks_embedded / first.seconds
        print(
            f"index {files} files, {first.chunks_embedded} chunks           {first.seconds:6.2f} s   "
            f"{rate:6.1f} chunks/s (load, chunk, embed, write)"
        )
        again = index_folder(folder, kb)
        print(
            f"re-index unchanged folder                      {again.seconds:6.2f} s   "
            f"{again.chunks_embedded} chunks embedded, {again.unchanged} files unchanged"
        )
        edited = sorted(folder.iterdir())[0]
        edited.write_text(edited.read_text() + "\n\nA closing paragraph added by the benchmark.\n")
        changed = index_folder(folder, kb)
        print(
            f"re-index after editing one file                {changed.seconds:6.2f} s   "
            f"{changed.chunks_embedded} chunks embedded, {changed.chunks_kept} kept"
        )

        queries = [_QUERIES[i % len(_QUERIES)] + ("" if i < len(_QUERIES) else f" {i}") for i in range(args.queries)]
        kb.search("warm-up", k=5)
        embed_ms, search_ms = [], []
        for query in queries:
            t0 = time.perf_counter()
            vector = embedder.embed([query])[0]
            t1 = time.perf_counter()
            kb.search_vector(vector, k=5)
            embed_ms.append((t1 - t0) * 1000)
            search_ms.append((time.perf_counter() - t1) * 1000)
        total_ms = [a + b for a, b in zip(embed_ms, search_ms, strict=True)]
        print(f"queries: {len(queries)}, top 5 of {kb.count()} chunks")
        for name, values in (("embed query", embed_ms), ("Chroma search", search_ms), ("query total", total_ms)):
            print(f"  {name:<45}p50 {statistics.median(values):7.2f} ms   p95 {_p95(values):7.2f} ms")


if __name__ == "__main__":
    main()
