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
import email
import email.errors
import email.header
import email.utils
import io
import itertools
import unicodedata
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from copilot.email.attachments import Budget, read_tables, table_format
from copilot.email.body import clean_line, convert_body, unique
from copilot.email.html import html_to_text
from copilot.email.limits import (
    MAX_ATTACHMENT_TEXT,
    MAX_AUTH_HEADER_CHARS,
    MAX_AUTH_HEADERS,
    MAX_HTML_CHARS,
    MAX_MIME_BOUNDARY_LINES,
    MAX_MIME_PARTS,
    MAX_PDF_BYTES,
    MAX_PDF_PAGES,
    MAX_RAW_BYTES,
    MAX_TABLE_ATTACHMENTS,
)
from copilot.email.message import Attachment, InboundEmail, Table
from copilot.errors import EmailParseError

__all__ = ["parse_email"]


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
        body = convert_body(content, is_html=is_html, subject=str(headers.get("subject") or ""), defects=defects)
    attachments = _attachments(msg, body_part, defects)
    defects.extend(_mime_defects(msg))
    body_defects = body.pop("defects", [])
    result = InboundEmail(**headers, **body, attachments=attachments, defects=unique(defects + body_defects))
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
    subject = clean_line(_header(msg, "Subject", defects))
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
    report_type = (
        msg.get_param("report-type", header="content-type") if msg.get_content_type() == "multipart/report" else None
    )
    return {
        "in_reply_to": _header(msg, "In-Reply-To", defects).strip() or None,
        "references": " ".join(_header(msg, "References", defects).split()),
        "auto_submitted": _header(msg, "Auto-Submitted", defects).strip().lower() or None,
        "content_type": msg.get_content_type(),
        "report_type": str(report_type).lower() if isinstance(report_type, str) else None,
        "authentication_results": _authentication_results(msg),
        "message_id": message_id,
        "from_name": clean_line(name) or None,
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
    budget = Budget()
    with_tables = 0
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
        label = clean_line(name) if name else None
        tables = []
        if isinstance(data, bytes) and size and table_format(label, ctype, data):
            with_tables += 1
            if with_tables > MAX_TABLE_ATTACHMENTS:
                defects.append(f"{label or 'attachment'}: over {MAX_TABLE_ATTACHMENTS} spreadsheets or PDFs: not read")
            else:
                read = read_tables(label, ctype, data, budget)
                tables, text = read.tables, text or _table_text(read.tables)
                defects.extend(read.problems)
        found.append(Attachment(name=label, content_type=ctype, size=size, text=text, tables=tables))
    return found


def _table_text(tables: list[Table]) -> str:
    """A spreadsheet's cells as text, for the checks that read attachments (the injection detector)."""
    lines = (" | ".join("" if c is None else str(c) for c in row.cells) for t in tables for row in t.rows)
    return "\n".join(lines)[:MAX_ATTACHMENT_TEXT]


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
