"""Attachments as facts: the rows of an order confirmation or delivery schedule, compared with the Odoo lines.

``copilot.email`` reads the tables (PDF, XLSX, CSV) into ``Attachment.tables``; here a header row is found by
its words in English, German, French, Spanish or Dutch (item, quantity, price, date, PO, shipped, backorder),
and each data row becomes what a buyer would note against the Odoo line it names: a new date, a short
quantity, a partial shipment, a price change, or nothing when the row agrees (then the PO is confirmed).
The evidence names the file and the row. Table cells are untrusted data, read like the body's sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from price_parser import Price

from copilot.email import InboundEmail
from copilot.email.message import Cell, Table, TableRow
from copilot.skills.supplier_email.compare import match_line
from copilot.skills.supplier_email.extract import Extraction
from copilot.skills.supplier_email.schemas import ChangeKind, Delta, DetectedChange, Money, Quantity
from copilot.skills.supplier_email.signals import find_po_refs, product_codes
from copilot.text.dates import find_dates
from copilot.text.units import convert, normalise_uom
from copilot.tools.schemas import PurchaseOrderLine, PurchaseOrderStatus

__all__ = [
    "Columns",
    "LineRow",
    "attachment_changes",
    "attachment_po_refs",
    "find_header",
    "merge_changes",
    "with_attachment_refs",
]

#: Rows searched for the header (a title block above the table comes first in a spreadsheet or PDF page).
MAX_HEADER_ROW = 20

# Header words per column role and language. A cell is read as lower-case words; the first role (in
# ``_ROLE_ORDER``) with a word in the cell wins, so "Unit price" is a price and "Qty ordered" the ordered quantity.
_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "total": {
        "en": ("total", "amount", "subtotal", "value"),
        "de": ("gesamt", "gesamtpreis", "betrag", "summe", "wert"),
        "fr": ("montant", "totale"),
        "es": ("importe",),
        "nl": ("totaal", "bedrag"),
    },
    "price": {
        "en": ("price", "rate"),
        "de": ("preis", "einzelpreis", "stückpreis", "ep"),
        "fr": ("prix", "pu"),
        "es": ("precio",),
        "nl": ("prijs", "stukprijs", "eenheidsprijs"),
    },
    "backorder": {
        "en": ("backorder", "backordered", "remaining", "outstanding", "open"),
        "de": ("rückstand", "restmenge", "offen", "nachlieferung"),
        "fr": ("reliquat", "restant", "restante"),
        "es": ("pendiente", "pendientes"),
        "nl": ("nalevering", "openstaand", "resterend"),
    },
    "shipped": {
        "en": ("shipped", "dispatched", "sent", "delivered"),
        "de": ("versandt", "geliefert", "verschickt", "versendet"),
        "fr": ("expédié", "expédiée", "expédiés", "expédiées", "livré", "livrée", "livrés"),
        "es": ("enviado", "enviada", "enviados", "enviadas", "despachado", "despachada", "servido", "servida"),
        "nl": ("verzonden", "geleverd", "verstuurd"),
    },
    "ordered": {
        "en": ("ordered",),
        "de": ("bestellt", "bestellmenge", "bestellte"),
        "fr": ("commandé", "commandée", "commandés", "commandées"),
        "es": ("pedida", "pedidas"),
        "nl": ("besteld", "bestelde"),
    },
    "date": {
        "en": ("date", "eta", "etd", "delivery", "ship", "due"),
        "de": ("datum", "termin", "liefertermin", "lieferdatum", "versanddatum", "lieferwoche", "kw"),
        "fr": ("date", "livraison"),
        "es": ("fecha", "entrega"),
        "nl": ("datum", "leverdatum", "leveringsdatum", "leverdag", "levering"),
    },
    "qty": {
        "en": ("qty", "quantity", "confirmed", "pcs"),
        "de": ("menge", "anzahl", "stück", "bestätigt", "bestätigte"),
        "fr": ("quantité", "qté", "qte", "confirmée", "confirmé"),
        "es": ("cantidad", "cant", "uds", "confirmada", "confirmado"),
        "nl": ("aantal", "hoeveelheid", "bevestigd", "bevestigde"),
    },
    "unit": {
        "en": ("unit", "uom"),
        "de": ("einheit", "me"),
        "fr": ("unité",),
        "es": ("unidad",),
        "nl": ("eenheid",),
    },
    "po": {
        "en": ("po", "purchase"),
        "de": ("bestellung", "bestellnummer", "bestellnr"),
        "fr": ("commande",),
        "es": ("pedido", "orden"),
        "nl": ("bestelling", "inkooporder", "bestelnummer", "ordernummer"),
    },
    "description": {
        "en": ("description", "product", "name"),
        "de": ("bezeichnung", "beschreibung", "produkt", "artikelbezeichnung"),
        "fr": ("désignation", "designation", "description", "produit", "libellé"),
        "es": ("descripción", "descripcion", "producto", "denominación"),
        "nl": ("omschrijving", "product", "benaming"),
    },
    "code": {
        "en": ("item", "code", "sku", "part", "article", "ref", "reference"),
        "de": ("artikel", "artikelnr", "artikelnummer", "art", "material", "materialnummer"),
        "fr": ("référence", "réf", "article", "code"),
        "es": ("artículo", "articulo", "código", "codigo", "referencia", "ref"),
        "nl": ("artikel", "artikelnummer", "artikelcode", "code"),
    },
}
_ROLE_ORDER = tuple(_WORDS)
#: header word -> [(role, language)]
_LOOKUP: dict[str, list[tuple[str, str]]] = {
    word: [(role, language) for role, by in _WORDS.items() for language, words in by.items() if word in words]
    for by_language in _WORDS.values()
    for words in by_language.values()
    for word in words
}
_QTY_WORDS = {w for words in _WORDS["qty"].values() for w in words}
_WORD = re.compile(r"[^\W_]+")
_NUMERIC_DATE = re.compile(r"\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
# a product code written alone in a cell ("FURN_8888", "E-COM07", "AB12"); atomic runs, tried only where a word starts
_CODE_CELL = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z0-9]*+(?:[_\-./][A-Za-z0-9]++)++|[A-Za-z]++\d[A-Za-z0-9]*+)"
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _cell_role(text: str) -> tuple[str | None, set[str]]:
    """The role of a header cell and the languages its words belong to."""
    words = _words(text)
    if not words:
        return None, set()
    roles: dict[str, set[str]] = {}
    for word in words:
        for role, language in _LOOKUP.get(word, ()):
            roles.setdefault(role, set()).add(language)
    if "order" in words and roles.keys() & {"qty"}:  # "Order qty"
        roles.setdefault("ordered", set()).add("en")
    if "pedido" in words and roles.keys() & {"qty"}:  # "Cantidad pedido"
        roles.setdefault("ordered", set()).add("es")
    if roles.keys() & {"po"} and set(words) & _QTY_WORDS:
        roles.pop("po")
    if "date" in roles and roles.keys() & {"backorder", "shipped"}:  # "Backorder ETA", "Shipped date"
        return "date", roles["date"]
    for role in _ROLE_ORDER:
        if role in roles:
            return role, roles[role]
    return None, set()


@dataclass(frozen=True)
class Columns:
    """Which column holds what, found from a header row, and the language its words are in."""

    header_index: int
    roles: dict[str, int]
    language: str

    def get(self, row: TableRow, role: str) -> Cell:
        """The cell of ``role`` in ``row`` (None when the column or cell is missing)."""
        index = self.roles.get(role)
        return row.cells[index] if index is not None and index < len(row.cells) else None


def find_header(table: Table, default_language: str = "en") -> Columns | None:
    """The header row of ``table``: the first row naming a product column and a quantity, price or date column."""
    for index, row in enumerate(table.rows[:MAX_HEADER_ROW]):
        roles: dict[str, int] = {}
        votes: dict[str, int] = {}
        for position, cell in enumerate(row.cells):
            if not isinstance(cell, str) or len(cell) > 60:
                continue
            role, languages = _cell_role(cell)
            if role is None or role in roles:
                continue
            roles[role] = position
            for language in languages:
                votes[language] = votes.get(language, 0) + (3 if len(languages) == 1 else 1)
        if roles.keys() & {"code", "description"} and roles.keys() & {"qty", "ordered", "shipped", "price", "date"}:
            language = max(sorted(votes), key=lambda k: votes[k]) if votes else default_language
            if votes.get(default_language) == votes.get(language):
                language = default_language
            return Columns(header_index=index, roles=roles, language=language)
    return None


# -- cells -------------------------------------------------------------------------------------------------
def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:g}"
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def _number(cell: Cell, decimal_comma: bool) -> float | None:
    if isinstance(cell, float):
        return cell
    if not isinstance(cell, str) or not cell.strip():
        return None
    amount = Price.fromstring(cell, decimal_separator="," if decimal_comma else ".").amount
    return float(amount) if amount is not None else None


def _date(cell: Cell, reference: date, language: str) -> tuple[date, date | None] | None:
    if isinstance(cell, datetime):
        return cell.date(), None
    if isinstance(cell, date):
        return cell, None
    if not isinstance(cell, str) or not cell.strip():
        return None
    found = find_dates(cell, reference, language)
    if found:
        first = found[0]
        return first.value, (first.latest if first.is_range else None)
    return _numeric_date(cell, language)


def _numeric_date(cell: str, language: str) -> tuple[date, date | None] | None:
    """A whole cell that is one numeric date in the table's order ("27-11-2026" in Dutch), read by dateparser."""
    text = cell.strip()
    if len(text) > 12 or not _NUMERIC_DATE.fullmatch(text):
        return None
    import dateparser

    order = "MDY" if language == "en" else "DMY"
    parsed = dateparser.parse(text, settings={"DATE_ORDER": order, "STRICT_PARSING": True})
    return (parsed.date(), None) if parsed else None


