"""Quoted replies in plain text: ``On ... wrote:``, ``-----Original Message-----``, Outlook headers, ``>`` lines."""

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


_ON_WROTE = re.compile(
    r"^(?:On\s.{4,250}?\swrote:|Le\s.{4,250}?\sa écrit\s?:|Am\s.{4,250}?\sschrieb\s.{0,100}?:)\s*$",
    re.MULTILINE | re.IGNORECASE | re.DOTALL,
)
_ORIGINAL = re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.MULTILINE | re.IGNORECASE)
_OUTLOOK_HEADER = re.compile(r"^\**From:\**\s.+\n\**(?:Sent|Date):\**\s.+\n", re.MULTILINE | re.IGNORECASE)


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
