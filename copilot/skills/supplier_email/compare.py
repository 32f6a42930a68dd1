"""Compare what the email announces with what Odoo holds: dates, quantities and prices per PO line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from copilot.citations import Ref
from copilot.skills.supplier_email.extract import Candidate, Extraction
from copilot.skills.supplier_email.schemas import ChangeKind, Delta, DetectedChange, Money, Quantity
from copilot.text.references import product_code
from copilot.text.values import convert
from copilot.tools.schemas import PurchaseOrderLine, PurchaseOrderStatus

__all__ = ["Comparison", "compare", "match_line"]

_EMAIL_LEVEL = (ChangeKind.QUESTION,)


@dataclass
class Comparison:
    """Changes checked against Odoo, and statements of the email that Odoo contradicts."""

    changes: list[DetectedChange] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _line_name(line: PurchaseOrderLine) -> str:
    name = line.product.name if line.product else line.description
    return re.sub(r"^\[[^\]]*\]\s*", "", name or "")


def _tokens(text: str) -> set[str]:
    return {w[:-2] if w.endswith("es") and len(w) > 5 else w.rstrip("s") for w in _norm(text).split() if len(w) >= 4}


def match_line(
    order: PurchaseOrderStatus | None, code: str | None, text: str | None, *, unique: bool = False
) -> PurchaseOrderLine | None:
    """The PO line a product code (``FURN_8900``) or product name (``Large Desks``, ``lamps``) refers to.

    By name: the line whose full name appears first in ``text`` (a longer name wins over one it
    contains); else the one line sharing a distinctive word with ``text``. With ``unique``, text naming
    several lines matches none.
    """
    if order is None:
        return None
    if code:
        wanted = code.casefold()
        return next((ln for ln in order.lines if (ln.product_code or "").casefold() == wanted), None)
    if not text:
        return None
    haystack = f" {_norm(text)} "
    found: list[tuple[int, PurchaseOrderLine, str]] = []
    for line in order.lines:
        name = _norm(_line_name(line))
        hit = re.search(rf"\b{re.escape(name)}(?:s|es)?\b", haystack) if name else None
        if hit:
            found.append((hit.start(), line, name))
    found = [f for f in found if not any(f[2] != g[2] and f[2] in g[2] for g in found)]
    words = _tokens(text)
    counts: dict[str, int] = {}
    for line in order.lines:
        for token in _tokens(_line_name(line)):
            counts[token] = counts.get(token, 0) + 1
    hits = [ln for ln in order.lines if any(counts[t] == 1 and t in words for t in _tokens(_line_name(ln)))]
    if found:
        # "the desk stands and the individual workplaces": one name in full, the other in part; both are named
        if unique and len({f[1].id for f in found} | {ln.id for ln in hits}) > 1:
            return None
        return min(found, key=lambda f: f[0])[1]
    if len(hits) == 1:
        return hits[0]
    return None if hits else _fuzzy_line(order, haystack)


#: Least ``rapidfuzz`` partial-ratio score for a misspelt product name ("Flipovr") to name a line.
FUZZY_MIN_SCORE = 85.0


def _fuzzy_line(order: PurchaseOrderStatus, haystack: str) -> PurchaseOrderLine | None:
    """The one line whose name the text spells closely (``rapidfuzz``), when no other line comes as close."""
    scored = sorted(
        (
            (fuzz.partial_ratio(name, haystack), line)
            for line in order.lines
            if len(name := _norm(_line_name(line))) >= 5
        ),
        key=lambda pair: -pair[0],
    )
    if not scored or scored[0][0] < FUZZY_MIN_SCORE:
        return None
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - 5:
        return None
    return scored[0][1]


def _day(value: object) -> date | None:
    return value.date() if hasattr(value, "date") and value is not None else None  # type: ignore[union-attr]


def _in_line_uom(q: Quantity | None, line: PurchaseOrderLine | None) -> float | None:
    if q is None:
        return None
    if line is None or q.uom is None:
        return q.value
    return convert(q.value, q.uom, line.uom)


def _price_in_line_uom(m: Money | None, line: PurchaseOrderLine | None) -> float | None:
    if m is None:
        return None
    if line is None or m.per is None:
        return m.amount
    factor = convert(1.0, m.per, line.uom)
    return m.amount / factor if factor else None


def _same(a: float | None, b: float | None, tolerance: float = 0.005) -> bool:
    return a is not None and b is not None and abs(a - b) <= tolerance


def _money(amount: float, currency: str | None, per: str | None = None) -> Money:
    return Money(amount=round(amount, 4), currency=currency or None, per=per or None)


def _days(n: int) -> str:
    return f"{abs(n)} day{'s' if abs(n) != 1 else ''}"


def _fmt_qty(value: float, uom: str | None) -> str:
    return Quantity(value=value, uom=uom).label()


def _product_label(line: PurchaseOrderLine | None, c: Candidate) -> str:
    if line is not None and line.product is not None:
        return line.product.name
    if c.product_code:
        return f"[{c.product_code}]"
    return c.product_text or "the order"


@dataclass
class _Ctx:
    c: Candidate
    po: str | None
    order: PurchaseOrderStatus | None
    line: PurchaseOrderLine | None
    email_level_ok: bool = False
    products: Sequence[Ref] = ()

    @property
    def matched(self) -> bool:
        """The PO (and the line, when the change is about one product) exists in Odoo."""
        if self.po is None and self.c.kind in _EMAIL_LEVEL:
            return self.email_level_ok
        wants_line = bool(self.c.product_code or self.c.product_text) and self.c.kind not in (
            ChangeKind.NEW_DATE,
            ChangeKind.QUESTION,
            ChangeKind.CONFIRMATION,
            ChangeKind.DELIVERED,
            ChangeKind.PAYMENT_HOLD,
            ChangeKind.DELAY_NO_DATE,
        )
        return self.order is not None and (self.line is not None or not wants_line)

    def base(self, **values: object) -> DetectedChange:
        """A change with the PO, line and evidence filled in, plus ``values``."""
        line = self.line
        data: dict[str, object] = {
            "kind": self.c.kind,
            "po_name": self.po,
            "product_code": (line.product_code if line else None) or self.c.product_code,
            "product": line.product if line else None,
            "line_id": line.id if line else None,
            "evidence": self.c.evidence,
            "matched_in_odoo": self.matched,
        }
        data.update(values)
        return DetectedChange.model_validate(data)


def _planned(ctx: _Ctx) -> date | None:
    if ctx.line is not None and ctx.line.date_planned is not None:
        return _day(ctx.line.date_planned)
    return _day(ctx.order.date_planned) if ctx.order else None


def _new_date(ctx: _Ctx, confirmed: dict[str | None, list[date]]) -> DetectedChange | None:
    c = ctx.c
    assert c.new_date is not None
    planned = _planned(ctx)
    latest = c.latest_date if c.latest_date and c.latest_date > c.new_date else None
    if planned is not None and ((c.new_date == planned and latest is None) or latest == planned):
        # the planned date itself, or a window that ends on it ("delivery window Nov 30 - Dec 1")
        confirmed.setdefault(ctx.po, []).append(planned)
        return None
    what = {"ship": "ship date", "delivery": "delivery date"}.get(c.date_role or "", "date")
    shown = f"{c.new_date.isoformat()} to {latest.isoformat()}" if latest else c.new_date.isoformat()
    consistent = None if c.old_date is None or planned is None else c.old_date == planned
    if planned is None:
        note = f"new {what} {shown}; Odoo has no expected date to compare"
        delta = None
    else:
        days = (c.new_date - planned).days
        delta = Delta(days=days)
        if c.date_role == "ship" and days > 0:
            timing = f"at least {_days(days)} late (shipping, then transit)"
        elif c.date_role == "ship":
            timing = f"ships {_days(days)} before that expected arrival"
        else:
            timing = f"{_days(days)} {'late' if days > 0 else 'early'}"
        if latest is not None and c.new_date <= planned <= latest:
            timing = "Odoo's date is inside the window"
        note = f"new {what} {shown}, Odoo expects arrival {planned.isoformat()}: {timing}"
    if c.cause:
        note += f"; cause: {c.cause}"
    alternatives = [text for po, text in c.alternatives if po in (None, ctx.po)]
    if alternatives:
        note += "; alternative offered: " + " / ".join(alternatives)
    return ctx.base(
        email_value=shown,
        odoo_value=planned.isoformat() if planned else None,
        email_date=c.new_date,
        email_date_latest=latest,
        odoo_date=planned,
        delta=delta,
        consistent_with_odoo=consistent,
        note=note,
    )


def _shipment(ctx: _Ctx) -> DetectedChange | None:
    c, line = ctx.c, ctx.line
    shipped = _in_line_uom(c.quantity, line)
    backorder = _in_line_uom(c.backorder, line)
    uom = line.uom if line else (c.quantity.uom if c.quantity else None)
    if line is None:
        note = "partial shipment announced" if c.kind is ChangeKind.PARTIAL_SHIPMENT else "short supply announced"
        if c.quantity:
            note += f": {c.quantity.label()}"
        if c.rest_cancelled:
            note += "; the rest is cancelled"
        return ctx.base(
            email_value=c.quantity.label() if c.quantity else None,
            email_quantity=c.quantity,
            backorder_quantity=c.backorder,
            email_date=c.backorder_date,
            note=note,
        )
    ordered = line.quantity
    if (
        c.kind is ChangeKind.PARTIAL_SHIPMENT
        and shipped is not None
        and shipped >= ordered - line.quantity_received - 1e-9
    ):
        return None  # shipped in full
    product = _product_label(line, c)
    consistent = None
    stated_backorder = backorder is not None
    if backorder is None and c.backorder_date and shipped is not None and not c.rest_cancelled:
        backorder = max(ordered - line.quantity_received - shipped, 0.0) or None  # "the remaining ... ship on Dec 8"
    if c.kind is ChangeKind.SHORT_QUANTITY:
        of = _in_line_uom(c.of_quantity, line)
        consistent = None if of is None else _same(of, ordered)
        short = ordered - (shipped or 0)
        note = (
            f"can supply only {_fmt_qty(shipped or 0, uom)} of the {_fmt_qty(ordered, uom)} {product} ordered: "
            f"{_fmt_qty(short, uom)} short"
        )
    else:
        if stated_backorder and backorder is not None and shipped is not None:
            consistent = _same(shipped + backorder, ordered)
        note = f"{_fmt_qty(shipped or 0, uom)} of {_fmt_qty(ordered, uom)} {product} shipped"
    cancelled = None
    if c.rest_cancelled:
        cancelled = max(ordered - line.quantity_received - (shipped or 0), 0.0)
        note += f"; {_fmt_qty(cancelled, uom)} cancelled (rest not backordered)"
    if backorder:
        offered = c.kind is ChangeKind.SHORT_QUANTITY  # a short-supply email offers the backorder as an option
        note += f"; {_fmt_qty(backorder, uom)} {'offered on backorder' if offered else 'on backorder'}"
    planned = _planned(ctx)
    delta_days = None
    if c.backorder_date:
        verb = "around" if c.kind is ChangeKind.SHORT_QUANTITY else "to ship"
        note += f", {verb} {c.backorder_date.isoformat()}"
        if planned:
            delta_days = (c.backorder_date - planned).days
            side = "after" if delta_days >= 0 else "before"
            note += f" ({_days(delta_days)} {side} the {planned.isoformat()} Odoo expects)"
    if consistent is False:
        note += f"; the email's quantities do not add up to the {_fmt_qty(ordered, uom)} in Odoo"
    return ctx.base(
        email_value=_fmt_qty(shipped, uom) if shipped is not None else None,
        odoo_value=_fmt_qty(ordered, uom),
        email_quantity=Quantity(value=shipped, uom=uom) if shipped is not None else None,
        odoo_quantity=Quantity(value=ordered, uom=uom),
        backorder_quantity=Quantity(value=backorder, uom=uom) if backorder is not None else None,
        cancelled_quantity=Quantity(value=cancelled, uom=uom) if cancelled is not None else None,
        email_date=c.backorder_date,
        odoo_date=planned if c.backorder_date else None,
        delta=Delta(quantity=(shipped - ordered) if shipped is not None else None, days=delta_days),
        consistent_with_odoo=consistent,
        note=note,
    )


def _price(ctx: _Ctx, currency: str | None) -> DetectedChange | None:
    c, line = ctx.c, ctx.line
    if c.kind is ChangeKind.SUBSTITUTION and c.price is None:
        return _substitution(ctx, None, currency)
    if c.percent is not None and c.price is None:
        return _percent(ctx, currency)
    if line is not None and c.price is not None and c.old_price is not None and _means_line_unit(c, line):
        c = c.model_copy(
            update={
                "price": c.price.model_copy(update={"per": line.uom}),
                "old_price": c.old_price.model_copy(update={"per": line.uom}),
            }
        )
        ctx = _Ctx(c, ctx.po, ctx.order, line, ctx.email_level_ok, ctx.products)
    new = _price_in_line_uom(c.price, line)
    if line is None or new is None:
        label = c.price.label() if c.price else "a new price"
        if c.price is None:
            return None
        return ctx.base(
            email_value=label, email_price=c.price, note=f"price change to {label} announced; no matching line in Odoo"
        )
    odoo = line.price_unit
    old = _price_in_line_uom(c.old_price, line)
    substitution = c.kind is ChangeKind.SUBSTITUTION
    if not substitution and _same(new, odoo):
        return None  # the price is the one Odoo holds
    diff = new - odoo
    percent = round(diff / odoo * 100, 1) if odoo else None
    email_price = _money(new, c.price.currency if c.price else currency, line.uom)
    odoo_price = _money(odoo, currency, line.uom)
    consistent = None if old is None else _same(old, odoo)
    sign = "+" if diff >= 0 else "-"
    change = f"{email_price.label()} instead of {odoo_price.label()} in Odoo ({sign}{abs(diff):,.2f}" + (
        f", {sign}{abs(percent)}%)" if percent is not None else ")"
    )
    if substitution:
        return _substitution(ctx, change, currency, email_price=email_price, odoo_price=odoo_price, diff=diff)
    elif c.line_statement:
        note = f"the email states {change} for {_product_label(line, c)}"
    else:
        note = f"price of {_product_label(line, c)}: {change}"
    if consistent is False:
        note += f"; the email says the current price is {_money(old or 0, currency, line.uom).label()}, Odoo disagrees"
    return ctx.base(
        kind=ChangeKind.PRICE_CHANGE if c.line_statement else c.kind,
        email_value=email_price.label(),
        odoo_value=odoo_price.label(),
        email_price=email_price,
        odoo_price=odoo_price,
        substitute_code=c.substitute_code,
        substitute_name=c.substitute_text if substitution else None,
        delta=Delta(price=round(diff, 4), percent=percent),
        consistent_with_odoo=consistent,
        note=note,
    )


def _means_line_unit(c: Candidate, line: PurchaseOrderLine) -> bool:
    """ "From 250.50 to 275.00 per unit" on a line bought by the dozen at 250.50: the unit is the line's."""
    assert c.price is not None and c.old_price is not None
    return (
        c.price.per == "Units"
        and line.uom != "Units"
        and c.old_price.currency in (None, c.price.currency)
        and _same(c.old_price.amount, line.price_unit)
    )