def _uom(row: TableRow, columns: Columns) -> str | None:
    unit = columns.get(row, "unit")
    if isinstance(unit, str):
        return normalise_uom(unit)
    qty = columns.get(row, "qty") or columns.get(row, "ordered")
    if isinstance(qty, str):
        words = _words(qty)
        return normalise_uom(words[-1]) if words else None
    return None


@dataclass(frozen=True)
class LineRow:
    """One data row of a table, as read: where it is, the product it names, and its values."""

    filename: str
    where: str
    row: TableRow
    po_cell: str
    code: str | None
    product_text: str
    quantity: float | None
    ordered: float | None
    shipped: float | None
    backorder: float | None
    uom: str | None
    price: float | None  # in the order's currency (a confirmation quotes the PO's)
    when: tuple[date, date | None] | None

    @property
    def evidence(self) -> str:
        """``confirmation.pdf, page 1, row 3: FURN_9001 | Flipover | 5 | 1,690.00 | 12/04/2026``."""
        cells = " | ".join(_text(c) for c in self.row.cells if c is not None)
        place = ", ".join(x for x in (self.filename, self.where, f"row {self.row.number}") if x)
        return f"{place}: {cells}"[:400]


def _with_date_column(table: Table, columns: Columns, reference: date) -> Columns:
    """``columns`` plus a date column found by its values when the header did not name one (a header cut by a
    PDF's text alignment, "New delive")."""
    if "date" in columns.roles:
        return columns
    data = table.rows[columns.header_index + 1 :]
    taken = set(columns.roles.values())
    width = max((len(r.cells) for r in data), default=0)
    for index in range(width):
        values = [r.cells[index] for r in data if index < len(r.cells) and r.cells[index] is not None]
        if index in taken or not values:
            continue
        if all(_date(v, reference, columns.language) is not None for v in values):
            return Columns(columns.header_index, {**columns.roles, "date": index}, columns.language)
    return columns


