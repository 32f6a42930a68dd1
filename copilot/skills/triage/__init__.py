"""Helpdesk triage: category, team and priority with calibrated confidence, learned from Odoo's tickets."""

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
