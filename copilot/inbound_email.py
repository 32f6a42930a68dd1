"""Inbound email, normalised: headers, readable text, quoted replies and hidden content kept apart.

``parse_email`` reads an RFC 822 message (stdlib ``email``, ``policy.default``) and never crashes on bad
input: broken MIME, unknown charsets, binary garbage or a huge body become entries in ``defects``.
HTML is turned into text with ``html.parser`` only. Content a human reader would not see (``display:none``,
white-on-white, zero-size text, text in HTML comments, zero-width and Unicode tag characters) goes to
``hidden_text``: it is a classic prompt-injection vector, so it is kept for the warnings but never mixed
into ``text``.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.errors
import email.header
import email.utils
import io
import itertools
import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.citations import Citation
from copilot.errors import EmailParseError
from copilot.forwarded import find_forward
from copilot.guardrails.hidden_css import Element, StyleSheet, declarations, hidden_reason, style_sheet, styles_in_html
from copilot.text.invisible import reveal_invisible, strip_invisible
from copilot.tools.schemas import ChatterMessage, Ref

__all__ = [
    "MAX_MIME_PARTS",
    "MAX_TEXT_CHARS",
    "Attachment",
    "InboundEmail",
    "html_comment_text",
    "html_to_text",
    "parse_email",
    "split_quoted",
]

#: Longest text kept in ``text`` (and in ``quoted_text``, ``hidden_text``); the rest is cut with a defect.
MAX_TEXT_CHARS = 200_000
#: Longest HTML fed to the HTML parser; a bigger part is cut first (the kept text is smaller anyway).
MAX_HTML_CHARS = 1_000_000
#: Largest raw message read at all; beyond this the input is cut before parsing.
MAX_RAW_BYTES = 30_000_000
#: MIME parts read (body, attachments, defects); a real email has a few dozen. A message with more is read
#: up to here and a defect says so; before parsing, it is cut at its ``MAX_MIME_BOUNDARY_LINES``-th line
#: starting with ``--`` (a MIME boundary or a signature separator), which bounds the parser's work too.
MAX_MIME_PARTS = 100
MAX_MIME_BOUNDARY_LINES = 10 * MAX_MIME_PARTS


#: Authentication-Results headers kept (topmost first) and the longest value kept of each.
MAX_AUTH_HEADERS = 20
MAX_AUTH_HEADER_CHARS = 8_000

#: Longest readable text kept from one text or PDF attachment (for the injection detector only).
MAX_ATTACHMENT_TEXT = 20_000
#: PDFs larger than this, or pages beyond this, are not read for text.
MAX_PDF_BYTES = 5_000_000
MAX_PDF_PAGES = 10


class Attachment(BaseModel):
    """An attachment's metadata, and the readable text of a text, HTML or PDF attachment (untrusted, never a fact)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    content_type: str = "application/octet-stream"
    size: int = Field(default=0, ge=0, description="Decoded size in bytes")
    text: str = Field(
        default="",
        description="Readable text of a text/* or PDF attachment, at most 20,000 characters (only for checks)",
    )