def _line_rows(mail: InboundEmail, default_language: str, reference: date) -> Iterator[tuple[Table, LineRow]]:
    for attachment in mail.attachments:
        for table in attachment.tables:
            columns = find_header(table, default_language)
            if columns is None:
                continue
            columns = _with_date_column(table, columns, reference)
            for row in table.rows[columns.header_index + 1 :]:
                yield table, _line_row(attachment.name or "attachment", table, columns, row, reference)


def _line_row(filename: str, table: Table, columns: Columns, row: TableRow, reference: date) -> LineRow:
    comma = table.decimal_comma
    code_cell = _text(columns.get(row, "code")).strip()
    description = _text(columns.get(row, "description")).strip()
    codes = product_codes(f"{code_cell} {description}")
    code = codes[0] if codes else (code_cell if _CODE_CELL.fullmatch(code_cell) else None)
    price_cell = columns.get(row, "price")
    return LineRow(
        filename=filename,
        where=table.where,
        row=row,
        po_cell=_text(columns.get(row, "po")),
        code=code,
        product_text=" ".join(x for x in (code_cell, description) if x),
        quantity=_number(columns.get(row, "qty"), comma),
        ordered=_number(columns.get(row, "ordered"), comma),
        shipped=_number(columns.get(row, "shipped"), comma),
        backorder=_number(columns.get(row, "backorder"), comma),
        uom=_uom(row, columns),
        price=_number(price_cell, comma),
        when=_date(columns.get(row, "date"), reference, columns.language),
    )


