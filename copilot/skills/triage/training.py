"""Learning from the company's own tickets: labelled examples, calibrated heads, held-out scores.

Each head is a multinomial logistic regression on the ticket embeddings (class-balanced), calibrated
by temperature scaling fitted on out-of-fold scores of an inner cross-validation. Scores are always
measured on tickets the model did not see: k-fold cross-validation by default (every ticket held
out once: the honest choice with a few dozen tickets), or one held-out split. Everything random is
seeded, so the same tickets give the same numbers.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from copilot.errors import CopilotError
from copilot.retrieval.embeddings import Embedder
from copilot.skills.triage.labels import TriageLabels
from copilot.skills.triage.model import (
    ClassScore,
    ExampleTicket,
    FieldReport,
    Head,
    HeadInfo,
    TrainingMetadata,
    TriageModel,
    softmax,
)
from copilot.skills.triage.schemas import DEFAULT_SEED, FIELDS, Label, LabelField
from copilot.tools.helpdesk import HelpdeskCatalog, Ticket

__all__ = [
    "DEFAULT_C",
    "DEFAULT_SEED",
    "Example",
    "NotEnoughTickets",
    "SplitKind",
    "describe_split",
    "evaluate",
    "examples_from_tickets",
    "fit_head",
    "train_model",
]

DEFAULT_C = 10.0
DEFAULT_FOLDS = 5
SplitKind = Literal["cv", "holdout"]


class NotEnoughTickets(CopilotError):
    """Too few labelled tickets to learn anything."""


@dataclass(frozen=True)
class Example:
    """A labelled ticket: its text and the labels an agent gave it."""

    id: int
    reference: str | None
    subject: str
    text: str
    labels: dict[LabelField, Label]


def ticket_text(subject: str, body: str) -> str:
    """What the model reads of a ticket: subject, then the description."""
    return "\n".join(part for part in (subject.strip(), body.strip()) if part)


def examples_from_tickets(tickets: Sequence[Ticket], labels: TriageLabels) -> list[Example]:
    """The labelled tickets: categorized or closed, with the labels that exist in Odoo's catalog."""
    out = []
    for t in tickets:
        if t.labels.category is None and not t.labels.closed:
            continue
        found: dict[LabelField, Label] = {}
        raw: dict[LabelField, int | str | None] = {
            "category": t.labels.category.id if t.labels.category else None,
            "team": t.labels.team.id if t.labels.team else None,
            "priority": t.labels.priority,
        }
        for field, value in raw.items():
            label_set = labels.get(field)
            label = label_set.by_value(value) if label_set is not None and value is not None else None
            if label is not None:
                found[field] = label
        if found:
            out.append(Example(t.id, t.reference, t.subject, ticket_text(t.subject, t.body), found))
    return out


# -- fitting ---------------------------------------------------------------------------------------
def _logistic(c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)


