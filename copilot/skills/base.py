"""What every skill is: one ``run(ctx, input) -> output``, given everything it may use in a ``SkillContext``.

The facade (``copilot.service.Copilot``) builds one frozen ``SkillContext`` per request (the Odoo client, the
settings, "now", the LLM, the root's injection detector and knowledge base, the conversation store, the
actor's allowed tools and the pipeline's screening of the input's untrusted texts, ``skill.untrusted(input)``)
and calls ``skill.run(ctx, input)``. A skill screens through ``ctx.detector()``: a text the pipeline screened
gets its verdict, any other text is screened then (and without a facade, every text is). A skill reaches
nothing else: no module-level client, model or store, so a test gives it a context of fakes and sees every
call it makes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from copilot.config import Settings
    from copilot.guardrails.injection import InjectionDetector
    from copilot.guardrails.screening import Screening, UntrustedText
    from copilot.odoo import OdooClient
    from copilot.retrieval import KnowledgeBase
    from copilot.skills.triage.skill import Triager
    from copilot.state.conversations import ConversationStore
    from copilot.text.language import LanguageDetector

__all__ = ["Skill", "SkillContext"]

In_contra = TypeVar("In_contra", contravariant=True)
Out_co = TypeVar("Out_co", covariant=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillContext:
    """Everything one skill run may use; built per request by the facade (or by a CLI/eval wrapper)."""

    #: The process settings (LLM deadline, trusted mail servers, ...).
    settings: Settings
    #: The read-only Odoo client, already in the actor's company scope (None: no Odoo, e.g. triage of a text).
    client: OdooClient | None
    #: "Now" for lateness and "this week" (the sandbox's recorded time, else the clock at the request).
    now: datetime
    #: The chat model, or None for the deterministic engine.
    llm: BaseChatModel | None = None
    #: The input guardrail: the root's injection detector (None: the injection rules alone, no model).
    injection: InjectionDetector | None = None
    #: The root's language detector (None: the skill builds one per email).
    languages: LanguageDetector | None = None
    #: The root's knowledge base, opened on first call (None: the skill opens one of the settings).
    knowledge: Callable[[], KnowledgeBase] | None = None
    #: The root's triage model, loaded on first call (None: the triage skill cannot run).
    triager: Callable[[], Triager] | None = None
    #: Where question threads are kept (None: no follow-ups).
    conversations: ConversationStore | None = None
    #: The read-only tools the actor's role may use (None: all of them).
    allowed_tools: frozenset[str] | None = None
    #: The pipeline's verdicts on the input's untrusted texts (None: not screened yet, e.g. a skill run directly).
    screening: Screening | None = None

    def detector(self) -> InjectionDetector | None:
        """The detector a skill screens with: the pipeline's verdicts first, then the root's detector."""
        if self.screening is None:
            return self.injection
        from copilot.guardrails.screening import ScreenedDetector

        return ScreenedDetector(self.screening, self.injection)

    def with_screening(self, screening: Screening) -> SkillContext:
        """This context with the pipeline's ``screening`` of the input."""
        return replace(self, screening=screening)

    def odoo(self) -> OdooClient:
        """The Odoo client; ``ConfigError`` when this context has none (the skill reads Odoo)."""
        if self.client is None:
            from copilot.errors import ConfigError

            raise ConfigError("this skill reads Odoo, and its context has no Odoo client")
        return self.client


@runtime_checkable
class Skill(Protocol[In_contra, Out_co]):
    """One job of the copilot: ``run(ctx, input)`` reads only ``ctx`` and ``input`` and returns its result."""

    #: The skill's name in the registry and in logs (``supplier_email``, ``triage``, ...).
    name: str

    def run(self, ctx: SkillContext, input: In_contra, /) -> Out_co:
        """Do the job for ``input`` with what ``ctx`` gives."""
        ...

    def untrusted(self, input: In_contra, /) -> list[UntrustedText]:
        """The texts of ``input`` an outsider wrote, each with its source: what the pipeline screens."""
        ...
