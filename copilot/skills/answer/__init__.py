"""Buyer questions about purchase orders, vendors, receipts and supplier emails, answered with citations."""

from copilot.skills.answer.agent import MAX_STEPS, MAX_TOOL_CALLS, AgentAnswer, AgentLimitExceeded, run_agent
from copilot.skills.answer.router import Routed, ThreadContext, Vocabulary, load_vocabulary, route
from copilot.skills.answer.schemas import CAN_ANSWER, Answer, Fact, Intent, Question
from copilot.skills.answer.skill import answer_question, deterministic_answer

__all__ = [
    "CAN_ANSWER",
    "MAX_STEPS",
    "MAX_TOOL_CALLS",
    "AgentAnswer",
    "AgentLimitExceeded",
    "Answer",
    "Fact",
    "Intent",
    "Question",
    "Routed",
    "ThreadContext",
    "Vocabulary",
    "answer_question",
    "deterministic_answer",
    "load_vocabulary",
    "route",
    "run_agent",
]
