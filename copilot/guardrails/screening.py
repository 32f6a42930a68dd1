"""The input guardrail of one request: each untrusted text screened once, in the pipeline, before the skill runs.

The facade (``copilot.service.Copilot``) asks the skill which texts of its input are untrusted (``Skill.untrusted``:
the email with its header and hidden text, the ticket, the customer message, the question), screens them here
with the root's injection detector, records the verdict in the audit record (``Screening.audit_detail``: flagged
or not and which rules, never the text) and puts it in the skill's ``SkillContext``. The skill then screens
through ``ScreenedDetector``: a text the pipeline screened gets the pipeline's verdict, any other text (content
the skill reads from Odoo, a ticket's subject fetched by id) is screened by the root's detector as before. A skill
run without the facade has no screening and screens everything itself, with the same verdicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from copilot.guardrails.injection import InjectionDetector, InjectionVerdict, detect_injection

__all__ = ["ScreenedDetector", "ScreenedText", "Screening", "UntrustedText", "screen"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


class UntrustedText(BaseModel):
    """One untrusted text of a request's input and where it comes from (``detect_injection``'s ``source``)."""

    model_config = ConfigDict(frozen=True)

    source: str
    text: str


class ScreenedText(BaseModel):
    """The verdict on one screened text, found again by the text's SHA-256 (the text itself is not kept)."""

    model_config = ConfigDict(frozen=True)

    source: str
    digest: str
    verdict: InjectionVerdict


class Screening(BaseModel):
    """The pipeline's verdicts on a request's untrusted texts."""

    model_config = ConfigDict(frozen=True)

    texts: tuple[ScreenedText, ...] = ()

    @property
    def flagged(self) -> bool:
        """True when any text of the input was flagged."""
        return any(t.verdict.flagged for t in self.texts)

    @property
    def reasons(self) -> list[str]:
        """Why, one line per signal of each flagged text (may quote the text: not for the audit record)."""
        return [r for t in self.texts if t.verdict.flagged for r in t.verdict.reasons]

    @property
    def rules(self) -> list[str]:
        """The names of the rules and attack patterns that matched in the flagged texts."""
        return list(dict.fromkeys(m for t in self.texts if t.verdict.flagged for m in t.verdict.matched))

    @property
    def spans(self) -> list[str]:
        """The sentence that scored highest in each flagged text (may quote the text: not for the audit record)."""
        return [t.verdict.evidence for t in self.texts if t.verdict.flagged and t.verdict.evidence]

    def recall(self, text: str, *, source: str) -> InjectionVerdict | None:
        """The verdict on ``text`` from ``source`` when the pipeline screened it, else None."""
        digest = _digest(text)
        return next((t.verdict for t in self.texts if t.source == source and t.digest == digest), None)

    def audit_detail(self) -> str:
        """The verdict for the audit record: flagged or not, the sources and rules; never a word of the text."""
        if not self.flagged:
            return f"not flagged ({len(self.texts)} text(s) screened)"
        found = [f"{t.source}: {', '.join(t.verdict.matched) or 'score'}" for t in self.texts if t.verdict.flagged]
        return "flagged: " + "; ".join(found)


def screen(texts: Iterable[UntrustedText], detector: InjectionDetector | None) -> Screening:
    """Screen each distinct text once with ``detector`` (None: the injection rules alone, no model)."""
    out: dict[tuple[str, str], ScreenedText] = {}
    for item in texts:
        key = (item.source, _digest(item.text))
        if key not in out:
            verdict = detect_injection(item.text, source=item.source, detector=detector)
            out[key] = ScreenedText(source=item.source, digest=key[1], verdict=verdict)
    return Screening(texts=tuple(out.values()))


class ScreenedDetector(InjectionDetector):
    """A detector for one skill run: the pipeline's verdict for a text it screened, the root's detector for others.

    ``detect_injection`` asks ``recall`` first; everything else (the embedding layer, the classifier) is the
    root detector's (``base``; None: the rules alone, no model).
    """

    def __init__(self, screening: Screening, base: InjectionDetector | None = None) -> None:
        super().__init__(None, use_embeddings=False, classifier=base.classifier if base is not None else None)
        self.screening = screening
        self.base = base

    def recall(self, text: str, source: str) -> InjectionVerdict | None:
        """The pipeline's verdict on ``text`` from ``source``, or None when the pipeline did not screen it."""
        return self.screening.recall(text, source=source)

    def nearest(self, text: str, *, every_sentence: bool = True) -> tuple[float, str, str, str] | None:
        """The root detector's closest attack pattern (None without a root detector)."""
        return self.base.nearest(text, every_sentence=every_sentence) if self.base is not None else None
