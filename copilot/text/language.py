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
        return values[0].language.iso_code_639_1.name.lower()