def _substitute_product(ctx: _Ctx) -> Ref | None:
    """The Odoo product the supplier offers instead: by its code, else by its name (never the line's own)."""
    c = ctx.c
    own = ctx.line.product.id if ctx.line is not None and ctx.line.product is not None else None
    if c.substitute_code:
        wanted = f"[{c.substitute_code}]".casefold()
        return next((p for p in ctx.products if p.name.casefold().startswith(wanted) and p.id != own), None)
    if not c.substitute_text:
        return None
    name = _norm(c.substitute_text)
    exact = [p for p in ctx.products if p.id != own and _norm(re.sub(r"^\[[^\]]*\]\s*", "", p.name)) == name]
    return exact[0] if len(exact) == 1 else None


def _substitution(
    ctx: _Ctx,
    change: str | None,
    currency: str | None,
    *,
    email_price: Money | None = None,
    odoo_price: Money | None = None,
    diff: float | None = None,
) -> DetectedChange:
    """A product replaced by another: the substitute as written and, when Odoo has it, as an Odoo product."""
    c, line = ctx.c, ctx.line
    substitute = _substitute_product(ctx)
    written = " ".join(x for x in (f"[{c.substitute_code}]" if c.substitute_code else None, c.substitute_text) if x)
    sub = substitute.name if substitute else (written or "another product")
    note = f"{_product_label(line, c)} is {c.cause or 'unavailable'}; the supplier proposes {sub}"
    if change:
        note += f" at {change}"
    if line is not None:
        note += f" for {_fmt_qty(line.quantity, line.uom)}"
    if substitute is None and (c.substitute_code or c.substitute_text):
        note += "; no such product in Odoo"
    percent = (
        round(diff / odoo_price.amount * 100, 1) if diff is not None and odoo_price and odoo_price.amount else None
    )
    return ctx.base(
        email_value=sub,
        odoo_value=_product_label(line, c) if line is not None else None,
        email_price=email_price,
        odoo_price=odoo_price,
        substitute_code=c.substitute_code or (product_code(substitute.name) if substitute else None),
        substitute_name=c.substitute_text,
        substitute=substitute,
        delta=Delta(price=round(diff, 4), percent=percent) if diff is not None else None,
        note=note,
    )


