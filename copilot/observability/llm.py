"""``LLMMetricsCallback``: a LangChain callback that records each chat model call's latency and tokens."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from copilot.observability.metrics import CopilotMetrics

__all__ = ["LLMMetricsCallback"]


class LLMMetricsCallback(BaseCallbackHandler):
    """Times every call of the model it is attached to and counts the tokens its provider reports."""

    def __init__(self, metrics: CopilotMetrics, model: str) -> None:
        self.metrics = metrics
        self.model = model or "unknown"
        self._started: dict[UUID, float] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Note when the call started."""
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Note when the call started (completion models)."""
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def _seconds(self, run_id: UUID) -> float:
        with self._lock:
            started = self._started.pop(run_id, None)
        return time.perf_counter() - started if started is not None else 0.0

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Record the latency and the tokens (``token_usage`` of the provider, else each message's usage)."""
        prompt, completion = _tokens(response)
        self.metrics.llm_call(self.model, "ok", self._seconds(run_id), prompt, completion)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record a failed call."""
        self.metrics.llm_call(self.model, "error", self._seconds(run_id), 0, 0)


def _tokens(response: LLMResult) -> tuple[int, int]:
    usage = (response.llm_output or {}).get("token_usage") or {}
    if usage:
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    prompt = completion = 0
    for generations in response.generations:
        for generation in generations:
            meta = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
            prompt += int(meta.get("input_tokens") or 0)
            completion += int(meta.get("output_tokens") or 0)
    return prompt, completion
