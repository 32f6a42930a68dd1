"""Scale data: the recorded sandbox grown to thousands of open sale order lines, deterministically from a seed.

``ScaledSandbox(lines=10_000, seed=1)`` serves the recorded dataset plus generated confirmed sale orders (1 to
4 lines each, some with a commitment date, reserved in full, in part or not at all), their deliveries, purchase
orders with receipts for the same products (some late, some revised later by the supplier, some not ordered at
all), stock on hand and a history of done receipts per vendor (each vendor with its own habit of lateness).
Generated records reuse the recording's products, customers, vendors, picking types and locations; the
recorded records are untouched, so the scenario (S00024 and P00009, ...) is still there. Nothing is written
to disk: the grown dataset lives in the server's memory (``scaled_dataset`` builds it, pure).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from odoo_sandbox._data import Dataset, Record
from odoo_sandbox._flavours import dataset_for
from odoo_sandbox._releases import OdooRelease, release_for
from odoo_sandbox._rpc import Backend
from odoo_sandbox._server import SandboxServer

__all__ = ["ScaledSandbox", "scaled_dataset"]

_FMT = "%Y-%m-%d %H:%M:%S"
#: Models the generator adds records to.
_MODELS = (
    "sale.order",
    "sale.order.line",
    "stock.picking",
    "stock.move",
    "purchase.order",
    "purchase.order.line",
    "stock.quant",
)


def _stamp(value: datetime) -> str:
    return value.strftime(_FMT)


class _Ids:
    """Fresh ids per model, above the recorded ones."""

    def __init__(self, records: dict[str, dict[int, Record]]) -> None:
        self._next = {m: max(records.get(m, {}) or [0]) + 1 for m in _MODELS}

    def take(self, model: str) -> int:
        rid = self._next[model]
        self._next[model] = rid + 1
        return rid


class _Builder:
    """Adds records to copies of the recorded tables (the recorded dicts themselves are never changed)."""

    def __init__(self, base: Dataset, now: datetime, rng: random.Random) -> None:
        self.base = base
        self.now = now
        self.rng = rng
        self.records = {m: dict(rows) for m, rows in base.records.items()}
        self.ids = _Ids(self.records)
        self.added: dict[str, list[Record]] = defaultdict(list)
        types = base.records["stock.picking.type"].values()
        self.incoming = next(t for t in types if t.get("code") == "incoming")
        self.outgoing = next(t for t in types if t.get("code") == "outgoing")
        self.stock = int(self.outgoing["default_location_src_id"])
        self.customers_loc = int(self.outgoing["default_location_dest_id"])
        self.vendors_loc = int(self.incoming["default_location_src_id"])
        moves = base.records["stock.move"].values()
        self.products = sorted({int(m["product_id"]) for m in moves if m.get("product_id")})
        orders = base.records["sale.order"].values()
        self.customers = sorted({int(o["partner_id"]) for o in orders if o.get("partner_id")})
        pos = base.records["purchase.order"].values()
        self.vendors = sorted({int(o["partner_id"]) for o in pos if o.get("partner_id")})
        self.currency = next(iter(orders)).get("currency_id") or 1
        self.uom_field = "product_uom_id" if "product_uom_id" in base.fields["sale.order.line"] else "product_uom"
        self.move_uom = "product_uom_id" if "product_uom_id" in base.fields["stock.move"] else "product_uom"
        self.pol_uom = "product_uom_id" if "product_uom_id" in base.fields["purchase.order.line"] else "product_uom"
        self.uoms = {int(p["id"]): _uom_of(base, int(p["id"])) for p in base.records["product.product"].values()}

    def add(self, model: str, record: Record) -> Record:
        self.records[model][int(record["id"])] = record
        self.added[model].append(record)
        return record

    def dataset(self) -> Dataset:
        return replace(self.base, records=self.records)


def _uom_of(base: Dataset, product_id: int) -> int:
    product = base.records["product.product"].get(product_id) or {}
    template = base.records["product.template"].get(product.get("product_tmpl_id") or 0) or {}
    return int(template.get("uom_id") or 1)


def scaled_dataset(base: Dataset, *, lines: int, seed: int, now: datetime) -> Dataset:
    """``base`` plus about ``lines`` open sale order lines with their deliveries, POs, receipts and stock."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    b = _Builder(base, now, rng)
    demand: dict[int, float] = defaultdict(float)
    reserved: dict[int, float] = defaultdict(float)
    made = 0
    serial = 0
    while made < lines:
        serial += 1
        count = min(rng.randint(1, 4), lines - made)
        made += count
        _sale_order(b, serial, count, demand, reserved)
    _purchases(b, demand)
    _stock(b, reserved)
    _history(b)
    return b.dataset()


