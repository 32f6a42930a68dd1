"""What can cover each open sale line: free stock first, then the open receipts by expected arrival, in need order.

Quantities are in the product's unit (``product_qty``): a receipt in dozens counts its units. A line's open
demand is what its open deliveries still need beyond what they already reserved. Demands of one product are
served in the order Odoo reserves (the delivery's scheduled date, then its move): free stock on hand, then each
receipt in the order it is expected. A receipt's expected arrival is its planned day when still ahead (later for a
vendor usually late); once overdue it is unknown, so it is estimated as now plus the vendor's usual delay (from its
done receipts). The vendor's e-mails on the PO (``news``) move that date or split the quantity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from copilot.skills.at_risk.news import Announced, PoNews
from copilot.skills.at_risk.reads import Snapshot, ref_id, ref_name, when
from copilot.skills.supplier_email.schemas import Quantity
from copilot.text.references import product_code, without_product_code

__all__ = [
    "Demand",
    "Piece",
    "Reliability",
    "Supply",
    "allocate",
    "demands",
    "reliabilities",
    "supplies",
]

_DAY = 86_400.0
#: A done receipt counts as late when it came more than this after its promised date.
LATE_GRACE = timedelta(days=1)
#: How far out a part the vendor gives no date for is put (it sorts last and never covers in time).
NEVER = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class Reliability:
    """A vendor's record on its done receipts (smoothed toward a prior: few receipts say little)."""

    receipts: int
    late: int
    late_rate: float
    usual_delay_days: float


@dataclass(slots=True)
class Supply:
    """One open receipt move: how much, when it was promised, when it is planned now, when it is expected."""

    move_id: int
    product_id: int
    quantity: float
    receipt: tuple[int, str] | None
    purchase_order: tuple[int, str] | None
    vendor: tuple[int, str] | None
    promised: datetime | None
    planned: datetime | None
    eta: datetime
    overdue_days: float
    revised_days: float
    late_days: float
    reliability: Reliability
    left: float = 0.0
    #: What the vendor's e-mail said of this part (None: Odoo's plan only).
    news: Announced | None = None
    #: The vendor gives no date for this part: it does not come in any foreseeable time.
    never: bool = False
    part: int = 0


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a line's demand that one receipt covers."""

    supply: Supply
    quantity: float


@dataclass(slots=True)
class Demand:
    """One open sale line: what is ordered, reserved, missing, and when it is needed."""

    line_id: int
    order_id: int
    product_id: int
    product: str
    ordered: float
    reserved: float
    need: datetime | None
    order_date: datetime | None
    value: float
    pickings: list[tuple[int, str]] = field(default_factory=list)
    #: The earliest scheduled date and the first id of its delivery moves: Odoo reserves in that order.
    scheduled: datetime | None = None
    first_move: int = 0
    from_stock: float = 0.0
    pieces: list[Piece] = field(default_factory=list)

    @property
    def short(self) -> float:
        """Units not reserved yet."""
        return max(self.ordered - self.reserved, 0.0)

    @property
    def uncovered(self) -> float:
        """Units nothing on hand or incoming covers."""
        return max(self.short - self.from_stock - sum(p.quantity for p in self.pieces), 0.0)


def reliabilities(
    history: Iterable[dict[str, Any]], *, prior_rate: float, prior_weight: float, default_delay: float
) -> dict[int, Reliability]:
    """Each vendor's late-receipt rate and usual delay, from its done receipts (date done vs promised)."""
    stats: dict[int, list[float]] = defaultdict(list)
    for row in history:
        vendor = ref_id(row.get("partner_id"))
        done = when(row.get("date_done"))
        promised = when(row.get("date_deadline")) or when(row.get("scheduled_date"))
        if vendor is None or done is None or promised is None:
            continue
        stats[vendor].append((done - promised).total_seconds() / _DAY)
    out = {}
    for vendor, delays in stats.items():
        late = [d for d in delays if d > LATE_GRACE.total_seconds() / _DAY]
        rate = (len(late) + prior_rate * prior_weight) / (len(delays) + prior_weight)
        delay = sum(late) / len(late) if late else default_delay
        out[vendor] = Reliability(len(delays), len(late), rate, delay)
    return out


def unknown_vendor(prior_rate: float, default_delay: float) -> Reliability:
    """The prior for a vendor without done receipts (or a receipt without a vendor)."""
    return Reliability(0, 0, prior_rate, default_delay)


