"""Classification scores for triage: accuracy, macro-F1, confusion matrix, coverage at the threshold."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["accuracy", "confusion", "macro_f1"]


def accuracy(truth: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Share of exact matches (an abstention counts as wrong)."""
    if not truth:
        return 0.0
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def macro_f1(truth: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Mean F1 over the classes present in ``truth``."""
    classes = sorted(set(truth))
    if not classes:
        return 0.0
    total = 0.0
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != c and p == c for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == c and p != c for t, p in zip(truth, predicted, strict=True))
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(classes)


def confusion(truth: Sequence[str], predicted: Sequence[str | None]) -> tuple[list[str], list[list[int]]]:
    """Labels (truth and predictions, sorted; '-' for none) and counts[true][predicted]."""
    labels = sorted({*truth, *(p or "-" for p in predicted)})
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        counts[index[t]][index[p or "-"]] += 1
    return labels, counts
