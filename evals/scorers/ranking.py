"""Scores of a ranked queue against the orders that will truly be late: precision@k, recall, reciprocal rank.

Per case: ``top_hits`` (truly late orders among the queue's first ``k``), ``top_size`` (how many orders the first
``k`` holds: ``k``, or fewer when the queue is shorter), ``found`` and ``late`` (truly late orders in the whole
queue, and in all), ``rr`` (1 / rank of the first truly late order, 0 when none is listed) and
``safe_listed`` / ``safe`` (on-time look-alikes the queue lists, and in all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["K", "rank_metrics", "score_ranking"]

#: The cut-off of precision@k: the orders a planner reads first.
K = 10


def score_ranking(ranked: Sequence[str], late: Iterable[str], on_time: Iterable[str] = (), *, k: int = K) -> dict:
    """One case's counts and per-case rates (``precision_at_k``, ``recall``, ``rr``) of the queue ``ranked``."""
    truly_late, safe = set(late), set(on_time)
    order = list(dict.fromkeys(ranked))  # an order listed twice counts once, at its first rank
    top = order[:k]
    hits = sum(o in truly_late for o in top)
    found = sum(o in truly_late for o in order)
    first = next((rank for rank, o in enumerate(order, start=1) if o in truly_late), None)
    scores: dict[str, float] = {
        "top_hits": float(hits),
        "top_size": float(len(top)),
        "found": float(found),
        "late": float(len(truly_late)),
        "safe_listed": float(sum(o in safe for o in order)),
        "safe": float(len(safe)),
        "rr": 1.0 / first if first else 0.0,
    }
    if top or truly_late:  # an empty queue of a case without late orders is right, and has no precision
        scores["precision_at_k"] = hits / len(top) if top else 0.0
    if truly_late:
        scores["recall"] = found / len(truly_late)
    return scores


def rank_metrics(per_case: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Suite metrics: mean precision@k over the cases that have one, micro recall, MRR over cases with a late
    order, and the share of on-time look-alikes kept out of the queue (``safe_rejection_rate``)."""
    cases = list(per_case)
    precisions = [c["precision_at_k"] for c in cases if "precision_at_k" in c]
    with_late = [c for c in cases if c.get("late", 0.0) > 0]
    late = sum(c.get("late", 0.0) for c in cases)
    safe = sum(c.get("safe", 0.0) for c in cases)
    return {
        "precision_at_10": sum(precisions) / len(precisions) if precisions else 0.0,
        "recall": sum(c.get("found", 0.0) for c in cases) / late if late else 1.0,
        "mrr": sum(c.get("rr", 0.0) for c in with_late) / len(with_late) if with_late else 0.0,
        "safe_rejection_rate": 1.0 - sum(c.get("safe_listed", 0.0) for c in cases) / safe if safe else 1.0,
        "micro_precision_at_10": (
            sum(c.get("top_hits", 0.0) for c in cases) / top
            if (top := sum(c.get("top_size", 0.0) for c in cases))
            else 0.0
        ),
    }