def _table_refs(mail: InboundEmail, table: Table, columns: Columns | None, names: Sequence[str]) -> list[str]:
    """The POs a table is about when its rows do not say: in the file name, the text around it, its title rows."""
    name = next((a.name or "" for a in mail.attachments if table in a.tables), "")
    title = [_text(c) for row in table.rows[: columns.header_index if columns else MAX_HEADER_ROW] for c in row.cells]
    text = " ".join([name, table.context, *title]).upper()
    return [n for n in names if n.upper() in text]


def attachment_po_refs(mail: InboundEmail, pattern: re.Pattern[str]) -> list[str]:
    """PO references of the attachments holding a table of order lines: file name, title rows, text around the
    table, PO column."""
    texts: list[str] = []
    for attachment in mail.attachments:
        if not any(find_header(t) for t in attachment.tables):
            continue
        texts.append(attachment.name or "")
        for table in attachment.tables:
            columns = find_header(table)
            if columns is None:  # not a table of order lines (an invoice, a letter): its references are not read
                continue
            texts.append(table.context)
            texts.extend(_text(c) for row in table.rows[: columns.header_index] for c in row.cells)
            if "po" in columns.roles:
                texts.extend(_text(columns.get(row, "po")) for row in table.rows[columns.header_index + 1 :])
    return find_po_refs("\n".join(texts), pattern)


# -- comparison with Odoo ------------------------------------------------------------------------------------
def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _planned(order: PurchaseOrderStatus, line: PurchaseOrderLine) -> date | None:
    return _day(line.date_planned) or _day(order.date_planned)


def _in_line_uom(value: float | None, uom: str | None, line: PurchaseOrderLine) -> float | None:
    if value is None or uom is None:
        return value
    return convert(value, uom, line.uom)


def _price_in_line_uom(value: float | None, uom: str | None, line: PurchaseOrderLine) -> float | None:
    if value is None or uom is None:
        return value
    factor = convert(1.0, uom, line.uom)
    return value / factor if factor else None


def _qty(value: float, line: PurchaseOrderLine) -> Quantity:
    return Quantity(value=value, uom=line.uom)


def _base(r: LineRow, order: PurchaseOrderStatus, line: PurchaseOrderLine, **values: object) -> DetectedChange:
    data: dict[str, object] = {
        "po_name": order.name,
        "product_code": line.product_code or r.code,
        "product": line.product,
        "line_id": line.id,
        "evidence": r.evidence,
        "matched_in_odoo": True,
    }
    data.update(values)
    return DetectedChange.model_validate(data)


