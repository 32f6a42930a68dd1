"""Scores of a ranked queue against the orders that will truly be late: precision@k, recall, reciprocal rank.

The skill ranks a queue; the orders it **flags** (those it gives a risk of at least ``FLAG_AT``: more likely late
than not) are its prediction. Per case: ``top_hits`` (truly late orders among the first ``k`` flagged),
``top_size`` (how many the first ``k`` flagged holds: ``k``, or fewer), ``found`` and ``late`` (truly late orders
flagged, and in all), ``safe_listed`` / ``safe`` (on-time orders flagged, and in all), and ``rr`` (1 / rank of
the first truly late order in the whole queue, flagged or not: the ranking's own quality; 0 when none is listed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["FLAG_AT", "K", "rank_metrics", "score_ranking"]

#: The cut-off of precision@k: the orders a planner reads first.
K = 10
#: The risk from which a queued order counts as predicted late (the item's risk is a probability of missing).
FLAG_AT = 0.5


def score_ranking(
    flagged: Sequence[str],
    late: Iterable[str],
    on_time: Iterable[str] = (),
    *,
    ranked: Sequence[str] | None = None,
    k: int = K,
) -> dict[str, float]:
    """One case's counts and rates of the ``flagged`` orders (best first) in the queue ``ranked`` (default: them):
    ``precision_at_k`` (absent when nothing is flagged), ``recall`` (absent without late orders), ``rr``."""
    truly_late, safe = set(late), set(on_time)
    order = list(dict.fromkeys(flagged))  # an order listed twice counts once, at its first rank
    queue = list(dict.fromkeys(ranked if ranked is not None else flagged))
    top = order[:k]
    hits = sum(o in truly_late for o in top)
    first = next((rank for rank, o in enumerate(queue, start=1) if o in truly_late), None)
    scores: dict[str, float] = {
        "top_hits": float(hits),
        "top_size": float(len(top)),
        "found": float(sum(o in truly_late for o in order)),
        "late": float(len(truly_late)),
        "safe_listed": float(sum(o in safe for o in order)),
        "safe": float(len(safe)),
        "rr": 1.0 / first if first else 0.0,
    }
    if top:  # precision is over what was flagged: nothing flagged has none (a miss is recall's)
        scores["precision_at_k"] = hits / len(top)
    if truly_late:
        scores["recall"] = scores["found"] / len(truly_late)
    return scores


def rank_metrics(per_case: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Suite metrics: precision@k pooled over the cases' flagged top k (and its per-case mean), recall of the
    late orders (pooled), MRR over the cases with a late order, and the share of on-time orders not flagged."""
    cases = list(per_case)
    precisions = [c["precision_at_k"] for c in cases if "precision_at_k" in c]
    with_late = [c for c in cases if c.get("late", 0.0) > 0]
    top = sum(c.get("top_size", 0.0) for c in cases)
    late = sum(c.get("late", 0.0) for c in cases)
    safe = sum(c.get("safe", 0.0) for c in cases)
    return {
        "precision_at_10": sum(c.get("top_hits", 0.0) for c in cases) / top if top else 0.0,
        "recall": sum(c.get("found", 0.0) for c in cases) / late if late else 1.0,
        "mrr": sum(c.get("rr", 0.0) for c in with_late) / len(with_late) if with_late else 0.0,
        "safe_rejection_rate": 1.0 - sum(c.get("safe_listed", 0.0) for c in cases) / safe if safe else 1.0,
        "mean_precision_at_10": sum(precisions) / len(precisions) if precisions else 0.0,
    }
