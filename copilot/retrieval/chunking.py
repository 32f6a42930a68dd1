"""Split text into overlapping passages on paragraph and sentence boundaries; stable chunk ids.

A passage is at most ``size`` characters. Paragraphs are packed whole while they fit; a longer paragraph
is cut into sentences, and a sentence longer than ``size`` into words. Each passage after the first
starts with the last paragraphs or sentences of the one before (up to ``overlap`` characters), so a
fact cut at a boundary is still whole in one of the two.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CHUNKER_VERSION",
    "DEFAULT_OVERLAP",
    "DEFAULT_SIZE",
    "chunk_id",
    "chunking_key",
    "content_hash",
    "split_text",
    "unwrap",
]

DEFAULT_SIZE = 800
DEFAULT_OVERLAP = 150
#: Bump when loaders or splitting change the passages they produce: every file is then re-chunked.
CHUNKER_VERSION = 1

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])\s")
_BLOCK_LINE = re.compile(r"^([-*+]\s|\d+[.)]\s|\||#|>|```|~~~)")


@dataclass(frozen=True)
class _Unit:
    text: str
    sep: str  # what joins it to the unit before it


def chunking_key(size: int, overlap: int) -> str:
    """Identifies how passages were cut (version and parameters), stored with every chunk."""
    return f"v{CHUNKER_VERSION}:{size}:{overlap}"


def content_hash(data: bytes | str) -> str:
    """sha256 hex digest of bytes (a file) or of text (UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def chunk_id(corpus: str, source: str, heading: str, text: str, occurrence: int = 0) -> str:
    """Stable id of a chunk: the same passage under the same heading of the same file always gets the same id."""
    key = "\x1f".join([corpus, source, heading, text, str(occurrence)])
    return "kb-" + content_hash(key)[:32]


def _words(text: str, size: int) -> list[str]:
    """Pieces of at most ``size`` characters cut between words (a word longer than ``size`` is cut)."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def unwrap(text: str) -> str:
    """Join hard-wrapped lines into their paragraph; list items, table rows and headings keep their lines."""
    out: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if out and out[-1] and stripped and not _BLOCK_LINE.match(stripped) and not _BLOCK_LINE.match(out[-1]):
            out[-1] = f"{out[-1]} {stripped}"
        elif out and out[-1] and stripped and _LIST_ITEM.match(out[-1]) and not _BLOCK_LINE.match(stripped):
            out[-1] = f"{out[-1]} {stripped}"  # the continuation of a list item
        else:
            out.append(stripped)
    return "\n".join(out)


def _units(text: str, size: int) -> list[_Unit]:
    """Paragraphs that fit in ``size``, else their sentences, else word runs; each with its joiner."""
    units: list[_Unit] = []
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = "\n".join(line.rstrip() for line in paragraph.strip().splitlines())
        if not paragraph:
            continue
        sep = "\n\n"
        if len(paragraph) <= size:
            units.append(_Unit(paragraph, sep))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            for piece in [sentence] if len(sentence) <= size else _words(sentence, size):
                units.append(_Unit(piece, sep))
                sep = " "
    return units


def _join(units: Iterable[_Unit]) -> str:
    out = ""
    for unit in units:
        out = f"{out}{unit.sep}{unit.text}" if out else unit.text
    return out


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The last whole units of a passage that fit in ``overlap`` characters (else the end of the last one)."""
    carried: list[_Unit] = []
    length = 0
    for unit in reversed(units):
        extra = len(unit.text) + (len(unit.sep) if carried else 0)
        if length + extra > overlap:
            break
        carried.insert(0, unit)
        length += extra
    if carried or not units or overlap <= 0:
        return carried
    last = units[-1].text
    sentences = _SENTENCE_END.split(last)
    if len(sentences) > 1 and len(sentences[-1]) <= overlap:
        tail = sentences[-1]
        for sentence in reversed(sentences[:-1]):
            if len(sentence) + 1 + len(tail) > overlap:
                break
            tail = f"{sentence} {tail}"
        return [_Unit(tail, " ")]
    cut = last[-overlap:]
    space = cut.find(" ")
    cut = cut[space + 1 :] if 0 <= space < len(cut) - 1 else cut
    return [_Unit(cut, " ")] if cut and cut != last else []


def split_text(text: str, *, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP) -> list[str]:
    """Passages of at most ``size`` characters; consecutive ones share up to ``overlap`` characters."""
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError(f"need 0 <= overlap < size, got size={size} overlap={overlap}")
    chunks: list[str] = []
    current: list[_Unit] = []
    fresh = False  # does ``current`` hold anything beyond the overlap carried from the last chunk?
    for unit in _units(text, size):
        if current and len(_join([*current, unit])) > size:
            if fresh:
                chunks.append(_join(current))
                current = _tail(current, overlap)
            while current and len(_join([*current, unit])) > size:
                current = current[1:]
        current.append(unit)
        fresh = True
    if current and fresh:
        chunks.append(_join(current))
    return chunks