def _percent(ctx: _Ctx, currency: str | None) -> DetectedChange:
    c, line = ctx.c, ctx.line
    assert c.percent is not None
    when = f" ({c.cause})" if c.cause else ""
    if line is None:
        return ctx.base(
            email_value=f"{c.percent:+g}%",
            delta=Delta(percent=c.percent),
            note=f"prices change by {c.percent:+g}%{when}; no single line named",
        )
    odoo = line.price_unit
    new = round(odoo * (1 + c.percent / 100), 2)
    email_price = _money(new, currency, line.uom)
    odoo_price = _money(odoo, currency, line.uom)
    note = f"price of {_product_label(line, c)} changes by {c.percent:+g}%{when}: about {email_price.label()} "
    note += f"instead of {odoo_price.label()} in Odoo"
    return ctx.base(
        email_value=f"{c.percent:+g}%",
        odoo_value=odoo_price.label(),
        email_price=email_price,
        odoo_price=odoo_price,
        delta=Delta(price=round(new - odoo, 4), percent=c.percent),
        note=note,
    )


def _line_statement(ctx: _Ctx, currency: str | None) -> DetectedChange | None:
    c, line = ctx.c, ctx.line
    if line is None:
        return None
    if c.price is not None:
        change = _price(ctx, currency)
        if change is not None:
            return change
    qty = _in_line_uom(c.quantity, line)
    if qty is None or _same(qty, line.quantity, 1e-6):
        return None
    kind = ChangeKind.SHORT_QUANTITY if qty < line.quantity else ChangeKind.OTHER
    return ctx.base(
        kind=kind,
        email_value=_fmt_qty(qty, line.uom),
        odoo_value=_fmt_qty(line.quantity, line.uom),
        email_quantity=Quantity(value=qty, uom=line.uom),
        odoo_quantity=Quantity(value=line.quantity, uom=line.uom),
        delta=Delta(quantity=qty - line.quantity),
        note=(
            f"the email states {_fmt_qty(qty, line.uom)} {_product_label(line, c)}, "
            f"Odoo has {_fmt_qty(line.quantity, line.uom)}"
        ),
    )


