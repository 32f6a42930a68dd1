"""The trained triage model: one calibrated linear head per label over sentence embeddings.

An artefact is a folder ``<models>/triage/<odoo>/<version>/`` holding ``model.json`` (metadata,
classes, temperatures: readable, diffable) and ``arrays.npz`` (weights and the embeddings of the
training tickets, used as evidence). No pickle: loading an artefact never runs code. ``LATEST`` in
the parent folder names the version in use.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from copilot.errors import CopilotError
from copilot.retrieval.embeddings import EmbedderInfo
from copilot.skills.triage.schemas import Label, LabelField

__all__ = [
    "FORMAT_VERSION",
    "ClassScore",
    "ExampleTicket",
    "FieldReport",
    "Head",
    "HeadInfo",
    "ModelNotFound",
    "StaleModelError",
    "TrainingMetadata",
    "TriageModel",
    "model_root",
    "softmax",
]

FORMAT_VERSION = 1
_LATEST = "LATEST"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ModelNotFound(CopilotError):
    """No trained triage model exists for this Odoo."""


class StaleModelError(CopilotError):
    """The model was trained on labels that Odoo no longer has: it must be retrained."""


class ClassScore(BaseModel):
    """Precision, recall and F1 of one class on held-out tickets."""

    model_config = ConfigDict(frozen=True)

    label: Label
    precision: float
    recall: float
    f1: float
    support: int


class FieldReport(BaseModel):
    """Held-out scores of one field's classifier."""

    model_config = ConfigDict(frozen=True)

    field: LabelField
    examples: int
    accuracy: float
    macro_f1: float
    per_class: list[ClassScore]
    labels: list[Label] = Field(description="Row and column order of the confusion matrix")
    confusion: list[list[int]] = Field(description="confusion[true][predicted]")
    threshold: float
    coverage: float = Field(description="Share of tickets whose probability reaches the threshold")
    selective_accuracy: float | None = Field(description="Accuracy on the covered tickets")
    ece: float = Field(description="Expected calibration error (10 bins) of the top probability")


class HeadInfo(BaseModel):
    """What one head predicts and how it was trained (the JSON part of the artefact)."""

    model_config = ConfigDict(frozen=True)

    field: LabelField
    odoo_field: str | None
    classes: list[Label]
    counts: dict[str, int] = Field(description="Training tickets per class name")
    excluded: dict[str, int] = Field(description="Classes with too few tickets to learn (name -> count)")
    temperature: float = Field(gt=0, description="Softmax temperature fitted on out-of-fold scores")
    regularization_c: float
    cross_validated: FieldReport | None = None


