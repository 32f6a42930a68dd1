"""An optional LLM judge for what deterministic scorers cannot measure: tone and helpfulness.

Pinned: the judge's model is named on its own (``COPILOT_EVAL_JUDGE_MODEL``), its rubric is a
versioned prompt (``prompts/eval_judge``), temperature 0; with the eval's response cache active, a
verdict for the same model, rubric and texts is asked once.
"""

from __future__ import annotations

import json

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from copilot.llm_io import call_model, parse_json_answer
from copilot.prompts import VersionedPrompt, load_prompt

__all__ = ["JUDGE_PROMPT", "Judge", "Verdict"]

JUDGE_PROMPT = "eval_judge"


class Verdict(BaseModel):
    """The judge's grades (1..5) and why."""

    model_config = ConfigDict(extra="ignore")

    tone: int = Field(ge=1, le=5)
    helpfulness: int = Field(ge=1, le=5)
    rationale: str = Field(default="", max_length=600)


class Judge:
    """Grades (message, reply) pairs with a pinned model and rubric."""

    def __init__(self, llm: BaseChatModel, *, prompt: VersionedPrompt | None = None, timeout: float = 60.0) -> None:
        self.llm = llm
        self.prompt = prompt or load_prompt(JUDGE_PROMPT)
        self.timeout = timeout

    def grade(self, message: str, reply: str) -> Verdict:
        """The verdict (``LLMError`` subclasses when the judge fails or answers off-schema)."""
        messages = self.prompt.to_messages(
            output_schema=json.dumps(Verdict.model_json_schema(), separators=(",", ":")),
            message=message[:6000],
            reply=reply[:6000],
        )
        return parse_json_answer(call_model(self.llm, messages, timeout=self.timeout), Verdict)

    def scores(self, message: str, reply: str) -> dict[str, float]:
        """``judge_tone`` and ``judge_helpfulness`` on 0..1 (empty when the judge failed)."""
        try:
            verdict = self.grade(message, reply)
        except Exception:  # a judge failure costs the grade, never the eval run
            return {}
        return {"judge_tone": (verdict.tone - 1) / 4, "judge_helpfulness": (verdict.helpfulness - 1) / 4}