def _po_level(ctx: _Ctx, confirmed: dict[str | None, list[date]], currency: str | None) -> DetectedChange:
    c, order = ctx.c, ctx.order
    planned = _planned(ctx)
    if c.kind is ChangeKind.DELAY_NO_DATE:
        note = "deliveries suspended with no new date"
        if c.cause:
            note += f" ({c.cause})"
        if planned:
            note += f"; Odoo expects arrival {planned.isoformat()}"
        return ctx.base(
            email_value="no date", odoo_value=planned.isoformat() if planned else None, odoo_date=planned, note=note
        )
    if c.kind is ChangeKind.PAYMENT_HOLD:
        total = order.amount_total if order else None
        consistent = None if c.price is None or total is None else _same(c.price.amount, total, 0.01)
        note = "supplier holds the order until paid in advance"
        if c.price:
            note += f" ({c.price.label()}"
            note += f", Odoo total {_money(total, currency).label()})" if total is not None else ")"
        if c.cause and c.cause.startswith("credit limit"):
            note += f"; {c.cause}"
        return ctx.base(
            email_value=c.price.label() if c.price else "payment in advance",
            odoo_value=_money(total, currency).label() if total is not None else None,
            email_price=c.price,
            odoo_price=_money(total, currency) if total is not None else None,
            consistent_with_odoo=consistent,
            note=note,
        )
    if c.kind is ChangeKind.DELIVERED:
        status = order.receipt_status if order else None
        consistent = None if order is None else status == "full"
        if status == "full":
            done = _day(order.effective_date) if order else None
            note = "Odoo shows the goods received in full" + (f" on {done.isoformat()}" if done else "")
        else:
            note = f"Odoo's receipt status is {status or 'unknown'}: check and validate the receipt"
        return ctx.base(
            email_value="delivered",
            odoo_value=f"receipt {status}" if status else None,
            consistent_with_odoo=consistent,
            note=note,
        )
    if c.kind is ChangeKind.CONFIRMATION:
        dates = confirmed.get(ctx.po) or confirmed.get(None) or []
        if not dates and c.new_date is not None and c.new_date == planned:  # "bestätigt | 29.11.2026"
            dates = [c.new_date]
        note = "order confirmed"
        if dates and planned:
            note += f"; date {dates[0].isoformat()} matches Odoo"
        return ctx.base(
            email_value="confirmed",
            odoo_value=f"{order.state}, expected {planned.isoformat()}" if order and planned else None,
            email_date=dates[0] if dates else None,
            odoo_date=planned,
            note=note,
        )
    if c.kind is ChangeKind.QUESTION:
        return ctx.base(note="the supplier asks for an answer" + (f"; {c.cause}" if c.cause else ""))
    if c.kind is ChangeKind.CANCELLATION:
        target = _product_label(ctx.line, c) if (c.product_code or c.product_text) else "the order"
        return ctx.base(
            email_value="cancelled",
            odoo_value=order.state if order else None,
            note=f"the supplier cancels {target}" + (f" ({c.cause})" if c.cause else ""),
        )
    return ctx.base(note=c.cause or "")


