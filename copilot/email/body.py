"""A body (HTML or plain) as the skills read it: new text, quoted replies, hidden content, forwarded blocks."""

from __future__ import annotations

from typing import Any

from copilot.email.forwarded import find_forward
from copilot.email.html import html_to_text
from copilot.email.limits import MAX_HTML_CHARS, MAX_TEXT_CHARS
from copilot.email.quoting import normalise_text, split_quoted
from copilot.text.invisible import reveal_invisible, strip_invisible

__all__ = ["clean_line", "convert_body", "unique"]


def convert_body(content: str, *, is_html: bool, subject: str = "", defects: list[str] | None = None) -> dict[str, Any]:
    """Text, quoted text, hidden text and flags of a body (HTML or plain); ``subject`` tells Outlook forwards."""
    local: list[str] = []
    if is_html:
        if len(content) > MAX_HTML_CHARS:
            local.append(f"HTML body cut at {MAX_HTML_CHARS} of {len(content)} characters before conversion")
            content = content[:MAX_HTML_CHARS]
        visible, quoted, hidden, reasons = html_to_text(content)
    else:
        if len(content) > MAX_TEXT_CHARS * 2:
            content = content[: MAX_TEXT_CHARS * 2]
        visible, quoted, hidden, reasons = normalise_text(content), "", "", []
    visible, invisible_hidden, invisible_reasons = reveal_invisible(visible)
    quoted, quoted_hidden, quoted_reasons = reveal_invisible(quoted)
    hidden_parts = [hidden, invisible_hidden, quoted_hidden]
    reasons = unique(reasons + invisible_reasons + quoted_reasons)

    forwarded = False
    forwarded_from = None
    block = find_forward(visible, subject=subject)
    if block is None and quoted:
        # A forward wrapped in a quote element (Gmail's gmail_quote) is the content, not an old reply.
        inner = find_forward(quoted, subject=subject)
        if inner is not None and not quoted[: inner.start].strip():
            visible, quoted = (visible + "\n\n" + quoted).strip(), ""
            block = find_forward(visible, subject=subject)
    if block is not None:
        forwarded = True
        forwarded_from = block.sender
        before, after = visible[: block.header_end], visible[block.header_end :]
        body_after, quoted_after = split_quoted(after)
        visible = (before.rstrip() + "\n\n" + body_after).strip()
        quoted = "\n\n".join(p for p in (quoted_after, quoted) if p)
    else:
        visible, more_quoted = split_quoted(visible)
        quoted = "\n\n".join(p for p in (more_quoted, quoted) if p)

    out_defects = local
    visible = _limit(visible, "body", out_defects)
    quoted = _limit(quoted, "quoted text", out_defects)
    hidden = _limit("\n".join(p for p in hidden_parts if p).strip(), "hidden text", out_defects)
    if defects is not None:
        defects.extend(out_defects)
        out_defects = []
    return {
        "text": visible,
        "quoted_text": quoted,
        "hidden_text": hidden,
        "hidden_reasons": reasons,
        "forwarded": forwarded,
        "forwarded_from": forwarded_from,
        "defects": out_defects,
    }


def _limit(text: str, what: str, defects: list[str]) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    defects.append(f"{what} truncated at {MAX_TEXT_CHARS} characters (of {len(text)})")
    return text[:MAX_TEXT_CHARS]


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def clean_line(value: str) -> str:
    value = strip_invisible(value or "")
    return " ".join(value.split())
