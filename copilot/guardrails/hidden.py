"""Hidden content in plain text: characters a reader does not see but a model reads.

``strip_hidden`` removes zero-width characters, bidirectional controls and Unicode tag characters
(which can smuggle invisible ASCII) and says what it found. It is the plain-text counterpart of the
HTML checks in ``copilot.inbound_email`` (``display:none``, white-on-white, comments) and shares their code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from copilot.inbound_email import _strip_invisible

__all__ = ["HiddenFinding", "strip_hidden"]


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
    clean, smuggled, reasons = _strip_invisible(text or "")
    findings = [
        HiddenFinding(reason=reason, text=smuggled if reason.startswith("Unicode tag") else "") for reason in reasons
    ]
    return clean, findings