def _targets(
    c: Candidate, by_name: dict[str, PurchaseOrderStatus], refs: Sequence[str]
) -> list[tuple[str | None, PurchaseOrderStatus | None]]:
    if c.po_name:
        return [(c.po_name, by_name.get(c.po_name))]
    orders = list(by_name.values())
    if c.kind in _EMAIL_LEVEL and len(refs) != 1:
        return [(None, None)]
    if c.product_code:
        having = [o for o in orders if match_line(o, c.product_code, None) is not None]
        orders = having or orders
    if orders:
        return [(o.name, o) for o in orders]
    return [(r, None) for r in refs] or [(None, None)]


_PO_LEVEL = (
    ChangeKind.CONFIRMATION,
    ChangeKind.DELAY_NO_DATE,
    ChangeKind.PAYMENT_HOLD,
    ChangeKind.DELIVERED,
    ChangeKind.CANCELLATION,
    ChangeKind.QUESTION,
)


# "position 2", "pos. 3", "line 1", "item 2", "Zeile 2", "ligne 2", "línea 2", "regel 2" (one position only)
_POSITION = re.compile(
    r"\b(?:pos(?:ition)?|line|item|zeile|ligne|l[ií]nea|regel)\.?\s*+#?\s*+(?P<n>\d{1,3})\b(?!\s*+(?:and|,|&|to|-|bis|et|y|en)\s*+\d)",
    re.IGNORECASE,
)


