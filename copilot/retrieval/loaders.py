"""Read Markdown, text, HTML and PDF files into titled sections of plain text (one heading path each)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from copilot.retrieval.chunking import unwrap
from copilot.retrieval.schemas import FileKind

__all__ = ["SUFFIXES", "LoadedDocument", "Section", "file_kind", "load_bytes", "pretty_stem"]

#: File suffixes read by ``copilot index`` and the loader for each.
SUFFIXES: dict[str, FileKind] = {
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


@dataclass
class Section:
    """Text under one heading path (or one PDF page)."""

    heading: str
    text: str
    page: int | None = None


@dataclass
class LoadedDocument:
    """A file's title and sections."""

    title: str
    kind: FileKind
    sections: list[Section] = field(default_factory=list)


def file_kind(path: Path) -> FileKind | None:
    """The loader for a file name, or None when it is not a supported document."""
    return SUFFIXES.get(path.suffix.lower())


def pretty_stem(path: Path) -> str:
    """``returns_policy.md`` -> ``Returns policy``."""
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:]


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _path(stack: list[tuple[int, str]]) -> str:
    return " > ".join(text for _, text in stack)


def load_markdown(text: str, default_title: str) -> LoadedDocument:
    """Sections under each heading path; the first level-1 heading is the title."""
    text = _FRONT_MATTER.sub("", text, count=1)
    doc = LoadedDocument(title="", kind="md")
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = unwrap("\n".join(lines)).strip()
        if body:
            doc.sections.append(Section(_path(stack), body))
        lines.clear()

    for line in text.split("\n"):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and not doc.title:
            doc.title = heading
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    doc.title = doc.title or default_title
    return doc


def load_text(text: str, default_title: str) -> LoadedDocument:
    """One section without a heading."""
    body = unwrap(text).strip()
    return LoadedDocument(title=default_title, kind="txt", sections=[Section("", body)] if body else [])


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, cut into sections at h1-h6; scripts, styles and the head are dropped."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "object"})
    _BLOCK = frozenset(
        {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "ul", "ol", "table",
         "tr", "blockquote", "pre", "dl", "dt", "dd", "form", "fieldset", "figure", "hr", "address"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = LoadedDocument(title="", kind="html")
        self._skip_depth = 0
        self._in_title = False
        self._title: list[str] = []
        self._heading_level = 0
        self._heading: list[str] = []
        self._stack: list[tuple[int, str]] = []
        self._body: list[str] = []

    def _flush(self) -> None:
        text = "".join(self._body)
        text = re.sub(r"[ \t\f\v]+", " ", text)
        text = re.sub(r" *\n *", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if text:
            self.doc.sections.append(Section(_path(self._stack), text))
        self._body.clear()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip_depth += 1
        elif self._skip_depth:
            return
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._flush()
            self._heading_level = int(tag[1])
            self._heading = []
        elif tag in self._BLOCK:
            self._body.append("\n\n")
        elif tag == "li":
            self._body.append("\n- ")
        elif tag == "br":
            self._body.append("\n")
        elif tag in ("td", "th"):
            self._body.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif self._heading_level and tag == f"h{self._heading_level}":
            heading = re.sub(r"\s+", " ", "".join(self._heading)).strip()
            if heading:
                if self._heading_level == 1 and not self.doc.title:
                    self.doc.title = heading
                while self._stack and self._stack[-1][0] >= self._heading_level:
                    self._stack.pop()
                self._stack.append((self._heading_level, heading))
            self._heading_level = 0
        elif tag in self._BLOCK:
            self._body.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._skip_depth:
            return
        data = re.sub(r"\s+", " ", data)  # layout comes from the tags, not from the source's line breaks
        (self._heading if self._heading_level else self._body).append(data)

    def finish(self, default_title: str) -> LoadedDocument:
        self.close()
        self._flush()
        title = re.sub(r"\s+", " ", "".join(self._title)).strip()
        self.doc.title = title or self.doc.title or default_title
        return self.doc


def load_html(text: str, default_title: str) -> LoadedDocument:
    """Visible text in sections under h1-h6; the ``<title>`` (else the first h1) is the title."""
    parser = _HTMLText()
    parser.feed(text)
    return parser.finish(default_title)


def load_pdf(data: bytes, default_title: str) -> LoadedDocument:
    """One section per page with text; the PDF's Title metadata (else the file name) is the title."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    meta_title = (reader.metadata.title if reader.metadata else None) or ""
    doc = LoadedDocument(title=str(meta_title).strip() or default_title, kind="pdf")
    for number, page in enumerate(reader.pages, start=1):
        text = unwrap(page.extract_text() or "").strip()
        if text:
            doc.sections.append(Section("", text, page=number))
    return doc


def load_bytes(data: bytes, path: Path) -> LoadedDocument:
    """Parse a file's content by its suffix; raises ``ValueError`` for an unsupported one."""
    kind = file_kind(path)
    default_title = pretty_stem(path)
    if kind == "md":
        return load_markdown(_decode(data), default_title)
    if kind == "txt":
        return load_text(_decode(data), default_title)
    if kind == "html":
        return load_html(_decode(data), default_title)
    if kind == "pdf":
        return load_pdf(data, default_title)
    raise ValueError(f"unsupported file type: {path.name}")
