"""Eval cases (Inspect-style: ``id``, ``input``, ``target``, ``metadata``) and loading a dataset safely.

Every line of a dataset is validated on load; a bad line is reported with its file and line number
and the run stops before any model is called.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import CopilotError

__all__ = ["CaseMetadata", "DatasetError", "EvalCase", "datasets_dir", "load_dataset"]


class DatasetError(CopilotError, ValueError):
    """A dataset line that is not a valid case (the CLI prints it in one line, no traceback)."""


class CaseMetadata(BaseModel):
    """Where a case comes from and what it relies on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skill: str
    source: str = "hand-written"
    tags: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    records: list[str] = Field(default_factory=list, description="Sandbox records the case relies on, model:name")


class EvalCase(BaseModel):
    """One case: what goes in, what should come out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    input: dict[str, Any]
    target: dict[str, Any]
    metadata: CaseMetadata


def datasets_dir() -> Path:
    """The folder of the shipped datasets."""
    return Path(__file__).resolve().parent / "datasets"


def load_dataset(path: Path, *, skill: str | None = None) -> list[EvalCase]:
    """Every case of a JSONL file; ``DatasetError`` names the first bad line."""
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = EvalCase.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise DatasetError(f"{path.name}:{number}: not a valid case: {str(exc).splitlines()[0]}") from None
        if case.id in seen:
            raise DatasetError(f"{path.name}:{number}: duplicate id {case.id!r}")
        if skill is not None and case.metadata.skill != skill:
            raise DatasetError(f"{path.name}:{number}: case {case.id} is for {case.metadata.skill!r}, not {skill!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise DatasetError(f"{path.name}: no cases")
    return cases
