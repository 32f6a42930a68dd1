"""Tables in attachments: an order confirmation or delivery schedule as PDF (pdfplumber), XLSX (openpyxl) or CSV.

Everything read here is untrusted data. Each reader is bounded (``copilot.email.limits``): size, pages,
decoded PDF streams (a compression bomb is refused before pdfminer decodes it), unpacked ZIP size of an XLSX,
rows, columns, cell length and a time budget per email. What is not read is reported as a problem, in words a
buyer understands; no input makes a reader hang or crash.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from typing import Any

from copilot.email.limits import (
    MAX_CSV_BYTES,
    MAX_PDF_BYTES,
    MAX_PDF_DECODED_BYTES,
    MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_PAGE_OBJECTS,
    MAX_PDF_STREAMS,
    MAX_TABLE_CELL_CHARS,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_PDF_PAGES,
    MAX_TABLE_ROWS,
    MAX_TABLE_SECONDS,
    MAX_XLSX_BYTES,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_SHEETS,
    MAX_XLSX_UNPACKED_BYTES,
)
from copilot.email.message import Cell, Table, TableRow

__all__ = ["Budget", "TableRead", "read_tables", "table_format"]

_XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)
_CSV_TYPES = ("text/csv", "application/csv", "text/comma-separated-values")
_CONTEXT_CHARS = 4_000
#: The start of a CSV the dialect is sniffed from: csv.Sniffer's patterns are quadratic on hostile text (2 KB of
#: ',"' takes ~50 ms), and 2 KB hold the header and a dozen rows.
_SNIFF_CHARS = 2_048
# a number written with a decimal comma ("85,50", "1.690,00 €") or point ("85.50", "$1,690.00"); cells are short
_COMMA_NUMBER = re.compile(r"[^\d,.]{0,6}(?:\d{1,3}(?:[.\u00a0 ]\d{3})++|\d{1,9}),\d{1,2}[^\d,.]{0,6}")
_POINT_NUMBER = re.compile(r"[^\d,.]{0,6}(?:\d{1,3}(?:[,\u00a0 ]\d{3})++|\d{1,9})\.\d{1,2}[^\d,.]{0,6}")


class Budget:
    """The time left for one email's tables (checked between pages, sheets and files)."""

    def __init__(self, seconds: float = MAX_TABLE_SECONDS) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def spent(self) -> bool:
        """True once the budget is used up."""
        return time.monotonic() > self.deadline


@dataclass
class TableRead:
    """The tables of one attachment and the limits it hit (each a sentence for the buyer).

    ``unreadable`` says why a broken file gave nothing: like a broken PDF for the text checks, it is listed
    but not a parse defect (a limit hit is).
    """

    tables: list[Table] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreadable: str | None = None


def table_format(name: str | None, content_type: str, data: bytes) -> str | None:
    """``pdf``, ``xlsx`` or ``csv`` when the attachment is one (by type, name or first bytes), else None."""
    lower = (name or "").lower()
    ctype = content_type.lower()
    if ctype == "application/pdf" or lower.endswith(".pdf") or data[:5] == b"%PDF-":
        return "pdf"
    if ctype in _XLSX_TYPES or lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if ctype in _CSV_TYPES or lower.endswith(".csv"):
        return "csv"
    return None


def read_tables(name: str | None, content_type: str, data: bytes, budget: Budget | None = None) -> TableRead:
    """The tables of a PDF, XLSX or CSV attachment; another type gives no table and no problem."""
    kind = table_format(name, content_type, data)
    label = name or "attachment"
    budget = budget or Budget()
    if kind is None or not data:
        return TableRead()
    if budget.spent():
        return TableRead(problems=[f"{label}: not read for tables (time budget of {budget.seconds:g} s used up)"])
    reader = {"pdf": _pdf, "xlsx": _xlsx, "csv": _csv}[kind]
    try:
        return reader(label, data, budget)
    except Exception as exc:  # a broken file gives no table, never a crash
        return TableRead(unreadable=f"{label}: unreadable {kind.upper()} ({type(exc).__name__}): tables not read")


# -- cells -------------------------------------------------------------------------------------------------
def _cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, day_time):
        return None
    text = " ".join(str(value).split())[:MAX_TABLE_CELL_CHARS]
    return text or None


def _rows(raw: list[tuple[int, list[Any]]]) -> list[TableRow]:
    out = []
    for number, values in raw:
        cells = [_cell(v) for v in values[:MAX_TABLE_COLUMNS]]
        while cells and cells[-1] is None:
            cells.pop()
        if any(c is not None for c in cells):
            out.append(TableRow(number=number, cells=cells))
    return out


def _decimal_comma(rows: list[TableRow]) -> bool:
    comma = point = 0
    for row in rows:
        for cell in row.cells:
            if isinstance(cell, str) and len(cell) <= 40:
                comma += bool(_COMMA_NUMBER.fullmatch(cell))
                point += bool(_POINT_NUMBER.fullmatch(cell))
    return comma > point


