"""Which of the five supplier-mail languages a text is written in, with ``lingua`` (its models ship in the package)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector as _Lingua

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LanguageDetector"]

#: ISO 639-1 codes of the languages supplier mail is read in.
LANGUAGES = ("en", "de", "fr", "es", "nl")
DEFAULT_LANGUAGE = "en"

#: Longest text the detector reads: the first few sentences tell the language; the cost stays bounded.
MAX_DETECT_CHARS = 2_000
#: Below this confidence the text is taken as the default language (short, mixed or codes only).
MIN_CONFIDENCE = 0.5
#: Least confidence for a runner-up the text's letters point to (an accented letter the top pick never writes).
MIN_RUNNER_UP = 0.2
#: Letters only some of the languages write: a text with "á" or "ñ" is not French, one with "ß" not Dutch.
_OWN_LETTERS = {
    "en": frozenset(),
    "de": frozenset("äöüß"),
    "fr": frozenset("àâæçéèêëîïôœùûüÿ"),
    "es": frozenset("áéíñóúü¿¡"),
    "nl": frozenset("áéíóúàèëïöü"),
}
_MARKED = frozenset().union(*_OWN_LETTERS.values())


class LanguageDetector:
    """Detects en/de/fr/es/nl. Build one per process (the composition root's), then share it.

    lingua's models load on first use and stay in the library's cache, so a second detector is cheap; the
    low-accuracy mode (trigrams) is enough for an email's worth of text.
    """

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        self.languages = languages
        self._detector: _Lingua | None = None

    def _lingua(self) -> _Lingua:
        if self._detector is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            wanted = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in self.languages]
            self._detector = LanguageDetectorBuilder.from_languages(*wanted).with_low_accuracy_mode().build()
        return self._detector

    def detect(self, text: str, default: str = DEFAULT_LANGUAGE) -> str:
        """The language of ``text`` as an ISO code, or ``default`` when too short or unsure."""
        sample = " ".join(text[:MAX_DETECT_CHARS].split())
        if sum(c.isalpha() for c in sample) < 12:
            return default
        values = self._lingua().compute_language_confidence_values(sample)
        if not values or values[0].value < MIN_CONFIDENCE:
            return default
        ranked = [(v.language.iso_code_639_1.name.lower(), v.value) for v in values]
        return _by_letters(sample, ranked)


def _by_letters(sample: str, ranked: list[tuple[str, float]]) -> str:
    """The top pick, unless the text writes a letter it never does and a likely runner-up writes them all."""
    marked = {c for c in sample.lower() if c in _MARKED}
    top = ranked[0][0]
    if marked <= _OWN_LETTERS.get(top, marked):
        return top
    for code, value in ranked[1:]:
        if value >= MIN_RUNNER_UP and marked <= _OWN_LETTERS.get(code, frozenset()):
            return code
    return top
