"""The LLM path: a bounded tool-calling loop over the read-only Odoo tools.

The model may call the tools (``copilot.tools.langchain_tools.build_tools``) for at most ``max_steps``
model calls and ``max_tool_calls`` tool calls, within a token budget and a wall-clock deadline. Its
final message must be one JSON object (``AgentAnswer``); the caller then checks it for grounding
against everything the tools returned. Any breach raises ``LLMError`` (or a subclass) with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.errors import LLMError, LLMInvalidOutput, LLMTimeout
from copilot.llm_io import invoke_model, parse_json_answer
from copilot.prompts import VersionedPrompt

__all__ = [
    "MAX_STEPS",
    "MAX_TOOL_CALLS",
    "PROMPT_NAME",
    "AgentAnswer",
    "AgentLimitExceeded",
    "AgentRun",
    "build_messages",
    "collect_citations",
    "run_agent",
]

PROMPT_NAME = "answer_agent"
#: Model calls per question (each may request several tools).
MAX_STEPS = 6
#: Tool calls per question, all steps together.
MAX_TOOL_CALLS = 6
#: A tool result longer than this is cut before the model sees it (the evidence keeps it whole).
MAX_TOOL_RESULT_CHARS = 8_000
MAX_QUESTION_CHARS = 2_000


class AgentLimitExceeded(LLMError):
    """The model hit a bound (steps, tool calls, tokens) before giving a final answer."""


class AgentAnswer(BaseModel):
    """The model's final answer."""

    model_config = ConfigDict(extra="ignore")

    answer: str = Field(min_length=1, max_length=3000, description="The answer for the buyer, plain text")
    references: list[str] = Field(
        default_factory=list, max_length=50, description="The POs, vendors and products the answer is about"
    )


@dataclass
class AgentRun:
    """What happened during one run: the calls, what the tools returned, the final answer."""

    answer: AgentAnswer | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[Any] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0


def _invoke(runnable: Any, messages: list[BaseMessage], timeout: float) -> AIMessage:
    result = invoke_model(runnable, messages, timeout=timeout)
    if not isinstance(result, AIMessage):
        raise LLMInvalidOutput(f"the chat model returned {type(result).__name__}, not a message")
    return result


def _text(message: AIMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def _tokens(message: BaseMessage, text: str) -> int:
    usage = getattr(message, "usage_metadata", None)
    if usage and usage.get("output_tokens"):
        return int(usage["output_tokens"])
    return max(1, len(text) // 4)  # a model that reports nothing: about four characters a token


def _as_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def run_agent(
    messages: list[BaseMessage],
    *,
    llm: BaseChatModel,
    tools: Sequence[BaseTool],
    max_steps: int = MAX_STEPS,
    max_tool_calls: int = MAX_TOOL_CALLS,
    token_budget: int = 6000,
    deadline: float = 120.0,
) -> AgentRun:
    """Let the model call ``tools`` until it answers; raise ``LLMError`` (with the reason) on any bound or failure.

    ``token_budget`` counts the model's output tokens plus the tool results fed back to it (estimated at
    four characters a token when the model reports no usage); ``deadline`` is wall-clock seconds for the run.
    """
    try:
        bound = llm.bind_tools(list(tools))
    except NotImplementedError as exc:
        raise LLMError(f"the chat model {type(llm).__name__} does not support tool calling") from exc
    by_name = {t.name: t for t in tools}
    history = list(messages)
    run = AgentRun()
    started = time.monotonic()
    while True:
        if run.steps >= max_steps:
            raise AgentLimitExceeded(f"step limit: {max_steps} model calls without a final answer")
        remaining = deadline - (time.monotonic() - started)
        if remaining <= 0:
            raise LLMTimeout(f"the agent ran out of time ({deadline:.0f} s)")
        ai = _invoke(bound, history, remaining)
        run.steps += 1
        text = _text(ai)
        run.tokens += _tokens(ai, text + json.dumps([c.get("args") for c in ai.tool_calls], default=str))
        if run.tokens > token_budget:
            raise AgentLimitExceeded(f"token budget: {run.tokens} > {token_budget} tokens")
        if not ai.tool_calls:
            run.answer = parse_json_answer(text, AgentAnswer)
            return run
        if len(run.tool_calls) + len(ai.tool_calls) > max_tool_calls:
            raise AgentLimitExceeded(f"tool-call limit: more than {max_tool_calls} tool calls")
        history.append(ai)
        for call in ai.tool_calls:
            name, args, call_id = call.get("name", ""), call.get("args") or {}, call.get("id") or ""
            run.tool_calls.append({"name": name, "args": args})
            tool = by_name.get(name)
            if tool is None:
                result: Any = f"ToolException: no tool named {name!r}"
            else:
                try:
                    result = tool.invoke(args)
                except Exception as exc:  # bad arguments (validation): the model reads the error and may retry
                    result = f"ToolException: {type(exc).__name__}: {str(exc)[:300]}"
            run.tool_results.append(result)
            content = _as_json(result)[:MAX_TOOL_RESULT_CHARS]
            run.tokens += len(content) // 4
            history.append(ToolMessage(content=content, tool_call_id=call_id, name=name))
        if run.tokens > token_budget:
            raise AgentLimitExceeded(f"token budget: {run.tokens} > {token_budget} tokens")


def collect_citations(values: Sequence[Any]) -> list[Citation]:
    """Every Odoo record cited anywhere in the tools' results, once each, in order of appearance."""
    found: list[Citation] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if {"model", "id", "display_name"} <= value.keys() and isinstance(value.get("id"), int) and value["id"] > 0:
                found.append(Citation(model=value["model"], id=value["id"], display_name=str(value["display_name"])))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(list(values))
    return list(dict.fromkeys(found))


def build_messages(prompt: VersionedPrompt, *, question: str, context: str, today: str) -> list[BaseMessage]:
    """The agent's first messages: rules and the answer schema, then the context and the question."""
    clean = question[:MAX_QUESTION_CHARS].replace("</question>", "[tag removed]").replace("<question>", "[tag removed]")
    return prompt.to_messages(
        today=today,
        context=context or "(nothing yet)",
        question=clean,
        output_schema=json.dumps(AgentAnswer.model_json_schema(), separators=(",", ":")),
        max_tool_calls=MAX_TOOL_CALLS,
    )
