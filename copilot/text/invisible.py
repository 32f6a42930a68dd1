"""Characters a reader does not see but a model reads: zero-width, bidi controls and Unicode tag characters.

Tag characters (U+E0000-U+E007F) mirror ASCII and can smuggle a whole invisible sentence ("ASCII
smuggling"); ``reveal_invisible`` decodes it so the injection detector can read it.
"""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple

from pydantic import AfterValidator

__all__ = ["BIDI_CONTROLS", "ZERO_WIDTH", "Revealed", "VisibleText", "reveal_invisible", "strip_invisible"]

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad\u034f\u115f\u1160\u3164"
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{ZERO_WIDTH}{BIDI_CONTROLS}\U000e0000-\U000e007f]")
_ZERO_WIDTH_OR_BIDI = re.compile(f"[{ZERO_WIDTH}{BIDI_CONTROLS}]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")


class Revealed(NamedTuple):
    """A text without its invisible characters, the ASCII its tag characters spelled, and what was found."""

    clean: str
    smuggled: str
    reasons: list[str]


def strip_invisible(text: str) -> str:
    """``text`` without zero-width, bidi and Unicode tag characters: ``"S00\\u200b024"`` is ``S00024``."""
    return reveal_invisible(text).clean


#: A model field of untrusted text as a person sees it: ``"S00\u200b024"`` is S00024, so invisible characters never
#: hide a reference or an instruction from the checks that read the field.
VisibleText = Annotated[str, AfterValidator(strip_invisible)]


def reveal_invisible(text: str) -> Revealed:
    """Remove zero-width, bidi and Unicode tag characters; decode tag characters (ASCII smuggling)."""
    if not text or not _INVISIBLE.search(text):
        return Revealed(text, "", [])
    reasons: list[str] = []
    smuggled = [
        "".join(chr(ord(c) - 0xE0000) for c in run if 0xE0020 <= ord(c) <= 0xE007E) for run in _TAGS.findall(text)
    ]
    smuggled = [s for s in smuggled if s.strip()]
    if smuggled:
        reasons.append("Unicode tag characters (invisible ASCII)")
    count = len(_ZERO_WIDTH_OR_BIDI.findall(text))
    if count:
        reasons.append(f"{count} zero-width or bidi control characters")
    return Revealed(_INVISIBLE.sub("", text), "\n".join(smuggled), reasons)
