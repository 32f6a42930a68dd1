"""Versioned prompt templates: ``prompts/<name>/v<N>.yaml``, loaded with their version and hash.

Each file holds ``name``, ``version``, ``description``, ``system``, ``user`` and ``input_variables``.
Templates use f-string syntax (``{variable}``; literal braces doubled). The SHA-256 of the file bytes
identifies exactly what a model saw; it goes into every result and audit record with the version.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:  # LangChain is imported when a template is built, not by every schema naming a PromptRef
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

__all__ = ["PromptRef", "VersionedPrompt", "available_versions", "load_prompt", "prompts_dir"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_FILE = re.compile(r"^v(?P<version>[1-9]\d{0,3})\.yaml$")


class PromptRef(BaseModel):
    """Which prompt produced a result: name, version and the SHA-256 of its file."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int
    sha256: str


class VersionedPrompt(BaseModel):
    """One version of a prompt template."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int = Field(ge=1)
    description: str
    system: str
    user: str
    input_variables: tuple[str, ...]
    sha256: str = Field(description="SHA-256 of the file bytes")
    path: str

    @property
    def ref(self) -> PromptRef:
        """Name, version and hash, for results and audit records."""
        return PromptRef(name=self.name, version=self.version, sha256=self.sha256)

    def template(self) -> ChatPromptTemplate:
        """The LangChain chat template (system, then user)."""
        from langchain_core.prompts import ChatPromptTemplate

        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.user)])

    def to_messages(self, **variables: Any) -> list[BaseMessage]:
        """The messages with ``variables`` filled in; every declared variable is required, no others allowed."""
        missing = sorted(set(self.input_variables) - set(variables))
        extra = sorted(set(variables) - set(self.input_variables))
        if missing or extra:
            raise ValueError(f"prompt {self.name} v{self.version}: missing variables {missing}, unexpected {extra}")
        return self.template().format_messages(**{k: str(v) for k, v in variables.items()})


def prompts_dir() -> Path:
    """The folder holding the prompt templates: the ``prompts`` package next to ``copilot``."""
    sibling = Path(__file__).resolve().parents[1] / "prompts"
    if sibling.is_dir():
        return sibling
    return Path(str(resources.files("prompts")))  # an unusual install layout


def _folder(name: str, directory: Path | None) -> Path:
    if not _NAME.match(name):
        raise ValueError(f"invalid prompt name {name!r}")
    folder = (directory or prompts_dir()) / name
    if not folder.is_dir():
        raise FileNotFoundError(f"no prompt named {name!r} in {folder.parent}")
    return folder


def available_versions(name: str, *, directory: Path | None = None) -> list[int]:
    """The versions of prompt ``name`` on disk, ascending."""
    folder = _folder(name, directory)
    return sorted(int(m.group("version")) for p in folder.iterdir() if (m := _FILE.match(p.name)))


def load_prompt(name: str, version: int | None = None, *, directory: Path | None = None) -> VersionedPrompt:
    """Prompt ``name`` at ``version`` (default: the latest), checked for consistency."""
    versions = available_versions(name, directory=directory)
    if not versions:
        raise FileNotFoundError(f"prompt {name!r} has no v<N>.yaml file")
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise FileNotFoundError(f"prompt {name!r} has no version {chosen} (available: {versions})")
    return _load(_folder(name, directory) / f"v{chosen}.yaml", name, chosen)


@lru_cache(maxsize=64)
def _load_cached(path: str, raw: bytes, name: str, version: int) -> VersionedPrompt:
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    if data.get("name") != name or data.get("version") != version:
        raise ValueError(f"{path}: declares {data.get('name')!r} v{data.get('version')}, expected {name!r} v{version}")
    try:
        prompt = VersionedPrompt(
            name=name,
            version=version,
            description=str(data.get("description") or ""),
            system=data["system"],
            user=data["user"],
            input_variables=tuple(data.get("input_variables") or ()),
            sha256=hashlib.sha256(raw).hexdigest(),
            path=path,
        )
    except (KeyError, ValidationError) as exc:
        raise ValueError(f"{path}: missing or invalid keys: {exc}") from exc
    used = set(prompt.template().input_variables)
    declared = set(prompt.input_variables)
    if used != declared:
        raise ValueError(f"{path}: input_variables {sorted(declared)} do not match the template's {sorted(used)}")
    return prompt


def _load(path: Path, name: str, version: int) -> VersionedPrompt:
    return _load_cached(str(path), path.read_bytes(), name, version)  # keyed on content: edits are seen
