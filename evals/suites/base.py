"""What every suite provides, and the record of one case's run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from copilot.composition import Components
from copilot.config import Settings
from evals.schema import EvalCase

__all__ = ["CaseResult", "Suite", "SuiteContext"]


class CaseResult(BaseModel):
    """One case's input, output, scores and cost."""

    model_config = ConfigDict(frozen=True)

    id: str
    tags: list[str] = Field(default_factory=list)
    input: dict[str, Any]
    target: dict[str, Any]
    output: dict[str, Any] | None
    scores: dict[str, float]
    passed: bool
    error: str | None = None
    latency_ms: float = 0.0
    tokens: int = 0
    cost: float = 0.0


@dataclass
class SuiteContext:
    """What a suite runs with: settings, the Odoo client (sandbox by default), the model if any."""

    settings: Settings
    client: Any
    llm: BaseChatModel | None
    state: dict[str, Any] = field(default_factory=dict)
    #: The optional LLM judge (``evals.judge.Judge``) for suites that offer a ``judge_pair``.
    judge: Any = None
    #: The composition root of the run (embedder, injection detector, knowledge base): ``copilot eval run`` gives
    #: its command's root; without one (a test of a suite), lazy components of ``settings``.
    components: Components = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.components is None:
            self.components = Components(self.settings)


class Suite(Protocol):
    """One skill's eval: run a case, score it, aggregate the scores."""

    name: str
    dataset: str
    #: Metrics where higher is better, compared against the baseline.
    metrics: tuple[str, ...]

    def prepare(self, context: SuiteContext) -> None:
        """Set up what every case needs (e.g. train a model) before the cases run."""
        ...

    def run(self, case: EvalCase, context: SuiteContext) -> dict[str, Any]:
        """The skill's output for one case, as JSON-able data."""
        ...

    def score(self, case: EvalCase, output: dict[str, Any]) -> tuple[dict[str, float], bool]:
        """Per-case scores and whether the case passes."""
        ...

    def aggregate(self, results: list[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
        """Suite metrics (floats) and extras for reports (e.g. confusion matrices)."""
        ...