def _sale_order(b: _Builder, serial: int, count: int, demand: dict[int, float], reserved: dict[int, float]) -> None:
    rng = b.rng
    order_id = b.ids.take("sale.order")
    picking_id = b.ids.take("stock.picking")
    ordered_at = b.now - timedelta(days=rng.uniform(0, 20), hours=rng.randint(0, 8))
    committed = ordered_at + timedelta(days=rng.uniform(3, 30)) if rng.random() < 0.5 else None
    name = f"S{100000 + serial}"
    partner = rng.choice(b.customers)
    line_ids, move_ids, total = [], [], 0.0
    for product in rng.sample(b.products, min(count, len(b.products))):
        line_id, move_id = b.ids.take("sale.order.line"), b.ids.take("stock.move")
        quantity = float(rng.randint(1, 20))
        price = float(rng.randint(20, 900))
        lead = float(rng.choice([0, 0, 3, 7, 14]))
        share = rng.random()
        done = quantity if share < 0.45 else (round(quantity * rng.random()) if share < 0.6 else 0.0)
        state = "assigned" if done >= quantity else ("partially_available" if done else "confirmed")
        need = committed or ordered_at + timedelta(days=lead)
        b.add(
            "sale.order.line",
            {
                "id": line_id,
                "order_id": order_id,
                "product_id": product,
                "name": f"Generated line {line_id}",
                "product_uom_qty": quantity,
                b.uom_field: b.uoms.get(product, 1),
                "qty_delivered": 0.0,
                "customer_lead": lead,
                "price_unit": price,
                "price_subtotal": price * quantity,
                "price_total": price * quantity,
                "state": "sale",
                "display_type": False,
                "company_id": 1,
                "currency_id": b.currency,
                "order_partner_id": partner,
                "move_ids": [move_id],
            },
        )
        b.add(
            "stock.move",
            {
                "id": move_id,
                "name": f"Generated line {line_id}",
                "reference": f"WH/OUT/{picking_id:06d}",
                "sale_line_id": line_id,
                "purchase_line_id": False,
                "product_id": product,
                "product_uom_qty": quantity,
                "product_qty": quantity,
                "quantity": done,
                b.move_uom: b.uoms.get(product, 1),
                "state": state,
                "date": _stamp(need - timedelta(days=1)),
                "date_deadline": _stamp(need),
                "picking_id": picking_id,
                "picking_type_id": b.outgoing["id"],
                "location_id": b.stock,
                "location_dest_id": b.customers_loc,
                "partner_id": partner,
                "company_id": 1,
                "procure_method": "make_to_stock",
            },
        )
        demand[product] += quantity - done
        reserved[product] += done
        line_ids.append(line_id)
        move_ids.append(move_id)
        total += price * quantity
    b.add(
        "stock.picking",
        {
            "id": picking_id,
            "name": f"WH/OUT/{picking_id:06d}",
            "origin": name,
            "partner_id": partner,
            "picking_type_id": b.outgoing["id"],
            "location_id": b.stock,
            "location_dest_id": b.customers_loc,
            "state": "confirmed",
            "scheduled_date": _stamp(ordered_at + timedelta(days=2)),
            "date_deadline": _stamp(committed) if committed else False,
            "date_done": False,
            "move_ids": move_ids,
            "sale_id": order_id,
            "company_id": 1,
        },
    )
    b.add(
        "sale.order",
        {
            "id": order_id,
            "name": name,
            "partner_id": partner,
            "partner_invoice_id": partner,
            "partner_shipping_id": partner,
            "state": "sale",
            "date_order": _stamp(ordered_at),
            "commitment_date": _stamp(committed) if committed else False,
            "amount_untaxed": total,
            "amount_total": total,
            "currency_id": b.currency,
            "company_id": 1,
            "order_line": line_ids,
            "picking_ids": [picking_id],
            "delivery_status": "pending",
        },
    )


def _purchases(b: _Builder, demand: dict[int, float]) -> None:
    """POs covering most of each product's open demand: split over a few receipts, some late or revised."""
    rng = b.rng
    serial = 0
    for product, missing in sorted(demand.items()):
        left = missing * rng.uniform(0.6, 1.1)
        while left > 0.5:
            serial += 1
            quantity = float(max(1, round(min(left, rng.uniform(20, 120)))))
            left -= quantity
            _purchase_order(b, serial, product, quantity)


