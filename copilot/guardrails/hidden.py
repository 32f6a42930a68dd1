"""Hidden content in plain text: characters a reader does not see but a model reads.

``strip_hidden`` removes zero-width characters, bidirectional controls and Unicode tag characters
(which can smuggle invisible ASCII) and says what it found. It is the plain-text counterpart of the
HTML checks in ``copilot.email`` (``display:none``, white-on-white, comments) and shares their code.

``hidden_text_matters`` tells hidden content that could steer a reader or a model (a price, a date, an IBAN, a
quantity, an order reference, an approval claim that the visible text does not carry) from the hidden text every
newsletter has: a preheader that repeats the visible text, spacers, tracking references, "skip to content".
Instructions to an assistant in hidden text are the injection detector's job (``detect_injection`` with
``source="email_hidden"``); callers combine both.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from copilot.guardrails.normalize import fold
from copilot.text.iban import IBAN_SHAPE
from copilot.text.invisible import reveal_invisible

__all__ = ["HiddenFinding", "hidden_text_matters", "strip_hidden"]

_MONTHS = (
    r"(?:jan|feb|fev|mar|apr|avr|abr|mai|may|mei|mag|jun|jui|giu|jul|lug|aug|aou|ago|sep|set|oct|okt|ott|nov|dec|dez"
    r"|dic)[a-z]{0,7}"
)
#: What makes hidden text a change: money, percentages, dates, IBANs, quantities.
_CHANGE_TOKENS = re.compile(
    r"[$\u20ac\u00a3\u00a5][^\S\n]?\d[\d.,]{0,15}|\d[\d.,]{0,15}[^\S\n]?(?:[$\u20ac\u00a3\u00a5%]|usd\b|eur\b|gbp\b|chf\b"
    r"|dollars?\b|euros?\b)|\b\d{1,9}[.,]\d{2}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th|er|\.)?[^\S\n]+(?:of[^\S\n]+|de[^\S\n]+)?{_MONTHS}\b|\b{_MONTHS}\.?[^\S\n]+\d{{1,2}}\b"
    r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
    rf"|{IBAN_SHAPE.pattern}"
    r"|\b\d{1,9}[^\S\n]*(?:units?|pcs|pieces|dozens?|boxes|pallets|cartons|stuks|stuck|unidades|pezzi|unites)\b",
    re.IGNORECASE,
)
#: Words that make hidden text a claim or a payment matter even without numbers (six languages, folded).
_CLAIM_WORDS = re.compile(
    r"\b(?:iban|bic|swift|bank\w*|banque|banca|banco|konto\w*|compte|cuenta|conto|rekening\w*|routing|sort code"
    r"|approv\w*|agreed|verified|trusted|authori[sz]\w*|approuv\w*|genehmig\w*|freigegeben|aprob\w*|goedgekeurd"
    r"|approvat\w*|valide\w*|verifie\w*|verificad\w*|geverifieerd|verificat\w*|cleared|sign(?:ed)?[- ]off"
    r"|without review|your (?:answer|reply|summary|response|report))\b",
    re.IGNORECASE,
)
#: Order, invoice and product references ("P00004", "INV/2026"): hidden ones point a model at other records.
_REFERENCES = re.compile(r"\b[A-Z]{1,4}[-/_]?\d{4,}\b")
_SPACE = re.compile(r"\s+")
#: Distinct hidden lines read; more than this is reported without reading further.
MAX_HIDDEN_LINES = 1_000


def _plain(text: str) -> str:
    """Folded, lower-case, one space between words, no invisible characters."""
    return _SPACE.sub(" ", fold(reveal_invisible(text)[0]).casefold()).strip()


def hidden_text_matters(hidden: str, visible: str) -> bool:
    """True when ``hidden`` carries something a reader of ``visible`` does not see: a price, a date, an order
    reference, an IBAN or a quantity that the visible text does not show, or bank, approval or answer wording.

    Lines of ``hidden`` that repeat the visible text (a preheader, a mobile copy of the layout) and lines without
    any of these (spacers, tracking references, "skip to content") do not matter.
    """
    seen = _plain(visible)
    lines = dict.fromkeys(line.strip() for line in fold(reveal_invisible(hidden)[0]).splitlines())
    if len(lines) > MAX_HIDDEN_LINES:
        return True  # no newsletter hides that much
    for line in lines:
        plain = _SPACE.sub(" ", line.casefold())
        if not any(ch.isalnum() for ch in plain) or plain in seen:
            continue
        if _CLAIM_WORDS.search(plain):
            return True
        if any(_plain(m.group(0)) not in seen for m in _CHANGE_TOKENS.finditer(plain)):
            return True
        if any(_plain(m.group(0)) not in seen for m in _REFERENCES.finditer(line)):
            return True
    return False


class HiddenFinding(BaseModel):
    """One kind of hidden content: how it was hidden and the text it carried (if any)."""

    model_config = ConfigDict(frozen=True)

    reason: str
    text: str = ""


def strip_hidden(text: str) -> tuple[str, list[HiddenFinding]]:
    """``(clean text, findings)``: the text a person sees, and what was hidden in it.

    A text with nothing hidden comes back unchanged with no findings. Smuggled tag-character text is
    decoded into the finding's ``text`` so the injection detector can read it.
    """
    clean, smuggled, reasons = reveal_invisible(text or "")
    findings = [
        HiddenFinding(reason=reason, text=smuggled if reason.startswith("Unicode tag") else "") for reason in reasons
    ]
    return clean, findings
