"""Calling a chat model and reading its JSON answer: one place for deadlines, errors and parsing.

Every skill's LLM path goes through ``call_model`` (a hard deadline, failures mapped onto
``LLMTimeout``/``LLMError``) and ``parse_json_answer`` (one JSON object validated by a pydantic
schema, ``LLMInvalidOutput`` otherwise), so a model that is slow, down or talkative costs the
wording of one answer and never the answer itself.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import json
import re
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ValidationError

from copilot.errors import LLMError, LLMInvalidOutput, LLMTimeout

__all__ = ["call_model", "invoke_model", "is_timeout", "model_name", "parse_json_answer", "spotlight"]

AnswerT = TypeVar("AnswerT", bound=BaseModel)

_TIMEOUT_NAMES = frozenset(
    {
        "APITimeoutError",
        "TimeoutException",
        "ReadTimeout",
        "ConnectTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "Timeout",
        "TimeoutError",
    }
)


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is a timeout of any HTTP client or of the deadline."""
    return isinstance(exc, TimeoutError | concurrent.futures.TimeoutError) or any(
        cls.__name__ in _TIMEOUT_NAMES for cls in type(exc).__mro__
    )


def _invoke(runnable: Any, messages: list[BaseMessage], timeout: float | None) -> Any:
    if timeout is None:
        return runnable.invoke(messages)
    context = contextvars.copy_context()  # keeps LangChain callbacks and tracing in the worker thread
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-llm")
    try:
        return executor.submit(context.run, runnable.invoke, messages).result(timeout=timeout)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def invoke_model(runnable: Any, messages: list[BaseMessage], *, timeout: float | None = None) -> Any:
    """``runnable.invoke(messages)`` within ``timeout``; timeouts raise ``LLMTimeout``, other failures ``LLMError``."""
    try:
        return _invoke(runnable, messages, timeout)
    except LLMError:
        raise
    except Exception as exc:
        if is_timeout(exc):
            raise LLMTimeout(f"the chat model did not answer in time ({type(exc).__name__})") from exc
        raise LLMError(f"the chat model failed: {type(exc).__name__}: {str(exc)[:200]}") from exc


def call_model(llm: BaseChatModel, messages: list[BaseMessage], *, timeout: float | None = None) -> str:
    """The model's answer as text; timeouts raise ``LLMTimeout``, other failures ``LLMError``."""
    response = invoke_model(llm, messages, timeout=timeout)
    text = getattr(response, "text", response)
    if callable(text) and not isinstance(text, str):  # langchain-core 1.x: a str that is also (deprecated) callable
        text = text()
    if not isinstance(text, str):
        content = getattr(response, "content", "")
        text = (
            content
            if isinstance(content, str)
            else "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        )
    return text


def parse_json_answer(text: str, schema: type[AnswerT]) -> AnswerT:
    """The answer's JSON object validated by ``schema``; code fences and text around the object are tolerated."""
    cleaned = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text.strip(), flags=re.IGNORECASE)
    try:
        data = json.loads(cleaned)
    except ValueError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        try:
            data = json.loads(cleaned[start : end + 1]) if 0 <= start < end else None
        except ValueError:
            data = None
        if data is None:
            raise LLMInvalidOutput("the answer is not JSON", raw=text) from None
    if not isinstance(data, dict):
        raise LLMInvalidOutput("the answer is not a JSON object", raw=text)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise LLMInvalidOutput(f"the answer does not match the schema: {where}: {first.get('msg')}", raw=text) from None


def model_name(llm: BaseChatModel) -> str:
    """The model's name as configured (for results and audit records)."""
    for attr in ("model_name", "model", "model_id", "deployment_name"):
        value = getattr(llm, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(llm).__name__


def spotlight(text: str, tag: str) -> str:
    """``text`` with anything imitating the ``<tag>`` delimiters neutralised, ready to enclose in them."""
    return re.sub(rf"</?\s*{re.escape(tag)}[^>]*>", "[tag removed]", text, flags=re.IGNORECASE)
