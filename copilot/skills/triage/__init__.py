"""Helpdesk triage: category, team and priority with calibrated confidence, learned from Odoo's tickets.

The names are imported lazily: ``schemas`` is light, ``skill`` and ``model`` import scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.skills.triage.model import ModelNotFound, StaleModelError, TriageModel
    from copilot.skills.triage.schemas import (
        FieldPrediction,
        Label,
        ProposedTicketUpdate,
        TicketClassification,
        TriageInput,
    )
    from copilot.skills.triage.skill import Triager, classify_ticket, load_triager, model_owner

__all__ = [
    "FieldPrediction",
    "Label",
    "ModelNotFound",
    "ProposedTicketUpdate",
    "StaleModelError",
    "TicketClassification",
    "TriageInput",
    "TriageModel",
    "Triager",
    "classify_ticket",
    "load_triager",
    "model_owner",
]

__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("ModelNotFound", "StaleModelError", "TriageModel"), "model"),
        **dict.fromkeys(
            ("FieldPrediction", "Label", "ProposedTicketUpdate", "TicketClassification", "TriageInput"), "schemas"
        ),
        **dict.fromkeys(("Triager", "classify_ticket", "load_triager", "model_owner"), "skill"),
    },
)
