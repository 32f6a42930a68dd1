"""What an audit record holds: who asked what through which channel, which prompt and model answered,
which tools were called on which records, what the guardrails said, what came out, what was proposed."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["AuditEntry", "AuditRecord", "ChainReport", "PromptInfo", "ToolCall", "Verdict"]


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def _dump(value: Any) -> Any:
    """``value`` as JSON-able data: pydantic models dumped (nested ones too), other objects as their text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


class ToolCall(BaseModel):
    """One tool call: an Odoo call (``kind`` "odoo", name ``model.method``) or a model's tool call."""

    model_config = ConfigDict(frozen=True)

    kind: str = "tool"
    name: str
    arguments: Any = None
    record_ids: list[int] = Field(default_factory=list)
    model: str | None = None


class Verdict(BaseModel):
    """One guardrail's verdict on the request (grounding, exfiltration, injection, authorization, ...)."""

    model_config = ConfigDict(frozen=True)

    check: str
    ok: bool
    detail: str = ""


class PromptInfo(BaseModel):
    """The prompt template used: name, version and the SHA-256 of its file (``copilot.prompts.PromptRef``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    version: int
    sha256: str


class AuditEntry(BaseModel):
    """What a caller knows about one request; ``AuditTrail.append`` redacts, chains and stores it.

    Give ``input_text`` (the raw input: only its SHA-256 is kept) or ``input_hash``. ``output`` and
    ``proposals`` take pydantic models or plain data; ``prompt`` a ``PromptRef`` or a dict.
    """

    model_config = ConfigDict(frozen=True)

    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    actor: str = Field(description="Who asked: channel:external id (Actor.key), or a service name")
    actor_role: str | None = None
    channel: str
    skill: str
    input_text: str | None = Field(default=None, exclude=True, repr=False, description="Hashed, never stored")
    input_hash: str = ""
    prompt: PromptInfo | None = None
    model: str = Field(default="deterministic", description="The chat model's name, or 'deterministic'")
    tool_calls: list[ToolCall] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    output: Any = None
    proposals: list[Any] = Field(default_factory=list)
    approval_ids: list[int | str] = Field(default_factory=list)
    error: str | None = None
    duration_ms: int | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, value: Any) -> Any:
        return value.model_dump() if isinstance(value, BaseModel) else value

    @field_validator("output", "proposals", mode="before")
    @classmethod
    def _json_able(cls, value: Any) -> Any:
        return _dump(value)

    @model_validator(mode="after")
    def _hash_input(self) -> AuditEntry:
        if self.input_text is not None and not self.input_hash:
            digest = hashlib.sha256(self.input_text.encode("utf-8", "replace")).hexdigest()
            object.__setattr__(self, "input_hash", digest)
        return self


class AuditRecord(BaseModel):
    """A stored record: the (redacted) entry, its place in the chain and its hash."""

    model_config = ConfigDict(frozen=True)

    seq: int
    request_id: str
    created_at: datetime
    actor: str
    actor_role: str | None
    channel: str
    skill: str
    input_hash: str
    prompt: PromptInfo | None
    model: str
    tool_calls: list[ToolCall]
    verdicts: list[Verdict]
    output: Any
    proposals: list[Any]
    approval_ids: list[int | str]
    error: str | None
    duration_ms: int | None
    prev_hash: str
    hash: str
    version: int = Field(default=1, description="1: plain SHA-256 (before keying); 2: HMAC-SHA256 with the audit key")


class ChainReport(BaseModel):
    """The result of walking the chain: ok, or the first record that breaks it and how."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    records: int = Field(description="Records checked")
    head_hash: str | None = Field(description="The hash of the last record (keep it to detect a cut tail later)")
    first_bad_seq: int | None = None
    first_bad_request_id: str | None = None
    problem: str | None = None
    legacy_records: int = Field(default=0, description="Records written before the chain was keyed (plain SHA-256)")
    anchors: list[str] = Field(default_factory=list, description="The signed anchors the chain was checked against")

    def summary(self) -> str:
        """One line for people."""
        if self.ok:
            text = f"chain ok: {self.records} records"
            if self.legacy_records:
                text += f" ({self.legacy_records} unkeyed, from before keying)"
            text += f", head {self.head_hash}" if self.head_hash else ""
            if self.anchors:
                text += "; checked against " + ", ".join(self.anchors)
            return text
        if self.first_bad_seq is None:
            return f"chain broken: {self.problem}"
        return f"chain broken at record {self.first_bad_seq}: {self.problem}"
