"""With an LLM: the model rewrites the template draft from the same facts; the grounding check decides."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from copilot.llm_io import call_model, parse_json_answer, spotlight
from copilot.prompts import VersionedPrompt
from copilot.skills.draft_reply.schemas import Fact, KbPassage

__all__ = ["PROMPT_NAME", "LLMDraft", "write_with_llm"]

PROMPT_NAME = "reply_draft"
MAX_MESSAGE_CHARS = 8_000


class LLMDraft(BaseModel):
    """The model's reply."""

    model_config = ConfigDict(extra="ignore")

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=20, max_length=4000)
    tone: Literal["informative", "apologetic", "neutral"] = "informative"
    open_questions: list[str] = Field(default_factory=list, max_length=10)


def _spotlight(text: str) -> str:
    return spotlight(text, "untrusted_message")


def write_with_llm(
    llm: BaseChatModel,
    prompt: VersionedPrompt,
    *,
    facts: list[Fact],
    passages: list[KbPassage],
    template_subject: str,
    template_body: str,
    subject: str,
    message: str,
    timeout: float | None,
) -> LLMDraft:
    """The model's draft (``LLMError`` subclasses on any failure; grounding is checked by the caller)."""
    body = _spotlight(message[:MAX_MESSAGE_CHARS]) or "(no text)"
    messages = prompt.to_messages(
        output_schema=json.dumps(LLMDraft.model_json_schema(), separators=(",", ":")),
        facts=json.dumps([f.model_dump(mode="json", exclude={"citation"}) for f in facts], ensure_ascii=False),
        policy="\n\n".join(f"[{p.source} › {p.heading or ''}]\n{p.text}" for p in passages) or "(none)",
        template_draft=f"Subject: {template_subject}\n\n{template_body}",
        boundary=hashlib.sha256(body.encode("utf-8")).hexdigest()[:16],
        subject=_spotlight(subject) or "(no subject)",
        body=body,
    )
    return parse_json_answer(call_model(llm, messages, timeout=timeout), LLMDraft)
