"""Forwarded blocks written by the common mail clients, found in one linear pass over the lines.

Recognised wrappers:

- an explicit forward line: Gmail's "---------- Forwarded message ---------", Apple Mail's "Begin forwarded
  message:", and the French, German, Spanish, Dutch and Italian ones ("Message transféré", "Weitergeleitete
  Nachricht", "Mensaje reenviado", "Doorgestuurd bericht", "Messaggio inoltrato"), followed or not by a
  header block;
- Outlook's header block ("From: / Sent: / To: / Subject:", or De/Von/Van/Da with Envoyé/Gesendet/Enviado/
  Verzonden/Inviato...), after "-----Original Message-----", a line of underscores (Outlook on the web) or
  nothing. Outlook writes the same block for a reply, so it counts as a forward only when the subject starts
  with a forward prefix (FW, Fwd, TR, WG, RV, Doorst, I, ENC); otherwise it stays a quoted earlier message.

What the block names as its sender is text written by whoever sent the email: the caller trusts it only
when that outer sender is authenticated staff. The ``email-forward-parser`` package was considered: it is a
port of a JavaScript parser built on large backtracking regexes, and the project needs linear time on any
input. Here each line is read once, and each candidate header block is read for at most
``MAX_HEADER_LINES`` lines, so any text costs linear time.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from copilot.text.email_address import normalise_address

__all__ = ["ForwardBlock", "find_forward", "is_forward_subject", "is_header_line"]

#: Lines of a header block read after a wrapper (a real one has at most 8).
MAX_HEADER_LINES = 12
#: A line longer than this is never a wrapper or a header line.
MAX_WRAPPER_LINE = 300
#: Blank lines allowed between an explicit forward line and its header block.
MAX_BLANKS = 2

_FORWARD_LINES = frozenset(
    {
        "forwarded message",
        "begin forwarded message",
        "message transféré",
        "message transfere",
        "weitergeleitete nachricht",
        "mensaje reenviado",
        "doorgestuurd bericht",
        "messaggio inoltrato",
    }
)
_ORIGINAL_LINES = frozenset(
    {
        "original message",
        "message d'origine",
        "ursprüngliche nachricht",
        "mensaje original",
        "oorspronkelijk bericht",
        "messaggio originale",
    }
)
_FROM = frozenset({"from", "de", "von", "van", "da"})
_DATE = frozenset(
    {
        "sent",
        "date",
        "envoyé",
        "envoye",
        "gesendet",
        "datum",
        "enviado",
        "enviado el",
        "fecha",
        "verzonden",
        "inviato",
        "data",
    }
)
_OTHER = frozenset(
    {
        "to", "cc", "bcc", "subject", "reply-to", "importance",
        "à", "a", "objet", "sujet", "cci",
        "an", "betreff", "kopie", "antwort an",
        "para", "asunto", "cco",
        "aan", "onderwerp",
        "oggetto", "ccn", "rispondi a",
    }
)  # fmt: skip
_FORWARD_PREFIXES = frozenset({"fw", "fwd", "tr", "wg", "rv", "doorst", "i", "enc", "fs"})


class ForwardBlock(BaseModel):
    """Where a forwarded message starts in a text, where its header block ends, and who it names."""

    model_config = ConfigDict(frozen=True)

    start: int
    header_end: int
    sender: str | None = None
    explicit: bool = True


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts with a forward prefix of a common client ("FW:", "Fwd:", "WG:", "TR :")."""
    head, sep, _ = subject[:40].partition(":")
    return bool(sep) and head.strip().strip("[]").strip().lower() in _FORWARD_PREFIXES


def _core(line: str) -> str:
    """A line without quote marks, dashes, underscores, stars and a final colon, lower case."""
    return line.strip().lstrip(">").strip(" \t-_=*").rstrip(":").strip().lower()


def _header(line: str) -> tuple[str, str] | None:
    """``(name, value)`` of a header line of a forward ("From: x", "**De :** x"), else None."""
    if len(line) > MAX_WRAPPER_LINE:
        return None
    name, sep, value = line.strip().lstrip(">").partition(":")
    name = name.strip().strip("*").strip().lower()
    if not sep or not (name in _FROM or name in _DATE or name in _OTHER):
        return None
    return name, value.strip().lstrip("*").strip()


def is_header_line(line: str) -> bool:
    """True for a line of a forward's or quote's header block ("Sent: ...", "Verzonden: ...", "**De :** x")."""
    return _header(line) is not None


def _address(value: str) -> str | None:
    address = normalise_address(value.replace("*", ""))
    return address if address and "@" in address else None


def _header_block(lines: list[str], first: int) -> tuple[int, str | None, bool, bool]:
    """``(index after the block, sender, first line is From, has a date)`` of the header lines from ``first``."""
    index = first
    sender: str | None = None
    starts_with_from = False
    has_date = False
    while index < len(lines) and index - first < MAX_HEADER_LINES:
        parsed = _header(lines[index])
        if parsed is None:
            break
        name, value = parsed
        if name in _FROM and sender is None:
            sender = _address(value)
            starts_with_from = starts_with_from or index == first
        elif name in _DATE:
            has_date = True
        index += 1
    return index, sender, starts_with_from, has_date


def find_forward(text: str, *, subject: str = "") -> ForwardBlock | None:
    """The first forwarded block of ``text`` (explicit forward line, or Outlook block under a forward subject)."""
    lines = text.split("\n")
    offsets: list[int] = []
    position = 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    outlook = is_forward_subject(subject)

    def block(index: int, end: int, sender: str | None, explicit: bool) -> ForwardBlock:
        header_end = offsets[end] if end < len(lines) else len(text)
        return ForwardBlock(start=offsets[index], header_end=header_end, sender=sender, explicit=explicit)

    for index, line in enumerate(lines):
        if len(line) > MAX_WRAPPER_LINE or not line.strip():
            continue
        core = _core(line)
        underscores = not core and line.strip().count("_") >= 10  # Outlook on the web
        if core in _FORWARD_LINES or core in _ORIGINAL_LINES or underscores:
            first = index + 1
            while first < len(lines) and first - index <= MAX_BLANKS and not lines[first].strip():
                first += 1
            end, sender, from_first, has_date = _header_block(lines, first)
            if core in _FORWARD_LINES:
                return block(index, end, sender, True)
            if outlook and from_first and has_date:
                return block(index, end, sender, False)
            continue
        header = _header(line) if outlook else None
        if header is not None and header[0] in _FROM:  # Outlook's block with no line above it
            end, sender, _, has_date = _header_block(lines, index)
            if has_date:
                return block(index, end, sender, False)
    return None