class InboundEmail(BaseModel):
    """One email, normalised for the skills. Everything in it is untrusted data from outside."""

    model_config = ConfigDict(frozen=True)

    message_id: str | None = None
    from_name: str | None = None
    from_address: str | None = None
    reply_to: list[str] = Field(default_factory=list)
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    subject: str = ""
    date: datetime | None = Field(default=None, description="Sent date, aware UTC")
    text: str = Field(default="", description="Readable body without quoted replies or hidden content")
    quoted_text: str = Field(default="", description="Quoted earlier messages (blockquote, '>' lines, 'On ... wrote:')")
    hidden_text: str = Field(default="", description="Content hidden from a human reader (kept only to flag it)")
    hidden_reasons: list[str] = Field(default_factory=list, description="How content was hidden")
    forwarded: bool = False
    forwarded_from: str | None = Field(
        default=None,
        description="Address a forwarded block in the body names as its sender: text written by whoever sent the "
        "email, never proof of who wrote it (trusted only when the outer sender is authenticated staff)",
    )
    authentication_results: list[str] = Field(
        default_factory=list,
        description="Raw Authentication-Results headers, topmost first (at most 20): who added each is checked "
        "by copilot.mail_auth against the trusted authserv-ids",
    )
    attachments: list[Attachment] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list, description="Problems found while parsing")
    source: Citation | None = Field(default=None, description="The Odoo chatter message, when read from Odoo")
    thread: Citation | None = Field(default=None, description="The Odoo record the message is posted on")
    author: Ref | None = Field(default=None, description="Odoo's author of the chatter message (not proof of identity)")

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def from_domain(self) -> str | None:
        """The sender's domain, lower case (``example.com``)."""
        return _domain(self.from_address)

    @classmethod
    def from_chatter(cls, msg: ChatterMessage) -> InboundEmail:
        """Build an email from an Odoo chatter message (body is HTML)."""
        name, address = email.utils.parseaddr(msg.email_from or "")
        body = _convert_body(msg.body_html or "", is_html=True, subject=msg.subject or "")
        thread = None
        if msg.res_id:
            thread = Citation(
                model=msg.model, id=msg.res_id, display_name=msg.record_name or f"{msg.model},{msg.res_id}"
            )
        return cls(
            message_id=(msg.message_id or "").strip() or None,
            from_name=name or None,
            from_address=address.lower() if "@" in address else None,
            subject=_clean_line(msg.subject or ""),
            date=msg.date,
            source=msg.citation,
            thread=thread,
            author=msg.author,
            **body,
        )


# --------------------------------------------------------------------------------------------------
# parse_email
# --------------------------------------------------------------------------------------------------
def parse_email(raw: bytes | str) -> InboundEmail:
    """Parse an RFC 822 message; raises ``EmailParseError`` only when nothing at all is usable."""
    if not isinstance(raw, bytes | bytearray | str):
        raise TypeError(f"parse_email expects bytes or str, got {type(raw).__name__}")
    if not raw or not raw.strip():
        raise EmailParseError("empty email: nothing to read")
    defects: list[str] = []
    size = len(raw)
    if size > MAX_RAW_BYTES:
        raw = raw[:MAX_RAW_BYTES]
        defects.append(f"message truncated at {MAX_RAW_BYTES} of {size} bytes before parsing")
    raw = _cap_boundaries(raw, defects)
    try:
        if isinstance(raw, str):
            msg = email.message_from_string(raw, policy=policy.default)
        else:
            msg = email.message_from_bytes(bytes(raw), policy=policy.default)
    except Exception as exc:  # the parser is lenient; this is a last resort
        raise EmailParseError(f"unreadable email: {exc}") from exc

    headers = _headers(msg, defects)
    _count_parts(msg, defects)
    body_part = _body_part(msg, defects)
    body: dict[str, Any] = {}
    if body_part is None:
        defects.append("no body")
    else:
        content, charset_defects = _decode_text(body_part)
        defects.extend(charset_defects)
        if _looks_binary(content):
            defects.append("body looks like binary data, not text")
        is_html = body_part.get_content_subtype() == "html"
        if not content.strip():
            defects.append("no body")
        body = _convert_body(content, is_html=is_html, subject=str(headers.get("subject") or ""), defects=defects)
    attachments = _attachments(msg, body_part, defects)
    defects.extend(_mime_defects(msg))
    body_defects = body.pop("defects", [])
    result = InboundEmail(**headers, **body, attachments=attachments, defects=_dedupe(defects + body_defects))
    if not any(
        (
            result.text,
            result.quoted_text,
            result.hidden_text,
            result.subject,
            result.from_address,
            result.message_id,
            result.attachments,
        )
    ):
        raise EmailParseError("nothing usable in the email: no headers, no text, no attachments")
    return result