def _row_changes(r: LineRow, order: PurchaseOrderStatus, line: PurchaseOrderLine) -> list[DetectedChange]:
    out: list[DetectedChange] = []
    planned = _planned(order, line)
    name = line.product.name if line.product else line.description
    ordered = line.quantity
    shipped = _in_line_uom(r.shipped, r.uom, line)
    confirmed = _in_line_uom(r.quantity, r.uom, line)
    new, latest = r.when if r.when else (None, None)
    date_handled = False
    if shipped is not None and shipped < ordered - line.quantity_received - 1e-9:
        backorder = _in_line_uom(r.backorder, r.uom, line)
        backorder = backorder if backorder is not None else ordered - line.quantity_received - shipped
        note = f"{_qty(shipped, line).label()} of {_qty(ordered, line).label()} {name} shipped"
        note += f"; {_qty(backorder, line).label()} on backorder" + (f", to ship {new.isoformat()}" if new else "")
        out.append(
            _base(
                r,
                order,
                line,
                kind=ChangeKind.PARTIAL_SHIPMENT,
                email_value=_qty(shipped, line).label(),
                odoo_value=_qty(ordered, line).label(),
                email_quantity=_qty(shipped, line),
                odoo_quantity=_qty(ordered, line),
                backorder_quantity=_qty(backorder, line),
                email_date=new,
                odoo_date=planned if new else None,
                delta=Delta(quantity=shipped - ordered, days=(new - planned).days if new and planned else None),
                note=note,
            )
        )
        date_handled = True
    elif confirmed is not None and confirmed < ordered - 1e-9 and shipped is None:
        short = ordered - confirmed
        out.append(
            _base(
                r,
                order,
                line,
                kind=ChangeKind.SHORT_QUANTITY,
                email_value=_qty(confirmed, line).label(),
                odoo_value=_qty(ordered, line).label(),
                email_quantity=_qty(confirmed, line),
                odoo_quantity=_qty(ordered, line),
                delta=Delta(quantity=confirmed - ordered),
                consistent_with_odoo=None if r.ordered is None else abs(r.ordered - ordered) < 1e-6,
                note=f"confirms only {_qty(confirmed, line).label()} of the {_qty(ordered, line).label()} {name} "
                f"ordered: {_qty(short, line).label()} short",
            )
        )
    if new is not None and not date_handled and (planned is None or new != planned or latest is not None):
        days = (new - planned).days if planned else None
        shown = f"{new.isoformat()} to {latest.isoformat()}" if latest else new.isoformat()
        timing = f": {abs(days)} day{'s' if abs(days) != 1 else ''} {'late' if days > 0 else 'early'}" if days else ""
        out.append(
            _base(
                r,
                order,
                line,
                kind=ChangeKind.NEW_DATE,
                email_value=shown,
                odoo_value=planned.isoformat() if planned else None,
                email_date=new,
                email_date_latest=latest,
                odoo_date=planned,
                delta=Delta(days=days) if days is not None else None,
                note=f"new date {shown} for {name}, Odoo expects {planned.isoformat() if planned else 'no date'}"
                + timing,
            )
        )
    price = _price_in_line_uom(r.price, r.uom, line)
    if price is not None and abs(price - line.price_unit) > 0.005:
        diff = price - line.price_unit
        percent = round(diff / line.price_unit * 100, 1) if line.price_unit else None
        email_price = Money(amount=round(price, 4), currency=order.currency, per=line.uom)
        odoo_price = Money(amount=line.price_unit, currency=order.currency, per=line.uom)
        out.append(
            _base(
                r,
                order,
                line,
                kind=ChangeKind.PRICE_CHANGE,
                email_value=email_price.label(),
                odoo_value=odoo_price.label(),
                email_price=email_price,
                odoo_price=odoo_price,
                delta=Delta(price=round(diff, 4), percent=percent),
                note=f"price of {name}: {email_price.label()} instead of {odoo_price.label()} in Odoo",
            )
        )
    return out


def _order_of(
    r: LineRow, orders: Sequence[PurchaseOrderStatus], table_refs: list[str], email_refs: list[str]
) -> Iterator[PurchaseOrderStatus]:
    """The PO a row is about: its PO cell, else the one PO of its table or email, else the one order with its line."""
    by_name = {o.name.upper(): o for o in orders}
    named = [by_name[n] for n in by_name if n in r.po_cell.upper()]
    if named:
        yield from named[:1]
        return
    for refs in (table_refs, email_refs):
        if len(refs) == 1 and refs[0].upper() in by_name:
            yield by_name[refs[0].upper()]
            return
    candidates = [by_name[n.upper()] for n in (table_refs or email_refs) if n.upper() in by_name] or list(orders)
    having = [o for o in candidates if _line_of(o, r) is not None]
    if len(having) == 1:
        yield having[0]


def _line_of(order: PurchaseOrderStatus, r: LineRow) -> PurchaseOrderLine | None:
    line = match_line(order, r.code, None) if r.code else None
    return line or (match_line(order, None, r.product_text, unique=True) if r.product_text else None)


def _line_at_position(order: PurchaseOrderStatus, r: LineRow, items: list[LineRow]) -> PurchaseOrderLine | None:
    """The order's line at the row's place, when the table lists exactly as many items as the order has lines and
    the row has no product code to go by (a supplier's own article names, in the order of the PO)."""
    position = next((i for i, item in enumerate(items) if item is r), None)
    if r.code or position is None or len(items) != len(order.lines):
        return None
    return order.lines[position]