def _table(where: str, raw: list[tuple[int, list[Any]]], context: str = "") -> Table | None:
    rows = _rows(raw)
    if not rows:
        return None
    return Table(where=where, rows=rows, context=context[:_CONTEXT_CHARS], decimal_comma=_decimal_comma(rows))


# -- PDF -----------------------------------------------------------------------------------------------------
def _pdf_bomb(data: bytes) -> str | None:
    """Why pdfminer must not open this PDF (its streams decode to too much), or None.

    pdfminer decodes streams without a limit; pypdf has one (a stream decoding past it raises), so every
    stream is decoded here first, counting the total.
    """
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject, StreamObject

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        return "encrypted"
    for page in reader.pages[:MAX_TABLE_PDF_PAGES]:
        contents = page.get_contents()
        if contents is not None and len(contents.get_data()) > MAX_PDF_PAGE_CONTENT_BYTES:
            return f"a page's content decodes to over {MAX_PDF_PAGE_CONTENT_BYTES:,} bytes"
    numbers = {n for generation in reader.xref.values() for n in generation} | set(reader.xref_objStm)
    if len(numbers) > MAX_PDF_STREAMS * 4:
        return f"{len(numbers):,} objects"
    total = streams = 0
    for number in sorted(numbers):
        obj = reader.get_object(IndirectObject(number, 0, reader))
        if not isinstance(obj, StreamObject):
            continue
        streams += 1
        total += len(obj.get_data())
        if streams > MAX_PDF_STREAMS or total > MAX_PDF_DECODED_BYTES:
            return f"its streams decode to over {MAX_PDF_DECODED_BYTES:,} bytes"
    return None


def _white(color: Any) -> bool:
    """White in grey (1), RGB (1, 1, 1) or CMYK (0, 0, 0, 0)."""
    values = color if isinstance(color, tuple | list) else (color,)
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(numbers) in (1, 3):
        return all(v >= 0.95 for v in numbers)
    return len(numbers) == 4 and all(v <= 0.05 for v in numbers)


def _inside(char: dict[str, Any], rect: dict[str, Any]) -> bool:
    x, y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    return rect["x0"] <= x <= rect["x1"] and rect["top"] <= y <= rect["bottom"]