class Head:
    """A linear classifier with a calibrated softmax."""

    def __init__(self, info: HeadInfo, coef: np.ndarray, intercept: np.ndarray) -> None:
        if coef.shape[0] != len(info.classes) or intercept.shape != (len(info.classes),):
            raise ValueError(f"{info.field}: weights do not match the {len(info.classes)} classes")
        self.info = info
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Raw logits, one row per vector."""
        return vectors @ self.coef.T + self.intercept

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, one row per vector (columns follow ``info.classes``)."""
        return softmax(self.scores(vectors) / self.info.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class ExampleTicket(BaseModel):
    """A training ticket kept as evidence: which labels it had."""

    model_config = ConfigDict(frozen=True)

    id: int
    reference: str | None
    subject: str
    labels: dict[LabelField, Label]


class TrainingMetadata(BaseModel):
    """Everything about how the model was made: stored in model.json, shown by ``triage report``."""

    model_config = ConfigDict(frozen=True)

    format_version: int = FORMAT_VERSION
    version: str = Field(description="e.g. 20261126T160505: the training time, unique per Odoo")
    trained_at: datetime
    odoo: str = Field(description="Which Odoo: the URL's host or 'sandbox'")
    database: str
    flavour: str = Field(description="The Helpdesk app the tickets came from")
    embedder: EmbedderInfo
    seed: int
    min_examples: int = Field(description="Classes with fewer labelled tickets are not learned")
    labelled_tickets: int
    catalog: dict[LabelField, list[Label]] = Field(description="Every label Odoo had at training time")
    heads: list[HeadInfo]
    cv_description: str


class TriageModel:
    """A loaded artefact: heads per field plus the training tickets' embeddings."""

    def __init__(
        self,
        metadata: TrainingMetadata,
        heads: dict[LabelField, Head],
        examples: list[ExampleTicket],
        example_vectors: np.ndarray,
    ) -> None:
        if example_vectors.shape[0] != len(examples):
            raise ValueError("one embedding per example ticket is required")
        self.metadata = metadata
        self.heads = heads
        self.examples = examples
        self.example_vectors = example_vectors.astype(np.float32)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, root: Path) -> Path:
        """Write the artefact under ``root/<version>/`` and point ``root/LATEST`` at it."""
        folder = root / self.metadata.version
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"example_vectors": self.example_vectors}
        for name, head in self.heads.items():
            arrays[f"{name}.coef"] = head.coef
            arrays[f"{name}.intercept"] = head.intercept
        np.savez_compressed(folder / "arrays.npz", **arrays)
        document = {
            "metadata": self.metadata.model_dump(mode="json"),
            "examples": [e.model_dump(mode="json") for e in self.examples],
        }
        (folder / "model.json").write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
        (root / _LATEST).write_text(self.metadata.version + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path) -> TriageModel:
        """Read an artefact folder; a missing or foreign one raises ``ModelNotFound``."""
        try:
            document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except FileNotFoundError as exc:
            raise ModelNotFound(f"no triage model in {folder}; train one with `copilot triage train`") from exc
        except (ValueError, OSError) as exc:
            raise ModelNotFound(f"the triage model in {folder} is unreadable ({exc}); retrain it") from exc
        fmt = document.get("metadata", {}).get("format_version")
        if fmt != FORMAT_VERSION:
            raise ModelNotFound(
                f"the triage model in {folder} has format {fmt}, this copilot reads {FORMAT_VERSION}; retrain it"
            )
        metadata = TrainingMetadata.model_validate(document["metadata"])
        heads = {
            info.field: Head(info, arrays[f"{info.field}.coef"], arrays[f"{info.field}.intercept"])
            for info in metadata.heads
        }
        examples = [ExampleTicket.model_validate(e) for e in document["examples"]]
        return cls(metadata, heads, examples, arrays["example_vectors"])

    @classmethod
    def load_latest(cls, root: Path) -> TriageModel:
        """The version ``root/LATEST`` names."""
        try:
            version = (root / _LATEST).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ModelNotFound(
                f"no triage model has been trained for this Odoo (looked in {root}); run `copilot triage train`"
            ) from None
        return cls.load(root / version)

    # -- use -----------------------------------------------------------------------------------
    def probabilities(self, vectors: np.ndarray) -> dict[LabelField, np.ndarray]:
        """Calibrated probabilities per field."""
        return {name: head.probabilities(vectors) for name, head in self.heads.items()}

    def nearest(
        self, vector: np.ndarray, k: int = 3, exclude_id: int | None = None
    ) -> list[tuple[ExampleTicket, float]]:
        """The ``k`` training tickets most similar to ``vector`` (cosine), best first."""
        if not self.examples:
            return []
        sims = self.example_vectors @ vector
        order = np.argsort(-sims, kind="stable")
        out: list[tuple[ExampleTicket, float]] = []
        for i in order:
            example = self.examples[int(i)]
            if example.id == exclude_id:
                continue
            out.append((example, float(sims[i])))
            if len(out) == k:
                break
        return out


def model_root(data_dir: Path, odoo: str, database: str) -> Path:
    """Where the artefacts of one Odoo database live: models of different databases never mix."""
    return data_dir / "models" / "triage" / _SAFE.sub("_", f"{odoo}-{database}")
