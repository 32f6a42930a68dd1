"""Tables read from attachments (PDF, XLSX, CSV): what a buyer sees in the file, and bounded on hostile files."""

from __future__ import annotations

import io
import time
import zipfile
import zlib
from datetime import date
from email.message import EmailMessage

from copilot.email import parse_email
from copilot.email.attachments import Budget, read_tables
from copilot.email.limits import MAX_TABLE_ROWS
from evals.fixtures.attachments import csv_bytes, pdf_bytes, xlsx_bytes

HEADER = ["Pos", "Artikel", "Bezeichnung", "Menge", "Preis", "Liefertermin"]
ROWS = [[1, "FURN_8888", "Office Lamp", 6, "85,50", "04.12.2026"], [2, "E-COM07", "Large Cabinet", 7, "800,00", None]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_pdf_table_rows_are_numbered_and_the_page_text_is_kept_for_references() -> None:
    data = pdf_bytes(["Auftragsbestätigung AB-4711", "Ihre Bestellung P00004"], [HEADER, *ROWS])
    read = read_tables("AB-4711.pdf", "application/pdf", data)
    assert read.problems == []
    (table,) = read.tables
    assert table.where == "page 1"
    assert [r.number for r in table.rows] == [1, 2, 3]
    assert table.rows[1].cells == ["1", "FURN_8888", "Office Lamp", "6", "85,50", "04.12.2026"]
    assert "P00004" in table.context
    assert table.decimal_comma


def test_pdf_without_rules_is_read_by_text_alignment() -> None:
    rows = [["Item", "Qty", "Unit price"], ["FURN_8888", "6", "85.50"], ["E-COM07", "7", "800.00"]]
    data = pdf_bytes(["Order acknowledgement"], rows, borders=False)
    (table,) = read_tables("ack.pdf", "application/pdf", data).tables
    assert ["FURN_8888", "6", "85.50"] in [r.cells for r in table.rows]


def test_xlsx_keeps_numbers_and_dates_typed_and_never_evaluates_formulas() -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Item", "Qty", "Delivery date", "Total"])
    ws.append(["FURN_8888", 6, date(2026, 12, 4), "=B2*85.5"])
    hidden = book.create_sheet("secret")
    hidden.append(["Item", "Qty"])
    hidden.sheet_state = "hidden"
    raw = io.BytesIO()
    book.save(raw)
    (table,) = read_tables("schedule.xlsx", XLSX, raw.getvalue()).tables
    assert table.where == "sheet Sheet"
    assert table.rows[1].cells == ["FURN_8888", 6.0, date(2026, 12, 4)]  # no cached value: the formula is not run


def test_csv_dialect_and_decimal_comma_are_sniffed() -> None:
    data = csv_bytes([], [["Artikel", "Menge", "Preis"], ["FURN_8900", "15", "297,65"]], delimiter=";")
    (table,) = read_tables("lines.csv", "text/csv", data).tables
    assert table.rows[1].cells == ["FURN_8900", "15", "297,65"]
    assert table.decimal_comma
    comma = csv_bytes([], [["Item", "Qty", "Price"], ["FURN_8900", "15", "297.65"]])
    assert not read_tables("lines.csv", "text/csv", comma).tables[0].decimal_comma


def test_fixtures_are_byte_for_byte_deterministic() -> None:
    assert pdf_bytes(["x"], [HEADER, *ROWS]) == pdf_bytes(["x"], [HEADER, *ROWS])
    assert xlsx_bytes(["x"], [HEADER, *ROWS]) == xlsx_bytes(["x"], [HEADER, *ROWS])


# -- hostile files: a clear problem, quickly, never a hang or a crash -----------------------------------------
def test_xlsx_zip_bomb_is_refused_before_unpacking() -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 40_000_000 + b">")
    start = time.perf_counter()
    read = read_tables("bomb.xlsx", XLSX, raw.getvalue())
    assert time.perf_counter() - start < 2
    assert read.tables == []
    assert "ZIP bomb" in read.problems[0] and "bomb.xlsx" in read.problems[0]


def test_huge_sheet_is_cut_at_the_row_limit() -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("Lines")
    for i in range(MAX_TABLE_ROWS * 20):
        ws.append([f"FURN_{i}", i, "x" * 50])
    raw = io.BytesIO()
    book.save(raw)
    start = time.perf_counter()
    read = read_tables("huge.xlsx", XLSX, raw.getvalue())
    assert time.perf_counter() - start < 3
    assert len(read.tables[0].rows) == MAX_TABLE_ROWS
    assert "rest not read" in read.problems[0]