def _full_logits(model: LogisticRegression, vectors: np.ndarray, n_classes: int) -> np.ndarray:
    """Logits over all ``n_classes`` even when the fold saw only some of them (absent: very unlikely)."""
    raw = model.decision_function(vectors)
    if raw.ndim == 1:  # binary: sklearn gives the score of classes_[1] only
        raw = np.stack([np.zeros_like(raw), raw], axis=1)
    out = np.full((vectors.shape[0], n_classes), raw.min() - 20.0)
    out[:, model.classes_] = raw
    return out


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``y`` (1.0 when nothing to fit)."""
    if len(y) < 4:
        return 1.0

    def nll(log_t: float) -> float:
        probs = softmax(logits / np.exp(log_t))
        return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(50.0)), method="bounded")
    return float(np.exp(result.x))


def _folds(y: np.ndarray, seed: int, folds: int = DEFAULT_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    smallest = min(Counter(y.tolist()).values())
    n_splits = max(2, min(folds, len(y) // 2, max(smallest, 2)))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only 2 members"
        return list(splitter.split(np.zeros(len(y)), y))


def fit_head(
    field: LabelField,
    odoo_field: str | None,
    vectors: np.ndarray,
    y: np.ndarray,
    classes: list[Label],
    *,
    seed: int = DEFAULT_SEED,
    c: float = DEFAULT_C,
    excluded: dict[str, int] | None = None,
) -> Head:
    """Fit one calibrated head on ``vectors`` with class indices ``y`` into ``classes``."""
    n_classes = len(classes)
    if n_classes < 2:
        raise NotEnoughTickets(f"{field}: at least two classes are needed to learn, found {n_classes}")
    oof = np.zeros((len(y), n_classes))
    usable = np.zeros(len(y), dtype=bool)  # a ticket whose class its fold never saw says nothing about calibration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train_idx, test_idx in _folds(y, seed):
            seen = set(y[train_idx].tolist())
            if len(seen) < 2:
                continue
            fold_model = _logistic(c, seed).fit(vectors[train_idx], y[train_idx])
            oof[test_idx] = _full_logits(fold_model, vectors[test_idx], n_classes)
            usable[test_idx] = [label in seen for label in y[test_idx].tolist()]
        final = _logistic(c, seed).fit(vectors, y)
    temperature = _fit_temperature(oof[usable], y[usable])
    coef, intercept = final.coef_, final.intercept_
    if coef.shape[0] == 1:  # binary: sklearn keeps the score of classes_[1] only; class 0 scores 0
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    counts = Counter(classes[i].name for i in y.tolist())
    info = HeadInfo(
        field=field,
        odoo_field=odoo_field,
        classes=classes,
        counts=dict(sorted(counts.items())),
        excluded=excluded or {},
        temperature=temperature,
        regularization_c=c,
    )
    return Head(info, coef, intercept)


@dataclass(frozen=True)
class _FieldData:
    field: LabelField
    odoo_field: str | None
    rows: np.ndarray  # indices into the examples
    y: np.ndarray
    classes: list[Label]
    excluded: dict[str, int]


def _field_data(examples: Sequence[Example], labels: TriageLabels, field: LabelField, min_examples: int) -> _FieldData:
    label_set = labels.get(field)
    counts = Counter(e.labels[field].value for e in examples if field in e.labels)
    kept = [lb for lb in (label_set.labels if label_set else []) if counts.get(lb.value, 0) >= min_examples]
    excluded = {
        lb.name: counts[lb.value]
        for lb in (label_set.labels if label_set else [])
        if 0 < counts.get(lb.value, 0) < min_examples
    }
    index = {lb.value: i for i, lb in enumerate(kept)}
    rows = [i for i, e in enumerate(examples) if field in e.labels and e.labels[field].value in index]
    y = np.array([index[examples[i].labels[field].value] for i in rows], dtype=np.int64)
    return _FieldData(
        field, label_set.odoo_field if label_set else None, np.array(rows, dtype=np.int64), y, kept, excluded
    )


# -- evaluation ------------------------------------------------------------------------------------
def describe_split(kind: SplitKind, seed: int, test_size: float, folds: int = DEFAULT_FOLDS) -> str:
    """The split in one sentence, for the report."""
    if kind == "cv":
        return (
            f"{folds}-fold stratified cross-validation (seed {seed}): every labelled ticket is classified "
            "once by a model trained without it; calibration is refitted inside each training fold"
        )
    return (
        f"one stratified held-out split (seed {seed}): {test_size:.0%} of the labelled tickets are classified "
        "by a model trained on the rest"
    )


def _report(
    field: LabelField, classes: list[Label], y_true: np.ndarray, probs: np.ndarray, threshold: float
) -> FieldReport:
    y_pred = probs.argmax(axis=1)
    top = probs.max(axis=1)
    idx = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0.0)
    present = [i for i in idx if support[i] > 0]
    covered = top >= threshold
    correct = y_pred == y_true
    bins = np.minimum((top * 10).astype(int), 9)
    ece = sum(
        abs(float(correct[bins == b].mean()) - float(top[bins == b].mean())) * float((bins == b).mean())
        for b in range(10)
        if (bins == b).any()
    )
    return FieldReport(
        field=field,
        examples=len(y_true),
        accuracy=float(correct.mean()) if len(y_true) else 0.0,
        macro_f1=float(np.mean(f1[present])) if present else 0.0,
        per_class=[
            ClassScore(
                label=classes[i],
                precision=float(precision[i]),
                recall=float(recall[i]),
                f1=float(f1[i]),
                support=int(support[i]),
            )
            for i in idx
        ],
        labels=classes,
        confusion=confusion_matrix(y_true, y_pred, labels=idx).tolist(),
        threshold=threshold,
        coverage=float(covered.mean()) if len(y_true) else 0.0,
        selective_accuracy=float(correct[covered].mean()) if covered.any() else None,
        ece=float(ece),
    )


def _evaluate_field(
    data: _FieldData,
    vectors: np.ndarray,
    *,
    kind: SplitKind,
    seed: int,
    test_size: float,
    threshold: float,
    c: float,
) -> FieldReport:
    x = vectors[data.rows]
    n_classes = len(data.classes)
    if kind == "cv":
        splits = _folds(data.y, seed)
    else:
        train_idx, test_idx = train_test_split(
            np.arange(len(data.y)), test_size=test_size, random_state=seed, stratify=data.y
        )
        splits = [(np.sort(train_idx), np.sort(test_idx))]
    y_true: list[int] = []
    probs: list[np.ndarray] = []
    for train_idx, test_idx in splits:
        labels_in_train = sorted(set(data.y[train_idx].tolist()))
        if len(labels_in_train) < 2:
            continue
        # Fit on the classes this fold saw; map back to all classes (unseen ones get probability 0).
        remap = {old: new for new, old in enumerate(labels_in_train)}
        head = fit_head(
            data.field,
            data.odoo_field,
            x[train_idx],
            np.array([remap[v] for v in data.y[train_idx].tolist()]),
            [data.classes[i] for i in labels_in_train],
            seed=seed,
            c=c,
        )
        p = np.zeros((len(test_idx), n_classes))
        p[:, labels_in_train] = head.probabilities(x[test_idx])
        probs.append(p)
        y_true.extend(data.y[test_idx].tolist())
    if not probs:
        raise NotEnoughTickets(f"{data.field}: not enough labelled tickets to hold any out")
    return _report(data.field, data.classes, np.array(y_true), np.vstack(probs), threshold)


def evaluate(
    examples: Sequence[Example],
    vectors: np.ndarray,
    labels: TriageLabels,
    *,
    kind: SplitKind = "cv",
    seed: int = DEFAULT_SEED,
    test_size: float = 0.3,
    threshold: float = 0.6,
    min_examples: int = 2,
    c: float = DEFAULT_C,
) -> dict[LabelField, FieldReport]:
    """Held-out scores per field (fields with fewer than two learnable classes are skipped)."""
    reports: dict[LabelField, FieldReport] = {}
    for field in FIELDS:
        data = _field_data(examples, labels, field, min_examples)
        if len(data.classes) < 2:
            continue
        reports[field] = _evaluate_field(
            data, vectors, kind=kind, seed=seed, test_size=test_size, threshold=threshold, c=c
        )
    return reports


def train_model(
    examples: Sequence[Example],
    labels: TriageLabels,
    catalog: HelpdeskCatalog,
    embedder: Embedder,
    *,
    odoo: str,
    database: str,
    trained_at: datetime,
    seed: int = DEFAULT_SEED,
    min_examples: int = 2,
    threshold: float = 0.6,
    c: float = DEFAULT_C,
    vectors: np.ndarray | None = None,
) -> TriageModel:
    """Fit every learnable head on all ``examples`` and record cross-validated scores with it."""
    if not examples:
        raise NotEnoughTickets(
            "no labelled tickets (categorized or closed) in Odoo yet: triage runs in cold-start mode until there are"
        )
    if vectors is None:
        vectors = embedder.embed([e.text for e in examples])
    heads: dict[LabelField, Head] = {}
    for field in FIELDS:
        data = _field_data(examples, labels, field, min_examples)
        if len(data.classes) < 2:
            continue
        head = fit_head(
            field, data.odoo_field, vectors[data.rows], data.y, data.classes, seed=seed, c=c, excluded=data.excluded
        )
        scores = _evaluate_field(data, vectors, kind="cv", seed=seed, test_size=0.3, threshold=threshold, c=c)
        head.info = head.info.model_copy(update={"cross_validated": scores})
        heads[field] = head
    if not heads:
        raise NotEnoughTickets(
            f"the {len(examples)} labelled tickets do not give any label two classes with {min_examples}+ tickets"
        )
    metadata = TrainingMetadata(
        version=trained_at.strftime("%Y%m%dT%H%M%S"),
        trained_at=trained_at,
        odoo=odoo,
        database=database,
        flavour=catalog.schema_.flavour.value,
        embedder=embedder.info,
        seed=seed,
        min_examples=min_examples,
        labelled_tickets=len(examples),
        catalog={f: list(ls.labels) for f, ls in labels.fields.items()},
        heads=[h.info for h in heads.values()],
        cv_description=describe_split("cv", seed, 0.3),
    )
    kept = [ExampleTicket(id=e.id, reference=e.reference, subject=e.subject, labels=e.labels) for e in examples]
    return TriageModel(metadata, heads, kept, vectors)