def _headers(msg: Message, defects: list[str]) -> dict[str, Any]:
    from_value = _header(msg, "From", defects)
    name, address = email.utils.parseaddr(from_value) if from_value else ("", "")
    if not from_value:
        defects.append("no From header")
    elif not address or "@" not in address:
        defects.append(f"unreadable From address: {from_value[:80]!r}")
        address = ""
    subject = _clean_line(_header(msg, "Subject", defects))
    if not subject:
        defects.append("no subject")
    date_value = _header(msg, "Date", defects)
    date = None
    if date_value:
        try:
            date = email.utils.parsedate_to_datetime(date_value)
        except (TypeError, ValueError, IndexError, OverflowError):
            defects.append(f"unparseable Date header: {date_value[:60]!r}")
        else:
            if date.tzinfo is None:
                defects.append("Date header without time zone: assumed UTC")
    else:
        defects.append("no Date header")
    message_id = _header(msg, "Message-ID", defects).strip() or None
    return {
        "authentication_results": _authentication_results(msg),
        "message_id": message_id,
        "from_name": _clean_line(name) or None,
        "from_address": address.strip().lower() or None,
        "reply_to": _addresses(_header(msg, "Reply-To", defects)),
        "to": _addresses(_header(msg, "To", defects)),
        "cc": _addresses(_header(msg, "Cc", defects)),
        "subject": subject,
        "date": date,
    }


def _authentication_results(msg: Message) -> list[str]:
    """The ``Authentication-Results`` headers as text, in message order (topmost first), bounded."""
    out: list[str] = []
    for key, value in msg.raw_items():
        if key.lower() != "authentication-results":
            continue
        text = value if isinstance(value, str) else str(value)
        out.append(" ".join(text[:MAX_AUTH_HEADER_CHARS].split()))
        if len(out) >= MAX_AUTH_HEADERS:
            break
    return out


def _header(msg: Message, name: str, defects: list[str]) -> str:
    """A header as decoded text; a header the policy cannot parse is decoded by hand."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # malformed encoded words or addresses can raise deep in the header parser
        defects.append(f"malformed {name} header")
        for key, raw_value in msg.raw_items():
            if key.lower() == name.lower():
                try:
                    parts = email.header.decode_header(str(raw_value))
                    return str(email.header.make_header(parts))
                except Exception:
                    return str(raw_value)
        return ""


def _addresses(value: str) -> list[str]:
    if not value:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        return []
    return [addr.strip().lower() for _, addr in pairs if addr and "@" in addr]


def _body_part(msg: Message, defects: list[str]) -> Message | None:
    """The part to read as the body: HTML if any (hidden content is only visible there), else plain."""
    part: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=("html", "plain"))
        except Exception:
            defects.append("broken MIME structure: body found by scanning parts")
            part = None
    if part is not None:
        return part
    for candidate in _walk(msg):
        if candidate.get_content_maintype() == "text" and not _is_attachment(candidate):
            return candidate
    return None


def _walk(msg: Message) -> list[Message]:
    """The first ``MAX_MIME_PARTS`` parts, depth first (``_count_parts`` says when there are more)."""
    try:
        return list(itertools.islice(msg.walk(), MAX_MIME_PARTS))
    except Exception:
        return [msg]


def _cap_boundaries(raw: bytes | str, defects: list[str]) -> bytes | str:
    """``raw`` cut before its ``MAX_MIME_BOUNDARY_LINES + 1``-th line starting with ``--``: the parser then
    builds a bounded number of parts, whatever the message holds."""
    marker: bytes | str = b"\n--" if isinstance(raw, bytes | bytearray) else "\n--"
    at = -1
    for _ in range(MAX_MIME_BOUNDARY_LINES + 1):
        at = raw.find(marker, at + 1)  # type: ignore[arg-type]
        if at == -1:
            return raw
    defects.append(
        f"over {MAX_MIME_BOUNDARY_LINES} MIME boundaries: MIME parts after byte {at} of {len(raw)} were not read "
        f"(at most {MAX_MIME_PARTS} are)"
    )
    return raw[:at]


def _count_parts(msg: Message, defects: list[str]) -> None:
    """A defect when the message has more parts than ``_walk`` reads."""
    try:
        total = sum(1 for _ in itertools.islice(msg.walk(), 100 * MAX_MIME_PARTS))
    except Exception:
        return
    if total > MAX_MIME_PARTS:
        defects.append(
            f"{total} MIME parts: only the first {MAX_MIME_PARTS} were read (later attachments not listed or checked)"
        )


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:
        return True
    return disposition == "attachment" or (disposition == "inline" and bool(filename))


def _decode_text(part: Message) -> tuple[str, list[str]]:
    """The decoded text of a part and any charset problems met on the way."""
    defects: list[str] = []
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    if not isinstance(payload, bytes):
        payload = bytes(payload)
    declared = (part.get_param("charset") or "") if part.get("Content-Type") else ""
    charset = str(declared).strip().strip('"').lower() if declared else ""
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            text = payload.decode("utf-8", errors="replace")
            defects.append(f"undecodable charset {charset}: decoded as UTF-8 with replacement")
            return text, defects
        text = payload.decode(charset, errors="replace")
        bad = text.count("\ufffd") - payload.decode(charset, errors="ignore").count("\ufffd")
        if bad > 0:
            defects.append(f"{bad} bytes not valid in charset {charset}: replaced")
        return text, defects
    try:
        return payload.decode("utf-8"), defects
    except UnicodeDecodeError:
        defects.append("no charset declared and not UTF-8: decoded as Windows-1252")
        return payload.decode("cp1252", errors="replace"), defects


def _attachments(msg: Message, body_part: Message | None, defects: list[str]) -> list[Attachment]:
    found: list[Attachment] = []
    for part in _walk(msg):
        if part is body_part:
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            subject = _header(inner_msg, "Subject", defects) if isinstance(inner_msg, Message) else ""
            found.append(Attachment(name=subject or "attached message", content_type=ctype, size=0))
            continue
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text" and not _is_attachment(part):
            continue  # the other alternative of the body
        try:
            name = part.get_filename()
        except Exception:
            name = None
        data: Any = None
        try:
            data = part.get_payload(decode=True)
            size = len(data) if isinstance(data, bytes) else 0
        except Exception:
            size = 0
        text = ""
        if part.get_content_maintype() == "text" and size:
            content, _ = _decode_text(part)
            if ctype == "text/html":  # hidden parts too: the text is only read by the checks
                visible, quoted, hidden, _ = html_to_text(content[:MAX_HTML_CHARS])
                content = "\n\n".join(part for part in (visible, quoted, hidden) if part)
            text = content
            text = text[:MAX_ATTACHMENT_TEXT]
        elif ctype == "application/pdf" and 0 < size <= MAX_PDF_BYTES and isinstance(data, bytes):
            text = _pdf_text(data)
        found.append(Attachment(name=_clean_line(name) if name else None, content_type=ctype, size=size, text=text))
    return found


def _pdf_text(data: bytes) -> str:
    """The text of a PDF's first pages (for the checks); an unreadable PDF gives no text, not an error."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except Exception:  # a broken or encrypted PDF is still listed; it just has no text to check
        return ""
    return "\n".join(pages)[:MAX_ATTACHMENT_TEXT]


