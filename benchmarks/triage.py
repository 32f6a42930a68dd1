"""Triage speed on the CPU: model load, training on a few hundred tickets, classifying 1,000 tickets.

Run: ``python -m benchmarks.triage [--tickets 1000] [--train 300] [--threads N]``. Offline: the
tickets are variations of the sandbox's recorded ones (order numbers, greetings, sentence order and
length vary). Classification figures exclude the model load, which is printed on its own line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime

from copilot.config import load_settings
from copilot.odoo.session import odoo_session
from copilot.retrieval.embeddings import LocalEmbedder
from copilot.skills.triage.labels import labels_from_catalog
from copilot.skills.triage.schemas import TriageInput
from copilot.skills.triage.skill import Triager
from copilot.skills.triage.training import Example, examples_from_tickets, train_model
from copilot.tools.helpdesk import detect_helpdesk, get_tickets, load_catalog

_GREETINGS = ["Hello,", "Hi team,", "Dear customer service,", "Good morning,", ""]
_CLOSINGS = ["Thanks.", "Best regards, Sam", "Kind regards", "Please advise asap.", ""]


def _variants(examples: list[Example], n: int, rng: random.Random) -> list[Example]:
    """``n`` plausible tickets derived from the recorded ones (labels kept)."""
    out = []
    for i in range(n):
        base = examples[i % len(examples)]
        sentences = [s.strip() for s in base.text.replace("\n", ". ").split(". ") if s.strip()]
        rng.shuffle(sentences)
        keep = sentences[: max(1, rng.randint(len(sentences) // 2, len(sentences)))]
        order = f"S{rng.randint(1, 99999):05d}"
        text = " ".join([rng.choice(_GREETINGS), f"(order {order})", ". ".join(keep), rng.choice(_CLOSINGS)])
        out.append(Example(10_000 + i, None, base.subject, text.strip(), base.labels))
    return out


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000, help="Tickets to classify.")
    parser.add_argument("--train", type=int, default=300, help="Tickets to train on.")
    parser.add_argument("--threads", type=int, default=0, help="Torch threads (0: torch's default).")
    args = parser.parse_args()
    rng = random.Random(42)  # noqa: S311 - reproducible test data, not security
    settings = load_settings(sandbox_keep_writes=False)  # the recording, as measured
    with odoo_session(settings) as odoo:
        catalog = load_catalog(odoo.client, detect_helpdesk(odoo.client))
        labels = labels_from_catalog(catalog)
        recorded = examples_from_tickets(get_tickets(odoo.client, catalog, limit=10_000), labels)
    print(f"Odoo: {odoo.label}; {len(recorded)} labelled tickets recorded")

    started = time.perf_counter()
    embedder = LocalEmbedder()
    embedder.load()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"embedding model load (torch import + weights)  {time.perf_counter() - started:6.2f} s")
    print(f"torch threads                                  {torch.get_num_threads()}")

    training = recorded + _variants(recorded, max(0, args.train - len(recorded)), rng)
    started = time.perf_counter()
    vectors = embedder.embed([e.text for e in training])
    embedded = time.perf_counter() - started
    model = train_model(
        training,
        labels,
        catalog,
        embedder,
        odoo="benchmark",
        database="demo",
        trained_at=datetime.now(UTC),
        vectors=vectors,
    )
    fitted = time.perf_counter() - started - embedded
    print(
        f"train on {len(training)} tickets                          {embedded + fitted:6.2f} s "
        f"(embedding {embedded:.2f} s, fitting + cross-validation {fitted:.2f} s)"
    )

    triager = Triager(labels=labels, embedder=embedder, model=model, threshold=settings.triage_min_confidence)
    tickets = _variants(recorded, args.tickets, rng)
    triager.classify(TriageInput(body=tickets[0].text))  # warm-up (first call allocates)
    latencies = []
    started = time.perf_counter()
    for t in tickets:
        one = time.perf_counter()
        triager.classify(TriageInput(subject=t.subject, body=t.text))
        latencies.append((time.perf_counter() - one) * 1000)
    total = time.perf_counter() - started
    print(
        f"classify {len(tickets)} tickets one by one            {len(tickets) / total:6.1f} tickets/s   "
        f"p50 {statistics.median(latencies):.1f} ms   p95 {_p95(latencies):.1f} ms   max {max(latencies):.1f} ms"
    )
    started = time.perf_counter()
    batch = embedder.embed([t.text for t in tickets])
    model.probabilities(batch)
    total = time.perf_counter() - started
    print(f"classify {len(tickets)} tickets in batches of 32       {len(tickets) / total:6.1f} tickets/s")
    long_text = " ".join(t.text for t in tickets)[:100_000]
    one = time.perf_counter()
    triager.classify(TriageInput(body=long_text))
    print(f"classify one 100 KB text                       {(time.perf_counter() - one) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