def supplies(
    snapshot: Snapshot,
    now: datetime,
    vendors: dict[int, Reliability],
    prior: Reliability,
    news: Mapping[int, PoNews] | None = None,
    *,
    slip_from_rate: float = 0.5,
    slip_min_receipts: int = 3,
) -> dict[int, list[Supply]]:
    """The open receipts per product, earliest expected first (split where the vendor's e-mails split them).

    A receipt planned for a day still ahead is expected that day, plus the vendor's usual delay when its record
    says it is late more often than not (``slip_from_rate``, over at least ``slip_min_receipts`` receipts); one
    planned for a day gone by (overdue, no news) the vendor's usual delay from now. The vendor's e-mail moves
    that: an arrival day it announces replaces an overdue plan and pushes a plan still ahead later (never
    earlier: the buyer may have rescheduled since), and "no date" means the part does not come.
    """
    out: dict[int, list[Supply]] = defaultdict(list)
    for move in snapshot.in_moves:
        product = ref_id(move.get("product_id"))
        quantity = float(move.get("product_qty") or 0.0)
        if product is None or quantity <= 0:
            continue
        pol = snapshot.po_lines.get(ref_id(move.get("purchase_line_id")) or 0, {})
        dates = [d for d in (when(move.get("date")), when(pol.get("date_planned"))) if d is not None]
        deadline = when(move.get("date_deadline"))
        planned = max(dates) if dates else deadline
        promised = min([*dates, deadline] if deadline else dates) if (dates or deadline) else None
        vendor_ref = pol.get("partner_id") or move.get("partner_id")
        vendor_id = ref_id(vendor_ref)
        reliability = vendors.get(vendor_id, prior) if vendor_id else prior
        live = planned is not None and planned.date() >= now.date()
        if planned is None or not live:
            planned_eta = now + timedelta(days=max(1.0, reliability.usual_delay_days))
        else:
            unreliable = reliability.receipts >= slip_min_receipts and reliability.late_rate >= slip_from_rate
            planned_eta = planned + timedelta(days=reliability.usual_delay_days if unreliable else 0.0)
        order = pol.get("order_id")
        po_news = (news or {}).get(ref_id(order) or 0)
        uom_qty = float(move.get("product_uom_qty") or 0.0)
        ratio = quantity / uom_qty if uom_qty else 1.0
        pieces = _split(
            quantity, po_news, product_code(ref_name(move.get("product_id"))), ratio, ref_name(move.get("product_uom"))
        )
        for index, (part_qty, announced) in enumerate(pieces):
            never = announced is not None and announced.day is None
            eta = planned_eta
            if announced is not None and announced.day is not None:
                told = datetime.combine(announced.day, time(12), tzinfo=UTC)
                if announced.day >= now.date():
                    eta = max(told, planned_eta) if live else told
            elif never:
                eta = now + NEVER
            overdue = (now - planned).total_seconds() / _DAY if planned is not None and not live else 0.0
            revised = (planned - promised).total_seconds() / _DAY if planned and promised else 0.0
            late = (eta - promised).total_seconds() / _DAY if promised and not never else 0.0
            out[product].append(
                Supply(
                    move_id=int(move["id"]),
                    product_id=product,
                    quantity=part_qty,
                    receipt=_pair(move.get("picking_id")),
                    purchase_order=_pair(order),
                    vendor=_pair(vendor_ref),
                    promised=promised,
                    planned=planned,
                    eta=eta,
                    overdue_days=max(overdue, 0.0),
                    revised_days=revised if revised >= 1.0 else 0.0,
                    late_days=max(late, 0.0),
                    reliability=reliability,
                    left=part_qty,
                    news=announced,
                    never=never,
                    part=index,
                )
            )
    for items in out.values():
        items.sort(key=lambda s: (s.eta, s.planned or s.eta, s.move_id, s.part))  # overdue: first due, first in
    return out


def _units(quantity: Quantity, ratio: float, uom: str) -> float:
    """An e-mail's quantity in product units: in the receipt's unit unless it names dozens."""
    unit = (quantity.uom or "").strip().casefold()
    if not unit or unit.rstrip("s") == uom.strip().casefold().rstrip("s"):
        return quantity.value * ratio
    if unit.startswith("dozen") or unit == "dz":
        return quantity.value * 12.0
    return quantity.value


def _split(
    quantity: float, news: PoNews | None, code: str | None, ratio: float, uom: str
) -> list[tuple[float, Announced | None]]:
    """The receipt's quantity in parts as the vendor's news tells them (None: as Odoo plans)."""
    if news is None:
        return [(quantity, None)]
    main = news.date_for(code)
    out: list[tuple[float, Announced | None]] = []
    left = quantity
    for part in news.parts.get(code or "", []) if code else []:
        take = left if part.quantity is None else min(left, _units(part.quantity, ratio, uom))
        if take > 1e-9:
            out.append((take, part.announced or main))
            left -= take
    if left > 1e-9:
        out.append((left, main))
    return out


def _pair(value: Any) -> tuple[int, str] | None:
    rid = ref_id(value)
    return (rid, ref_name(value)) if rid is not None else None


