"""HTML to readable text with ``html.parser`` only: visible, quoted and hidden content kept apart."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from html.parser import HTMLParser

from copilot.email.css import Element, StyleSheet, declarations, hidden_reason, style_sheet, styles_in_html
from copilot.email.quoting import normalise_text

__all__ = ["html_comment_text", "html_to_text"]


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
    text = normalise_text(text)
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
        normalise_text(_without_closer(parser.visible)),
        normalise_text(_without_closer(parser.quoted)),
        normalise_text(_without_closer(parser.hidden)),
        parser.reasons,
    )