def _pdf_with_stream(content: bytes) -> bytes:
    """A minimal one-page PDF whose page content is ``content`` (FlateDecode)."""
    packed = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_pdf_compression_bomb_is_refused_before_pdfminer_decodes_it() -> None:
    data = _pdf_with_stream(b"0 0 m 1 1 l S\n" * 4_000_000)  # ~56 MB of drawing operators, ~60 KB packed
    start = time.perf_counter()
    read = read_tables("bomb.pdf", "application/pdf", data)
    assert time.perf_counter() - start < 5
    assert read.tables == []
    assert read.problems and "bomb.pdf" in read.problems[0] and "not read" in read.problems[0]


def test_garbage_is_a_problem_not_a_crash() -> None:
    for name, ctype in (("x.pdf", "application/pdf"), ("x.xlsx", XLSX)):
        read = read_tables(name, ctype, b"\x00garbage" * 100)
        assert read.tables == [] and read.problems == [] and "unreadable" in (read.unreadable or "")


def test_parse_email_carries_the_tables_and_reports_what_it_could_not_read() -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "Billy Fox <billy.fox45@example.com>", "Order confirmation"
    msg.set_content("Please see attached.")
    msg.add_attachment(xlsx_bytes([], [["Item", "Qty"], ["FURN_8888", 6]]), "application", XLSX[12:], filename="a.xlsx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b" " * 40_000_000)
    msg.add_attachment(bomb.getvalue(), "application", XLSX[12:], filename="bomb.xlsx")
    mail = parse_email(msg.as_bytes())
    first = mail.attachments[0]
    assert first.tables[0].rows[1].cells == ["FURN_8888", 6.0]
    assert "FURN_8888" in first.text  # the injection checks read a spreadsheet's cells too
    assert any("bomb.xlsx" in d and "ZIP bomb" in d for d in mail.defects)


def test_the_time_budget_of_an_email_stops_further_files() -> None:
    spent = Budget(seconds=0.0)
    time.sleep(0.01)
    data = csv_bytes([], [["Item", "Qty"], ["FURN_8888", "6"]])
    read = read_tables("late.csv", "text/csv", data, spent)
    assert read.tables == [] and "time budget" in read.problems[0]


def test_white_text_in_a_pdf_table_is_left_out_but_a_white_header_on_a_dark_band_is_kept() -> None:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    band = FontFace(color=(255, 255, 255), fill_color=(40, 40, 120))
    hidden = FontFace(color=(255, 255, 255))
    rows = [["Item", "Qty", "Unit price"], ["FURN_8888", "6", "85.50"], ["E-COM07", "7", "999.00"]]
    with pdf.table(first_row_as_headings=False) as out:
        for i, row in enumerate(rows):
            cells = out.row()
            for value in row:
                cells.cell(value, style=band if i == 0 else hidden if i == 2 else None)
    read = read_tables("ack.pdf", "application/pdf", bytes(pdf.output()))
    cells = [r.cells for r in read.tables[0].rows]
    assert cells[0] == ["Item", "Qty", "Unit price"]
    assert ["FURN_8888", "6", "85.50"] in cells
    assert not any("999" in str(c) for row in cells for c in row)
    assert "hidden characters" in read.problems[0]


def test_hostile_csv_is_read_in_bounded_time() -> None:
    for unit in (',"', ';" ', ',"a', '"' * 3 + ","):
        start = time.perf_counter()
        read_tables("x.csv", "text/csv", (unit * 400_000).encode())
        assert time.perf_counter() - start < 3, unit


def test_hidden_rows_and_columns_of_a_sheet_are_left_out() -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Item", "Qty", "Old price", "Price"])
    ws.append(["FURN_8888", 6, 70, 85.5])
    ws.append(["E-COM07", 7, 700, 999])
    ws.row_dimensions[3].hidden = True
    ws.column_dimensions["C"].hidden = True
    raw = io.BytesIO()
    book.save(raw)
    read = read_tables("lines.xlsx", XLSX, raw.getvalue())
    assert [r.cells for r in read.tables[0].rows] == [["Item", "Qty", "Price"], ["FURN_8888", 6.0, 85.5]]
    assert "1 hidden rows and 1 hidden columns left out" in read.problems[0]
