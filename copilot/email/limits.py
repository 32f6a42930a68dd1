"""How much of an email is read: bounds that keep parsing linear and memory small."""

from __future__ import annotations

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

#: Attachments read as tables (order confirmations, delivery schedules as PDF, XLSX or CSV): at most this many
#: per email, each bounded in size, rows, columns, cell length and time. Beyond a bound, a defect says what
#: was not read; nothing hangs and nothing grows without limit.
MAX_TABLE_ATTACHMENTS = 5
MAX_TABLE_ROWS = 500
MAX_TABLE_COLUMNS = 30
MAX_TABLE_CELL_CHARS = 200
#: Wall-clock budget for all of one email's tables; checked between pages and sheets.
MAX_TABLE_SECONDS = 5.0
#: PDF pages read for tables; decoded content of one page; decoded streams of the whole file; drawing
#: objects (characters, lines, rectangles) on a page before pdfplumber's table finder runs.
MAX_TABLE_PDF_PAGES = 5
MAX_PDF_PAGE_CONTENT_BYTES = 1_000_000
MAX_PDF_DECODED_BYTES = 50_000_000
MAX_PDF_STREAMS = 5_000
MAX_PDF_PAGE_OBJECTS = 20_000
#: XLSX: packed size, unpacked size of all ZIP members (a ZIP bomb stops here), members, sheets read.
MAX_XLSX_BYTES = 5_000_000
MAX_XLSX_UNPACKED_BYTES = 30_000_000
MAX_XLSX_MEMBERS = 500
MAX_XLSX_SHEETS = 5
#: CSV read at most this many bytes.
MAX_CSV_BYTES = 1_000_000