def _visible_page(page: Any) -> tuple[Any, int | None]:
    """The page without characters a reader cannot see (white on a white page, under 2 pt), and how many were
    left out; None when there is too much white text on coloured fills to check in bounded time.

    Hidden text is a classic injection vector: a white table row must not become a fact. White text on a
    dark fill (a header band) is visible and kept.
    """
    white = [c for c in page.chars if c.get("non_stroking_color") is not None and _white(c["non_stroking_color"])]
    tiny = sum(1 for c in page.chars if float(c.get("size") or 0) < 2)
    if not white and not tiny:
        return page, 0
    fills = [r for r in page.rects if r.get("fill") and not _white(r.get("non_stroking_color"))]
    if len(white) * len(fills) > MAX_PDF_PAGE_OBJECTS * 50:
        return page, None
    hidden = {id(c) for c in white if not any(_inside(c, r) for r in fills)}

    def visible(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        return id(obj) not in hidden and float(obj.get("size") or 0) >= 2

    left_out = len(hidden) + tiny
    return (page.filter(visible), left_out) if left_out else (page, 0)


def _pdf(label: str, data: bytes, budget: Budget) -> TableRead:
    if len(data) > MAX_PDF_BYTES:
        return TableRead(problems=[f"{label}: {len(data):,} bytes, over the {MAX_PDF_BYTES:,} read: tables not read"])
    from pypdf.errors import LimitReachedError

    try:
        bomb = _pdf_bomb(data)
    except LimitReachedError:
        bomb = "a stream decodes past pypdf's limit (a compression bomb?)"
    except Exception as exc:  # a broken file
        return TableRead(unreadable=f"{label}: unreadable PDF ({type(exc).__name__}): tables not read")
    if bomb:
        return TableRead(problems=[f"{label}: PDF not read for tables: {bomb}"])
    import pdfplumber

    result = TableRead()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = pdf.pages
        if len(pages) > MAX_TABLE_PDF_PAGES:
            result.problems.append(f"{label}: {len(pages)} pages: only the first {MAX_TABLE_PDF_PAGES} read for tables")
        for number, page in enumerate(pages[:MAX_TABLE_PDF_PAGES], start=1):
            if budget.spent():
                result.problems.append(f"{label}: page {number} and later not read (time budget used up)")
                break
            objects = len(page.chars) + len(page.lines) + len(page.rects) + len(page.curves)
            if objects > MAX_PDF_PAGE_OBJECTS:
                result.problems.append(f"{label}: page {number} has {objects:,} drawing objects: not read for tables")
                continue
            page, hidden = _visible_page(page)
            if hidden is None:
                result.problems.append(f"{label}: page {number} has too much white text to check: not read for tables")
                continue
            if hidden:
                result.problems.append(
                    f"{label}: page {number} has {hidden} hidden characters (white or tiny): left out"
                )
            context = page.extract_text() or ""
            found = page.extract_tables() or page.extract_tables(
                {"vertical_strategy": "text", "horizontal_strategy": "text"}
            )
            several = len(found) > 1
            for index, rows in enumerate(found, start=1):
                where = f"page {number}" + (f", table {index}" if several else "")
                filled = [list(row) for row in rows[:MAX_TABLE_ROWS] if any(v not in (None, "") for v in row)]
                raw = list(enumerate(filled, start=1))  # numbered as read: the empty lines of a text table skipped
                table = _table(where, raw, context)
                if table is not None:
                    result.tables.append(table)
    return result


# -- XLSX ----------------------------------------------------------------------------------------------------
def _zip_problem(data: bytes) -> str | None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            return f"{len(members):,} parts in the file"
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            return f"unpacks to {unpacked:,} bytes, over the {MAX_XLSX_UNPACKED_BYTES:,} read (a ZIP bomb?)"
    return None


def _hidden_rows_and_columns(sheet: Any) -> tuple[set[int], set[int]]:
    """Row and column numbers a sheet hides (``hidden="1"``), read from its XML up to the row limit: openpyxl's
    read-only mode streams values only. A hidden row is no statement to the buyer (old lines, or an injection)."""
    from defusedxml.ElementTree import iterparse

    rows: set[int] = set()
    columns: set[int] = set()
    seen = 0
    archive, path = getattr(sheet.parent, "_archive", None), getattr(sheet, "_worksheet_path", None)
    if archive is None or path is None:  # another openpyxl: values only, as before
        return rows, columns
    with archive.open(path) as source:  # the sheet's part in the workbook's open ZIP
        for _, element in iterparse(source, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "col" and element.get("hidden") in ("1", "true"):
                low, high = int(element.get("min", "0")), int(element.get("max", "0"))
                columns.update(range(low, min(high, MAX_TABLE_COLUMNS) + 1))
            elif tag == "row":
                seen += 1
                if element.get("hidden") in ("1", "true"):
                    rows.add(int(element.get("r", "0")))
                element.clear()
                if seen > MAX_TABLE_ROWS:
                    break
    return rows, columns


def _xlsx(label: str, data: bytes, budget: Budget) -> TableRead:
    if len(data) > MAX_XLSX_BYTES:
        return TableRead(problems=[f"{label}: {len(data):,} bytes, over the {MAX_XLSX_BYTES:,} read: tables not read"])
    problem = _zip_problem(data)
    if problem:
        return TableRead(problems=[f"{label}: spreadsheet not read: {problem}"])
    from openpyxl import load_workbook

    result = TableRead()
    # read-only streams the sheets; data_only reads cached values (no formula is evaluated); no external links
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False)
    try:
        sheets = [s for s in book.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
        if len(sheets) > MAX_XLSX_SHEETS:
            result.problems.append(f"{label}: {len(sheets)} sheets: only the first {MAX_XLSX_SHEETS} read")
        for sheet in sheets[:MAX_XLSX_SHEETS]:
            if budget.spent():
                result.problems.append(f"{label}: sheet {sheet.title} and later not read (time budget used up)")
                break
            hidden_rows, hidden_columns = _hidden_rows_and_columns(sheet)
            if hidden_rows or hidden_columns:
                result.problems.append(
                    f"{label}: sheet {sheet.title}: {len(hidden_rows)} hidden rows and {len(hidden_columns)} hidden "
                    "columns left out"
                )
            raw: list[tuple[int, list[Any]]] = []
            for number, values in enumerate(
                sheet.iter_rows(max_row=MAX_TABLE_ROWS + 1, max_col=MAX_TABLE_COLUMNS, values_only=True), start=1
            ):
                if number > MAX_TABLE_ROWS:
                    result.problems.append(f"{label}: sheet {sheet.title}: over {MAX_TABLE_ROWS} rows, rest not read")
                    break
                if number not in hidden_rows:
                    raw.append((number, [v for i, v in enumerate(values, start=1) if i not in hidden_columns]))
            table = _table(f"sheet {sheet.title}", raw)
            if table is not None:
                result.tables.append(table)
    finally:
        book.close()
    return result


# -- CSV -----------------------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(sample: str) -> type[csv.Dialect]:
    """The sniffed dialect; when sniffing fails, the separator the first line uses most."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return type("_Plain", (csv.excel,), {"delimiter": max(";,\t|", key=first.count)})


def _csv(label: str, data: bytes, budget: Budget) -> TableRead:
    result = TableRead()
    if len(data) > MAX_CSV_BYTES:
        result.problems.append(f"{label}: {len(data):,} bytes: only the first {MAX_CSV_BYTES:,} read")
        data = data[:MAX_CSV_BYTES]
    text = _decode(data)
    reader = csv.reader(io.StringIO(text), _dialect(text[:_SNIFF_CHARS]))
    raw: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(reader, start=1):
        if number > MAX_TABLE_ROWS:
            result.problems.append(f"{label}: over {MAX_TABLE_ROWS} rows: rest not read")
            break
        raw.append((number, values[:MAX_TABLE_COLUMNS]))
    table = _table("", raw)
    if table is not None:
        result.tables.append(table)
    return result