def _purchase_order(b: _Builder, serial: int, product: int, quantity: float) -> None:
    rng = b.rng
    po_id, line_id = b.ids.take("purchase.order"), b.ids.take("purchase.order.line")
    picking_id, move_id = b.ids.take("stock.picking"), b.ids.take("stock.move")
    vendor = rng.choice(b.vendors)
    promised = b.now + timedelta(days=rng.uniform(-10, 20))
    planned = promised + timedelta(days=rng.uniform(2, 12)) if rng.random() < 0.2 else promised
    name = f"P{100000 + serial}"
    approved = promised - timedelta(days=rng.uniform(5, 20))
    price = float(rng.randint(10, 500))
    b.add(
        "purchase.order.line",
        {
            "id": line_id,
            "order_id": po_id,
            "partner_id": vendor,
            "product_id": product,
            "name": f"Generated PO line {line_id}",
            "product_qty": quantity,
            "product_uom_qty": quantity,
            b.pol_uom: b.uoms.get(product, 1),
            "qty_received": 0.0,
            "date_planned": _stamp(planned),
            "price_unit": price,
            "price_subtotal": price * quantity,
            "state": "purchase",
            "display_type": False,
            "company_id": 1,
            "currency_id": b.currency,
            "move_ids": [move_id],
        },
    )
    b.add(
        "stock.move",
        {
            "id": move_id,
            "name": f"Generated PO line {line_id}",
            "reference": f"WH/IN/{picking_id:06d}",
            "sale_line_id": False,
            "purchase_line_id": line_id,
            "product_id": product,
            "product_uom_qty": quantity,
            "product_qty": quantity,
            "quantity": quantity,
            b.move_uom: b.uoms.get(product, 1),
            "state": "assigned",
            "date": _stamp(planned),
            "date_deadline": _stamp(promised),
            "picking_id": picking_id,
            "picking_type_id": b.incoming["id"],
            "location_id": b.vendors_loc,
            "location_dest_id": b.stock,
            "partner_id": vendor,
            "company_id": 1,
            "procure_method": "make_to_stock",
        },
    )
    b.add("stock.picking", _receipt(b, picking_id, name, vendor, [move_id], planned, promised, "assigned", False))
    b.add(
        "purchase.order",
        {
            "id": po_id,
            "name": name,
            "partner_id": vendor,
            "state": "purchase",
            "date_approve": _stamp(approved),
            "date_order": _stamp(approved),
            "date_planned": _stamp(planned),
            "order_line": [line_id],
            "picking_ids": [picking_id],
            "receipt_status": "pending",
            "amount_untaxed": price * quantity,
            "amount_total": price * quantity,
            "currency_id": b.currency,
            "company_id": 1,
        },
    )


def _receipt(
    b: _Builder,
    picking_id: int,
    origin: str,
    vendor: int,
    moves: list[int],
    scheduled: datetime,
    promised: datetime,
    state: str,
    done: datetime | bool,
) -> Record:
    return {
        "id": picking_id,
        "name": f"WH/IN/{picking_id:06d}",
        "origin": origin,
        "partner_id": vendor,
        "picking_type_id": b.incoming["id"],
        "location_id": b.vendors_loc,
        "location_dest_id": b.stock,
        "state": state,
        "scheduled_date": _stamp(scheduled),
        "date_deadline": _stamp(promised),
        "date_done": _stamp(done) if isinstance(done, datetime) else False,
        "move_ids": moves,
        "company_id": 1,
    }


def _stock(b: _Builder, reserved: dict[int, float]) -> None:
    """On hand per product: what the generated deliveries reserved, plus a little free stock for some."""
    for product in b.products:
        held = reserved.get(product, 0.0)
        free = float(b.rng.choice([0, 0, 0, 2, 5, 10]))
        if not held and not free:
            continue
        quant_id = b.ids.take("stock.quant")
        b.add(
            "stock.quant",
            {
                "id": quant_id,
                "product_id": product,
                "location_id": b.stock,
                "quantity": held + free,
                "reserved_quantity": held,
                "company_id": 1,
            },
        )


def _history(b: _Builder) -> None:
    """Done receipts over the last year: each vendor late with its own probability and typical delay."""
    rng = b.rng
    for vendor in b.vendors:
        late_rate, delay = rng.uniform(0.05, 0.6), rng.uniform(1, 8)
        for _ in range(rng.randint(5, 25)):
            picking_id = b.ids.take("stock.picking")
            promised = b.now - timedelta(days=rng.uniform(15, 360))
            done = promised + timedelta(days=rng.uniform(1.5, delay * 2) if rng.random() < late_rate else -0.2)
            b.add("stock.picking", _receipt(b, picking_id, "history", vendor, [], promised, promised, "done", done))


def _describe(dataset: Dataset) -> dict[str, Any]:
    """Counts per generated model (for the benchmark's banner)."""
    return {m: len(dataset.records.get(m, {})) for m in _MODELS}


class ScaledSandbox(SandboxServer):
    """A ``SandboxServer`` whose dataset is the recording plus ``lines`` generated open sale order lines."""

    def __init__(self, *, lines: int = 10_000, seed: int = 1, odoo: OdooRelease = "odoo18", **options: Any) -> None:
        self.lines = lines
        self.seed = seed
        self._scaled: Dataset | None = None
        self._odoo = odoo
        super().__init__(odoo=odoo, **options)

    def _new_backend(self) -> Backend:
        if self._scaled is None:
            release = release_for(self._odoo)
            base = dataset_for(self.helpdesk, release.name)
            self._scaled = scaled_dataset(base, lines=self.lines, seed=self.seed, now=release.recorded_at)
        return Backend(self._users, self.anchor, self.db, self._scaled, None, self.release)

    def counts(self) -> dict[str, Any]:
        """How many records of each generated model the dataset holds."""
        assert self._scaled is not None
        return _describe(self._scaled)
