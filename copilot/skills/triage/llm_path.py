"""The LLM's opinion: it sees the allowed labels and similar past tickets and picks labels in a schema.

It may only choose values that exist in Odoo (anything else rejects the whole answer). The caller
combines its choice with the classifier's: agreement keeps the confidence, disagreement halves it.
"""

from __future__ import annotations

import hashlib
import json

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from copilot.errors import LLMInvalidOutput
from copilot.llm_io import call_model, parse_json_answer, spotlight
from copilot.prompts import VersionedPrompt
from copilot.skills.triage.labels import TriageLabels, describe
from copilot.skills.triage.schemas import FIELDS, Label, LabelField, SimilarTicket

__all__ = ["PROMPT_NAME", "LLMLabels", "ask_llm"]

PROMPT_NAME = "triage_classify"
MAX_BODY_CHARS = 8_000


class LLMLabels(BaseModel):
    """The model's answer: a label value per field (null when none fits)."""

    model_config = ConfigDict(extra="ignore")

    category: int | str | None = None
    team: int | str | None = None
    priority: int | str | None = None
    reason: str = Field(default="", max_length=600)


def _spotlight(text: str) -> str:
    return spotlight(text, "untrusted_issue")


def _allowed_json(labels: TriageLabels) -> str:
    return json.dumps(
        {
            field: [{"value": lb.value, "meaning": describe(field, lb)} for lb in label_set.labels]
            for field, label_set in labels.fields.items()
        },
        ensure_ascii=False,
    )


def _similar_json(similar: list[SimilarTicket]) -> str:
    rows = [
        {
            "subject": s.subject,
            **{f: getattr(s, f).name for f in FIELDS if getattr(s, f) is not None},
        }
        for s in similar
    ]
    return json.dumps(rows, ensure_ascii=False) if rows else "(none: no labelled tickets yet)"


def _resolve(labels: TriageLabels, field: LabelField, value: int | str | None) -> Label | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    label_set = labels.get(field)
    if label_set is None:
        return None
    for lb in label_set.labels:
        if str(lb.value) == str(value).strip() or lb.name.lower() == str(value).strip().lower():
            return lb
    raise LLMInvalidOutput(f"the answer chose {field} {value!r}, which does not exist in Odoo")


def ask_llm(
    llm: BaseChatModel,
    prompt: VersionedPrompt,
    *,
    subject: str,
    body: str,
    labels: TriageLabels,
    similar: list[SimilarTicket],
    timeout: float | None,
) -> dict[LabelField, Label]:
    """The labels the model chose, each one checked against Odoo's label set."""
    text = _spotlight(body[:MAX_BODY_CHARS]) or "(no text)"
    messages = prompt.to_messages(
        output_schema=json.dumps(LLMLabels.model_json_schema(), separators=(",", ":")),
        allowed_labels=_allowed_json(labels),
        similar_tickets=_similar_json(similar),
        boundary=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        subject=_spotlight(subject) or "(no subject)",
        body=text,
    )
    answer = parse_json_answer(call_model(llm, messages, timeout=timeout), LLMLabels)
    chosen: dict[LabelField, Label] = {}
    for field in FIELDS:
        label = _resolve(labels, field, getattr(answer, field))
        if label is not None:
            chosen[field] = label
    return chosen