def _mime_defects(msg: Message) -> list[str]:
    out: list[str] = []
    for part in _walk(msg):
        for defect in getattr(part, "defects", []) or []:
            doc = (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0]
            out.append(f"MIME: {doc}")
    return out


def _looks_binary(text: str) -> bool:
    """True when a decoded body is mostly control characters or undecodable bytes."""
    sample = text[:8000]
    bad = sum(
        1
        for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\t\r\f")
    )
    return bad > max(8, len(sample) // 20)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().strip(">").lower() or None


def _clean_line(value: str) -> str:
    value = strip_invisible(value or "")
    return " ".join(value.split())


# --------------------------------------------------------------------------------------------------
# body: HTML -> text, quoted replies, hidden content
# --------------------------------------------------------------------------------------------------
def _convert_body(
    content: str, *, is_html: bool, subject: str = "", defects: list[str] | None = None
) -> dict[str, Any]:
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
        visible, quoted, hidden, reasons = _normalise_text(content), "", "", []
    visible, invisible_hidden, invisible_reasons = reveal_invisible(visible)
    quoted, quoted_hidden, quoted_reasons = reveal_invisible(quoted)
    hidden_parts = [hidden, invisible_hidden, quoted_hidden]
    reasons = _dedupe(reasons + invisible_reasons + quoted_reasons)

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


_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "nav",
        "main",
        "address",
        "blockquote",
        "pre",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "form",
        "fieldset",
        "figure",
        "figcaption",
        "center",
    ]
)
_VOID_TAGS = frozenset(
    ["br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source", "track", "embed", "param"]
)
_SKIP_TAGS = frozenset(["script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"])
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")


