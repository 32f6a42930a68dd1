"""The language detector is built once by the composition root and reaches the extractor through the skill context."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from copilot.composition import Components
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.skills.base import SkillContext
from copilot.skills.supplier_email import extract
from copilot.skills.supplier_email.skill import SUPPLIER_EMAIL
from copilot.text.language import LanguageDetector
from tests.unit.test_skill_protocol import RecordedOdoo

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
GERMAN = InboundEmail(
    subject="P00009 Liefertermin",
    text="Guten Tag, die restlichen Schreibtische zu P00009 liefern wir am 15. Dezember.",
    date=NOW,
    from_address="a@b.example",
)


class Counting(LanguageDetector):
    """A language detector that counts the texts it is asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def detect(self, text: str, default: str = "en") -> str:
        self.calls += 1
        return super().detect(text, default)


def test_a_root_builds_one_language_detector(tmp_path: Path) -> None:
    root = Components(Settings(data_dir=tmp_path))
    assert isinstance(root.languages, LanguageDetector)
    assert root.languages is root.languages
    assert Components(Settings(data_dir=tmp_path)).languages is not root.languages  # one per root, not per process


def test_the_skill_reads_the_language_with_the_contexts_detector() -> None:
    languages = Counting()
    ctx = SkillContext(settings=Settings(), client=RecordedOdoo(), now=NOW, languages=languages)  # type: ignore[arg-type]
    SUPPLIER_EMAIL.run(ctx, GERMAN)
    SUPPLIER_EMAIL.run(ctx, GERMAN)
    assert languages.calls == 2


def test_the_extractor_stays_callable_without_a_detector() -> None:
    assert extract(GERMAN).language == "de"
    assert extract(GERMAN, languages=Counting()).language == "de"