def demands(snapshot: Snapshot) -> list[Demand]:
    """One demand per open sale line of a confirmed order (its open deliveries summed), in product units.

    In a multi-step delivery the last step (no further move) holds the demand, and the units reserved are the
    most any open step holds (the pick reserves while the ship move waits).
    """
    by_line: dict[int, Demand] = {}
    upstream: dict[tuple[int, int], float] = defaultdict(float)
    for move in snapshot.out_moves:
        line_id = ref_id(move.get("sale_line_id"))
        product = ref_id(move.get("product_id"))
        line = snapshot.lines.get(line_id or 0)
        if line_id is None or product is None or line is None:
            continue
        order_id = ref_id(line.get("order_id"))
        order = snapshot.orders.get(order_id or 0)
        if order_id is None or order is None or order.get("state") != "sale":
            continue
        demand_uom = float(move.get("product_uom_qty") or 0.0)
        demand = float(move.get("product_qty") or demand_uom)
        ratio = demand / demand_uom if demand_uom else 1.0
        reserved = min(float(move.get("quantity") or 0.0) * ratio, demand)
        if move.get("move_dest_ids"):  # an earlier step (pick, pack): what it reserved, per step
            upstream[(line_id, ref_id(move.get("picking_type_id")) or 0)] += reserved
            continue
        item = by_line.get(line_id)
        if item is None:
            item = by_line[line_id] = Demand(
                line_id=line_id,
                order_id=order_id,
                product_id=product,
                product=without_product_code(
                    ref_name(move.get("product_id")) or str(line.get("name") or "").split("\n", 1)[0]
                ),
                ordered=0.0,
                reserved=0.0,
                need=_need(order, line),
                order_date=when(order.get("date_order")),
                value=_open_value(line),
            )
        item.ordered += demand
        item.reserved += reserved
        scheduled = when(move.get("date"))
        if scheduled is not None and (item.scheduled is None or scheduled < item.scheduled):
            item.scheduled = scheduled
        item.first_move = min(item.first_move or int(move["id"]), int(move["id"]))
        picking = _pair(move.get("picking_id"))
        if picking is not None and picking not in item.pickings:
            item.pickings.append(picking)
    for (line_id, _step), held in upstream.items():
        item = by_line.get(line_id)
        if item is not None and held > item.reserved:
            item.reserved = min(held, item.ordered)
    return list(by_line.values())


def _need(order: dict[str, Any], line: dict[str, Any]) -> datetime | None:
    """The commitment date, else the expected date Odoo computes for the line (order date + customer lead)."""
    committed = when(order.get("commitment_date"))
    if committed is not None:
        return committed
    ordered = when(order.get("date_order"))
    if ordered is None:
        return None
    return ordered + timedelta(days=float(line.get("customer_lead") or 0.0))


def _open_value(line: dict[str, Any]) -> float:
    """The untaxed value of what is still to deliver on the line."""
    quantity = float(line.get("product_uom_qty") or 0.0)
    delivered = float(line.get("qty_delivered") or 0.0)
    subtotal = float(line.get("price_subtotal") or 0.0)
    if quantity <= 0:
        return 0.0
    return subtotal * max(quantity - delivered, 0.0) / quantity


def allocate(items: list[Demand], free_stock: dict[int, float], incoming: dict[int, list[Supply]]) -> None:
    """Cover each demand's shortage: free stock first, then receipts by expected arrival; in Odoo's reservation
    order (the delivery's scheduled date, then its move), whatever the commitments say."""
    far = datetime.max.replace(tzinfo=None)
    by_product: dict[int, list[Demand]] = defaultdict(list)
    for item in items:
        if item.short > 0:
            by_product[item.product_id].append(item)
    for product, queue in by_product.items():
        queue.sort(key=lambda d: (_naive(d.scheduled) or far, d.first_move, d.line_id))
        free = max(free_stock.get(product, 0.0), 0.0)
        receipts = incoming.get(product, [])
        index = 0
        for item in queue:
            missing = item.short
            take = min(free, missing)
            item.from_stock, free, missing = take, free - take, missing - take
            while missing > 1e-9 and index < len(receipts):
                supply = receipts[index]
                take = min(supply.left, missing)
                if take > 0:
                    item.pieces.append(Piece(supply, take))
                    supply.left -= take
                    missing -= take
                if supply.left <= 1e-9:
                    index += 1


def _naive(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=None) if value is not None else None


def free_stock(quants: Iterable[dict[str, Any]]) -> dict[int, float]:
    """On hand minus reserved per product, over internal locations."""
    out: dict[int, float] = defaultdict(float)
    for quant in quants:
        product = ref_id(quant.get("product_id"))
        if product is not None:
            out[product] += float(quant.get("quantity") or 0.0) - float(quant.get("reserved_quantity") or 0.0)
    return out
