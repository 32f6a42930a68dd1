"""Quoted replies in plain text: ``On ... wrote:``, ``-----Original Message-----``, Outlook headers, ``>`` lines.

Reply and Outlook headers are recognised in the languages supplier mail comes in: English, German
("Am ... schrieb", "Von:/Gesendet:"), French ("Le ... a écrit", "De :/Envoyé :"), Spanish ("El ... escribió",
"De:/Enviado:") and Dutch ("Op ... schreef", "Van:/Verzonden:"). Every repetition is bounded, so any text is
read in linear time.
"""

from __future__ import annotations

import re

__all__ = ["normalise_text", "split_quoted"]


def normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = _CONTROL.sub("", text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# A reply header may wrap (long names and addresses) but never spans a blank line.
_WRAP = r"(?:[^\n]|\n(?![ \t]*\n))"
_ON_WROTE = re.compile(
    rf"^(?:On\s{_WRAP}{{4,250}}?\swrote:|Le\s{_WRAP}{{4,250}}?\sa\s[ée]crit\s?:"
    rf"|Am\s{_WRAP}{{4,250}}?\sschrieb\s{_WRAP}{{0,100}}?:|El\s{_WRAP}{{4,250}}?\sescribi[óo]\s?:"
    rf"|Op\s{_WRAP}{{4,250}}?\sschreef\s{_WRAP}{{0,100}}?:)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^-{2,}[ \t]*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine"
    r"|Mensaje original|Oorspronkelijk bericht|Origineel bericht)[ \t]*-{2,}[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# "From:" (en), "Von:" (de), "De :" (fr, es), "Van:" (nl), then "Sent:"/"Date:", "Gesendet:"/"Datum:", "Envoyé :",
# "Enviado (el):"/"Fecha:", "Verzonden:"/"Datum:" on the next line: a header block, not a sentence.
_OUTLOOK_HEADER = re.compile(
    r"^\**(?:From|Von|De|Van)[ \t]?:\**[ \t][^\n]+\n"
    r"\**(?:Sent|Date|Gesendet|Datum|Envoy[ée]|Enviado(?: el)?|Fecha|Verzonden)[ \t]?:\**[ \t][^\n]+\n",
    re.MULTILINE | re.IGNORECASE,
)


def split_quoted(text: str) -> tuple[str, str]:
    """Split plain text into ``(new text, quoted earlier messages)``."""
    if not text:
        return "", ""
    cut = len(text)
    for pattern in (_ON_WROTE, _ORIGINAL, _OUTLOOK_HEADER):
        match = pattern.search(text)
        if match and match.start() < cut and len(match.group(0)) < 400:
            cut = match.start()
    head, tail = text[:cut], text[cut:]
    kept: list[str] = []
    quoted: list[str] = []
    for line in head.split("\n"):
        (quoted if line.lstrip().startswith(">") else kept).append(line)
    quoted_lines = [re.sub(r"^\s*>+ ?", "", line) for line in quoted]
    tail_lines = [re.sub(r"^\s*>+ ?", "", line) for line in tail.split("\n")] if tail else []
    quoted_text = "\n".join(quoted_lines + tail_lines)
    return normalise_text("\n".join(kept)), normalise_text(quoted_text)