def _line_for(c: Candidate, order: PurchaseOrderStatus | None) -> PurchaseOrderLine | None:
    """The line a candidate is about: named by code or name; for a price, the one line at the stated old price,
    or the order's only line."""
    line = match_line(order, c.product_code, c.product_text, unique=c.kind is ChangeKind.NEW_DATE)
    if line is not None or order is None or c.product_code:
        return line
    position = _POSITION.search(c.product_text or "")
    if position is not None:  # "position 2 ships on Dec 12": the order's second line
        index = int(position.group("n")) - 1
        return order.lines[index] if 0 <= index < len(order.lines) else None
    if c.kind in (ChangeKind.PRICE_CHANGE, ChangeKind.SUBSTITUTION) and not c.line_statement:
        if c.old_price is not None:
            at_price = [ln for ln in order.lines if _same(ln.price_unit, c.old_price.amount)]
            if len(at_price) == 1:
                return at_price[0]
        products = [ln for ln in order.lines if ln.product is not None]
        if len(products) == 1:
            return products[0]
    return None


def compare(extraction: Extraction, orders: Sequence[PurchaseOrderStatus], products: Sequence[Ref] = ()) -> Comparison:
    """Turn the rules' candidates into changes checked against Odoo's POs (unchanged values dropped).

    ``products``: the Odoo products a substitution may name (``gather_facts`` reads them).
    """
    by_name = {o.name.upper(): o for o in orders}
    result = Comparison()
    if not extraction.po_refs:
        return result  # a circular ("orders due in that window ship on Jan 4") changes no order of ours
    confirmed: dict[str | None, list[date]] = {}
    explicit: set[tuple[str | None, int | None, ChangeKind]] = set()
    ordered = sorted(extraction.candidates, key=lambda c: (c.line_statement, c.kind is ChangeKind.CONFIRMATION))
    for c in ordered:
        for po, order in _targets(c, by_name, extraction.po_refs):
            line = _line_for(c, order)
            ctx = _Ctx(
                c,
                po,
                order,
                line,
                email_level_ok=bool(by_name) and len(by_name) == len(set(extraction.po_refs)),
                products=products,
            )
            currency = order.currency if order else (c.price.currency if c.price else None)
            change: DetectedChange | None
            if c.line_statement:
                change = _line_statement(ctx, currency)
            elif c.kind is ChangeKind.NEW_DATE:
                change = _new_date(ctx, confirmed)
            elif c.kind in (ChangeKind.PARTIAL_SHIPMENT, ChangeKind.SHORT_QUANTITY):
                change = _shipment(ctx)
            elif c.kind in (ChangeKind.PRICE_CHANGE, ChangeKind.SUBSTITUTION):
                change = _price(ctx, currency)
            else:
                change = _po_level(ctx, confirmed, currency)
            if change is None:
                continue
            key = (change.po_name, change.line_id, change.kind)
            once = change.kind is ChangeKind.PRICE_CHANGE or (change.line_id is None and change.kind in _PO_LEVEL)
            if key in explicit and (c.line_statement or once):
                continue  # one PO-level change of a kind per PO, however many sentences say it
            explicit.add(key)
            result.changes.append(change)
            if change.consistent_with_odoo is False:
                result.inconsistencies.append(f"{change.po_name or 'the order'}: {change.note}")
    # "we confirm all lines, but the earliest we can deliver is Dec 4": confirmed with a new date is the new date
    moved = {c.po_name for c in result.changes if c.kind is ChangeKind.NEW_DATE}
    result.changes = [c for c in result.changes if not (c.kind is ChangeKind.CONFIRMATION and c.po_name in moved)]
    _check_totals(extraction, by_name, result)
    return result


def _check_totals(extraction: Extraction, by_name: dict[str, PurchaseOrderStatus], result: Comparison) -> None:
    for po, money, _sentence in extraction.stated_totals:
        order = by_name.get(po) if po else (next(iter(by_name.values())) if len(by_name) == 1 else None)
        if order is None or _same(money.amount, order.amount_total, 0.01):
            continue
        result.inconsistencies.append(
            f"{order.name}: the email states a total of {money.label()}, Odoo's total is "
            f"{_money(order.amount_total, order.currency).label()}"
        )