def _positional(note: str) -> str:
    return "; ".join(x for x in (note, "line matched by its position in the table") if x)


@dataclass
class _Confirmed:
    place: str
    rows: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    planned: date | None = None


def attachment_changes(
    mail: InboundEmail, orders: Sequence[PurchaseOrderStatus], *, email_refs: Sequence[str] = (), language: str = "en"
) -> list[DetectedChange]:
    """Per-line changes the attachments' tables state against Odoo's POs; a PO whose rows all agree is confirmed."""
    reference = (mail.date or datetime.now(UTC)).date()
    changes: list[DetectedChange] = []
    agreeing: dict[str, _Confirmed] = {}
    deviating: set[str] = set()
    names = [o.name for o in orders]
    refs_cache: dict[int, list[str]] = {}
    rows = list(_line_rows(mail, language, reference))
    items: dict[int, list[LineRow]] = {}  # per table, the rows with a quantity: the item rows, in order
    for table, r in rows:
        if r.quantity is not None:
            items.setdefault(id(table), []).append(r)
    for table, r in rows:
        key = id(table)
        if key not in refs_cache:
            refs_cache[key] = _table_refs(mail, table, find_header(table, language), names)
        for order in _order_of(r, orders, refs_cache[key], list(email_refs)):
            line = _line_of(order, r)
            by_position = line is None and (line := _line_at_position(order, r, items.get(key, []))) is not None
            if line is None:
                continue
            found = _row_changes(r, order, line)
            if by_position:
                found = [c.model_copy(update={"note": _positional(c.note)}) for c in found]
            if found:
                changes.extend(found)
                deviating.add(order.name)
                continue
            place = ", ".join(x for x in (r.filename, r.where) if x)
            entry = agreeing.setdefault(order.name, _Confirmed(place=place, planned=_planned(order, line)))
            entry.rows.append(r.row.number)
            if r.when:
                entry.dates.append(r.when[0])
    for po, entry in agreeing.items():
        if po in deviating:
            continue
        order = next(o for o in orders if o.name == po)
        day = max(entry.dates) if entry.dates else None
        rows = f"rows {min(entry.rows)}-{max(entry.rows)}" if len(entry.rows) > 1 else f"row {entry.rows[0]}"
        changes.append(
            DetectedChange(
                kind=ChangeKind.CONFIRMATION,
                po_name=po,
                email_value="confirmed",
                odoo_value=f"{order.state}, expected {entry.planned.isoformat()}" if entry.planned else order.state,
                email_date=day,
                odoo_date=entry.planned,
                evidence=f"{entry.place}, {rows}: every line as in Odoo",
                matched_in_odoo=True,
                note="order confirmed line by line in the attachment" + (f"; date {day.isoformat()}" if day else ""),
            )
        )
    return changes


def _same_price(a: Money | None, b: Money | None) -> bool:
    return a is None or b is None or abs(a.amount - b.amount) < 5e-3


def merge_changes(body: list[DetectedChange], table: list[DetectedChange]) -> list[DetectedChange]:
    """The body's changes and the attachments', without repeats.

    The attachment is the detailed statement: a body confirmation of a PO the attachment covers gives way to
    it (an acknowledgement with a changed line is no plain confirmation); an attachment change the body
    already states (same PO, kind, line and value) is dropped.
    """
    covered = {c.po_name for c in table}
    kept = [c for c in body if not (c.kind is ChangeKind.CONFIRMATION and c.po_name in covered)]

    def repeated(t: DetectedChange) -> bool:
        return any(
            b.po_name == t.po_name
            and b.kind is t.kind
            and b.line_id in (None, t.line_id)
            and b.email_date == t.email_date
            and (b.email_quantity.value if b.email_quantity else None)
            == (t.email_quantity.value if t.email_quantity else None)
            and _same_price(b.email_price, t.email_price)
            for b in kept
        )

    return kept + [t for t in table if not repeated(t)]


def with_attachment_refs(extraction: Extraction, refs: Sequence[str]) -> Extraction:
    """``extraction`` with the attachments' PO references added: an attachment is part of the new message."""
    if not refs:
        return extraction
    body = extraction.po_refs if extraction.po_refs_source == "body" else []
    merged = list(dict.fromkeys([*body, *refs]))
    return extraction.model_copy(update={"po_refs": merged, "po_refs_source": "body"})