class _Frame:
    __slots__ = ("background", "color", "hidden", "keys", "quoted", "tag")

    def __init__(
        self,
        tag: str,
        hidden: str | None,
        quoted: bool,
        color: str | None,
        background: str | None,
        keys: tuple[str, ...] = (),
    ) -> None:
        self.keys = keys
        self.tag = tag
        self.hidden = hidden
        self.quoted = quoted
        self.color = color
        self.background = background


class _HTMLText(HTMLParser):
    """Streams HTML into three buffers: visible text, quoted text, hidden text."""

    def __init__(self, sheet: StyleSheet | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.sheet = sheet or StyleSheet()
        self.inline: dict[str, dict[str, str]] = {}  # parsed inline styles (mail repeats the same ones)
        self.stack: list[_Frame] = []
        # Counters kept in step with the stack, so deep nesting costs O(1) per tag, not O(depth).
        self.open_keys: Counter[str] = Counter()  # classes, ids, tags of open elements, for <style> selectors
        self.hidden_open = 0
        self.quoted_open = 0
        self.open_tags: Counter[str] = Counter()
        self.backgrounds: list[str] = []
        self.visible: list[str] = []
        self.quoted: list[str] = []
        self.hidden: list[str] = []
        self.reasons: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.sticky_quote = False  # Outlook: everything after the reply header is the old message

    # -- state --------------------------------------------------------------------------------
    def _current(self) -> list[str]:
        if self.hidden_open:
            return self.hidden
        if self.sticky_quote or self.quoted_open:
            return self.quoted
        return self.visible

    def _emit(self, text: str) -> None:
        self._current().append(text)

    def _newline(self) -> None:
        self._current().append("\n")

    # -- parser callbacks ---------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag in _BLOCK_TAGS or tag == "li":
            self._newline()
        if tag == "br":
            self._newline()
            return
        if tag in _VOID_TAGS:
            if tag == "hr":
                self._newline()
            return
        element = Element(
            tag,
            frozenset(attributes.get("class", "").split()[:32]),
            attributes.get("id") or None,
            attributes,
        )
        hidden, color, background = self._hidden_reason(element)
        classes = attributes.get("class", "")
        quoted = (
            tag == "blockquote" or "data-o-mail-quote-node" in attributes or any(c in classes for c in _QUOTE_CLASSES)
        )
        if attributes.get("id") in ("divRplyFwdMsg", "appendonsend"):
            self.sticky_quote = True
        if hidden and hidden not in self.reasons:
            self.reasons.append(hidden)
        keys: tuple[str, ...] = ()
        if self.sheet.count:
            keys = (
                f"tag:{tag}",
                *(f"class:{c}" for c in element.classes),
                *((f"id:{element.id}",) if element.id else ()),
                *(f"attr:{name}" for name in list(attributes)[:32]),
            )
            self.open_keys.update(keys)
        self.stack.append(_Frame(tag, hidden, quoted, color, background, keys))
        self.hidden_open += bool(hidden)
        self.quoted_open += bool(quoted)
        self.open_tags[tag] += 1
        if background:
            self.backgrounds.append(background)
        if tag == "pre":
            self.pre_depth += 1
        if tag == "li":
            self._emit("- ")
        elif tag in ("td", "th"):
            self._emit(" \t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() in _VOID_TAGS:
            self.handle_starttag(tag, attrs)
        else:  # <div/> and friends: open and close at once
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth or tag in _VOID_TAGS:
            return
        if not self.open_tags[tag]:
            return  # stray end tag
        if tag in _BLOCK_TAGS:  # list items only start a line, so lists stay tight
            self._newline()
        while self.stack:
            frame = self.stack.pop()
            if frame.keys:
                self.open_keys.subtract(frame.keys)
            self.hidden_open -= bool(frame.hidden)
            self.quoted_open -= bool(frame.quoted)
            self.open_tags[frame.tag] -= 1
            if frame.background:
                self.backgrounds.pop()
            if frame.tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            if frame.hidden and not self.hidden_open:
                self.hidden.append("\n")  # keep separately hidden snippets apart
            if frame.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip_depth or not data:
            return
        if not self.pre_depth:
            data = re.sub(r"[ \t\r\n\f\v]+", " ", data)
        self._emit(data)

    def handle_comment(self, data: str) -> None:
        """An HTML comment is never shown: its text is hidden content, unless it is mail-client boilerplate."""
        if self.skip_depth:
            return
        text = html_comment_text(data)
        if text:
            if "html comment" not in self.reasons:
                self.reasons.append("html comment")
            self.hidden.append(text + "\n")

    # -- hidden content -----------------------------------------------------------------------
    def _hidden_reason(self, element: Element) -> tuple[str | None, str | None, str | None]:
        """(why the element is hidden or None, its text colour, its background) from its style and the sheet."""
        attributes = element.attributes
        style = self.sheet.style_of(element, self.open_keys)
        inline = attributes.get("style", "")
        if inline:
            if inline not in self.inline:
                if len(self.inline) > 4_096:
                    self.inline.clear()
                self.inline[inline] = declarations(inline)
            style = {**style, **self.inline[inline]}
        color = style.get("color") or (attributes.get("color") if element.tag == "font" else None)
        background = style.get("background-color") or style.get("background") or attributes.get("bgcolor")
        if color:
            style = {**style, "color": color}
        if "hidden" in attributes:
            return "hidden attribute", color, background
        if element.tag == "font" and attributes.get("size", "").strip() == "0":
            return "zero or tiny font size", color, background
        effective_bg = background or (self.backgrounds[-1] if self.backgrounds else None)
        return hidden_reason(style, effective_bg), color, background


_CONDITIONAL_COMMENT = re.compile(r"^\s*(?:\[if\b|<?!?\[endif\]|\[endif\])", re.IGNORECASE)
_BOILERPLATE_COMMENT = re.compile(
    r"^\s*(?:StartFragment|EndFragment|saved from url=.*|(?:BEGIN|END|START)\b.*|/?[\w.-]+|x-\S+.*)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT_TAG = re.compile(r"<[^>]{0,500}>")


def html_comment_text(data: str) -> str:
    """The readable text of an HTML comment, or ``""`` for boilerplate a mail client writes.

    Boilerplate: empty comments, Outlook's conditional comments (``<!--[if mso]> ... <![endif]-->``),
    clipboard and section markers (``StartFragment``, ``BEGIN SIGNATURE``) and comments of fewer than three
    words (``<!-- footer -->``). Anything longer is text no reader sees, so it is reported as hidden.
    """
    if not data or _CONDITIONAL_COMMENT.match(data):
        return ""
    text = _COMMENT_TAG.sub(" ", data)
    text = _normalise_text(text)
    if not text or _BOILERPLATE_COMMENT.match(text) or len(re.findall(r"[^\W\d_]{2,}", text)) < 3:
        return ""
    return text


#: Fed after the HTML: closes whatever construct the HTML left open (a quoted attribute value, a start tag,
#: a marked section, a comment). Python's ``html.parser`` before 3.11.13/3.12.11 (CVE-2025-6069) scans to
#: the end of the input again for every construct that never ends, so 50 KB of ``<a b='`` cost seconds;
#: with an end in sight each construct is read once. Where the closer lands in text (plain text, an
#: unterminated comment) it is cut off again from its first mark, a private-use character removed from the HTML.
_MARK = "\ue000"
_CLOSER = _MARK.join(("\n", "'", '"', "]]>", "-->", ""))


def _without_closer(parts: list[str]) -> str:
    """The text before the closer: each piece that ends a construct is followed by a mark, so what the
    closer adds to any text starts with one."""
    text = "".join(parts)
    mark = text.find(_MARK)
    return text if mark < 0 else text[:mark]


def html_to_text(html: str) -> tuple[str, str, str, list[str]]:
    """Readable text of HTML: ``(visible, quoted, hidden, hidden_reasons)``."""
    parser = _HTMLText(style_sheet(styles_in_html(html)))
    with contextlib.suppress(Exception):  # html.parser is lenient; on a rare failure keep what was read
        parser.feed(html.replace(_MARK, ""))
        parser.feed(_CLOSER)
        parser.close()
    return (
        _normalise_text(_without_closer(parser.visible)),
        _normalise_text(_without_closer(parser.quoted)),
        _normalise_text(_without_closer(parser.hidden)),
        parser.reasons,
    )


def _normalise_text(text: str) -> str:
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
    return _normalise_text("\n".join(kept)), _normalise_text(quoted_text)
