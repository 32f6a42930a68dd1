"""Cold start: with no labelled tickets, compare the text with what each label means.

Each label's description (``prompts/triage_labels``) is embedded once; a text gets the softmax of its
cosine similarities. These scores rank labels sensibly but are not calibrated probabilities, which is
why cold-start results always ask a person to confirm.
"""

from __future__ import annotations

import numpy as np

from copilot.retrieval.embeddings import Embedder
from copilot.skills.triage.labels import TriageLabels, describe
from copilot.skills.triage.model import softmax
from copilot.skills.triage.schemas import LabelField

__all__ = ["ZeroShot"]

#: Cosine similarities of short texts differ by a few hundredths; this spreads them into scores.
_TEMPERATURE = 0.05


class ZeroShot:
    """Label scores from label descriptions, for every field of a label set."""

    def __init__(self, labels: TriageLabels, embedder: Embedder) -> None:
        self.labels = labels
        self._vectors: dict[LabelField, np.ndarray] = {}
        for field, label_set in labels.fields.items():
            if label_set.labels:
                texts = [f"A customer issue about {describe(field, lb)}" for lb in label_set.labels]
                self._vectors[field] = embedder.embed(texts)

    def probabilities(self, vector: np.ndarray) -> dict[LabelField, np.ndarray]:
        """Scores per field for one text's vector (columns follow the label set's order)."""
        return {field: softmax((matrix @ vector)[None, :] / _TEMPERATURE)[0] for field, matrix in self._vectors.items()}
