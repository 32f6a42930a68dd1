"""Orders at risk as a skill: read in batches, cover each open line, score it, rank the orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from copilot.citations import Citation
from copilot.guardrails.screening import UntrustedText
from copilot.skills.at_risk.cover import (
    Demand,
    Supply,
    allocate,
    demands,
    free_stock,
    reliabilities,
    supplies,
    unknown_vendor,
)
from copilot.skills.at_risk.news import PoNews, read_news, vendor_of
from copilot.skills.at_risk.proposals import proposals_for
from copilot.skills.at_risk.reads import Snapshot, read_snapshot, ref_id, ref_name, when
from copilot.skills.at_risk.schemas import AtRiskInput, AtRiskItem, AtRiskQueue
from copilot.skills.at_risk.scoring import LineRisk, RiskModel, line_risk, priority_weight, severity_for
from copilot.skills.base import SkillContext
from copilot.text.references import product_code

__all__ = ["AT_RISK", "AtRiskSkill"]


class AtRiskSkill:
    """``Skill[AtRiskInput, AtRiskQueue]``: the open sale orders that may miss their commitment, worst first."""

    name = "orders_at_risk"

    def __init__(self, model: RiskModel | None = None) -> None:
        self.model = model or RiskModel()

    def run(self, ctx: SkillContext, request: AtRiskInput, /) -> AtRiskQueue:
        """Score every open sale line (or those the request's POs feed / SOs hold) and rank their orders."""
        model = self._model_for(request)
        client = ctx.odoo()
        now = ctx.now
        snapshot = read_snapshot(
            client,
            now=now,
            purchase_orders=request.purchase_orders or (),
            sale_orders=request.sale_orders or (),
            key_account_tags=model.key_account_tags,
            history_days=model.history_days,
        )
        items = score_snapshot(snapshot, model, now, request)
        if request.limit is not None:
            items = items[: request.limit]
        return AtRiskQueue(
            as_of=now.date(),
            items=items,
            lines_scored=len({m["sale_line_id"][0] for m in snapshot.out_moves if m.get("sale_line_id")}),
            odoo_round_trips=snapshot.round_trips,
        )

    def untrusted(self, request: AtRiskInput, /) -> list[UntrustedText]:
        """Nothing: the request names orders, no outsider's text."""
        return []

    def _model_for(self, request: AtRiskInput) -> RiskModel:
        update: dict[str, object] = {}
        if request.key_accounts is not None:
            update["key_accounts"] = tuple(request.key_accounts)
        if request.key_account_tags is not None:
            update["key_account_tags"] = tuple(request.key_account_tags)
        return self.model.model_copy(update=update) if update else self.model


def score_snapshot(snapshot: Snapshot, model: RiskModel, now: datetime, request: AtRiskInput) -> list[AtRiskItem]:
    """The ranked items of one snapshot (pure: no Odoo call)."""
    vendors = reliabilities(
        snapshot.history,
        prior_rate=model.prior_late_rate,
        prior_weight=model.prior_weight,
        default_delay=model.default_delay_days,
    )
    prior = unknown_vendor(model.prior_late_rate, model.default_delay_days)
    incoming = supplies(
        snapshot,
        now,
        vendors,
        prior,
        vendor_news(snapshot, model),
        slip_from_rate=model.slip_from_rate,
        slip_min_receipts=model.slip_min_receipts,
    )
    lines = demands(snapshot)
    allocate(lines, free_stock(snapshot.quants), incoming)
    by_order: dict[int, list[Demand]] = defaultdict(list)
    for line in lines:
        by_order[line.order_id].append(line)
    risky: dict[int, list[LineRisk]] = defaultdict(list)
    for line in lines:
        risk = line_risk(line, model, now)
        if risk is not None:
            risky[line.order_id].append(risk)
    donors: dict[int, list[tuple[Demand, str]]] = defaultdict(list)
    for line in lines:
        if line.reserved > 0:
            donors[line.product_id].append((line, str(snapshot.orders[line.order_id].get("name") or "")))
    for held in donors.values():
        held.sort(key=lambda d: -d[0].reserved)
    wanted_pos = {p.strip().casefold() for p in request.purchase_orders or ()}
    wanted_sos = {s.strip().casefold() for s in request.sale_orders or ()}
    key_names = frozenset(n.strip().casefold() for n in model.key_accounts)  # once per run, not per order
    items = []
    for order_id, risks in risky.items():
        order = snapshot.orders[order_id]
        name = str(order.get("name") or "")
        if (wanted_pos or wanted_sos) and not (
            name.casefold() in wanted_sos or (wanted_pos and wanted_pos & _po_names(risks))
        ):
            continue
        risks.sort(key=_worst_first)
        items.append(_item(snapshot, model, now, order_id, risks, by_order[order_id], donors, key_names))
    items.sort(key=lambda i: (-i.score, -i.risk, i.order))
    return items


def vendor_news(snapshot: Snapshot, model: RiskModel) -> dict[int, PoNews]:
    """The vendors' news per PO, from the e-mails the snapshot holds (no Odoo call)."""
    if not snapshot.messages:
        return {}
    names: dict[int, str] = {}
    po_vendors: dict[int, int] = {}
    planned: dict[int, dict[str, date]] = defaultdict(dict)
    for line in snapshot.po_lines.values():
        po_id, vendor = ref_id(line.get("order_id")), ref_id(line.get("partner_id"))
        if po_id is None or vendor is None:
            continue
        names[po_id] = ref_name(line.get("order_id"))
        po_vendors[po_id] = vendor_of(snapshot.partners.get(vendor), vendor) or vendor
    for move in snapshot.in_moves:
        line = snapshot.po_lines.get(ref_id(move.get("purchase_line_id")) or 0, {})
        po_id = ref_id(line.get("order_id"))
        days = [d for d in (when(move.get("date")), when(line.get("date_planned"))) if d is not None]
        code = product_code(ref_name(move.get("product_id")))
        if po_id is not None and days and code:
            planned[po_id][code] = max(days).date()
    return read_news(
        snapshot.messages,
        po_names=names,
        po_vendors=po_vendors,
        planned=planned,
        partners=snapshot.partners,
        transit_days=model.transit_days,
    )


def _worst_first(risk: LineRisk) -> tuple[float, ...]:
    """Riskiest first; among equals, a line nothing covers, then the latest receipt, then the most value."""
    late = risk.worst.late_days if risk.worst is not None else 0.0
    return (-risk.risk, -float(risk.demand.uncovered > 1e-9), -late, -risk.value_at_risk, float(risk.demand.line_id))


def _po_names(risks: Sequence[LineRisk]) -> set[str]:
    return {p.supply.purchase_order[1].casefold() for r in risks for p in r.demand.pieces if p.supply.purchase_order}


def _is_key(snapshot: Snapshot, names: frozenset[str], partner_id: int | None, customer: str) -> bool:
    """``names``: the key accounts' names, casefolded (built once per run by ``score_snapshot``)."""
    partner = snapshot.partners.get(partner_id or 0, {})
    commercial = ref_id(partner.get("commercial_partner_id"))
    return (
        (partner_id is not None and partner_id in snapshot.key_partner_ids)
        or (commercial is not None and commercial in snapshot.key_partner_ids)
        or customer.casefold() in names
        or ref_name(partner.get("commercial_partner_id")).casefold() in names
    )


def _item(
    snapshot: Snapshot,
    model: RiskModel,
    now: datetime,
    order_id: int,
    risks: list[LineRisk],
    order_lines: list[Demand],
    donors: dict[int, list[tuple[Demand, str]]],
    key_names: frozenset[str],
) -> AtRiskItem:
    order = snapshot.orders[order_id]
    name = str(order.get("name") or "")
    partner_id = ref_id(order.get("partner_id"))
    customer = ref_name(order.get("partner_id"))
    key = _is_key(snapshot, key_names, partner_id, customer)
    worst = risks[0]
    value = float(order.get("amount_untaxed") or 0.0)
    weight = round(priority_weight(value, key_account=key, model=model), 6)
    score = round(worst.risk * weight, 6)
    readies = [r.ready for r in risks]
    cover = max(d for d in readies if d is not None).date() if readies and all(readies) else None
    need = worst.demand.need
    pos = sorted({p.supply.purchase_order[1] for r in risks for p in r.demand.pieces if p.supply.purchase_order})
    return AtRiskItem(
        order=name,
        order_id=order_id,
        customer=customer,
        commitment=need.date() if need else None,
        expected_cover=cover,
        risk=worst.risk,
        priority_weight=weight,
        score=score,
        severity=severity_for(score, model.severity_thresholds),
        reason=_reason(name, worst, len(risks) - 1, key),
        factors=worst.factors(),
        evidence=_evidence(order_id, name, partner_id, customer, risks),
        lines=[_line_label(r) for r in risks],
        purchase_orders=pos,
        proposals=proposals_for(
            order_id=order_id,
            order_name=name,
            customer=(partner_id, customer) if partner_id else None,
            committed=when(order.get("commitment_date")),
            risks=risks,
            order_lines=order_lines,
            donors=donors,
            now=now,
        ),
    )


def _line_label(risk: LineRisk) -> str:
    d = risk.demand
    short = f", {d.short:g} short" if abs(d.short - d.ordered) > 1e-9 else ""
    return f"{d.product} x{d.ordered:g}{short}"


def _reason(order: str, worst: LineRisk, others: int, key: bool) -> str:
    d = worst.demand
    committed = f"committed for {d.need:%Y-%m-%d}" if d.need else "no commitment date"
    supply = worst.worst
    undated = [p for p in d.pieces if p.supply.never]
    if d.uncovered > 1e-9 and (supply is None or d.uncovered >= d.short / 2):
        text = f"{order}: {d.uncovered:g} {d.product} have no stock and no incoming receipt (no PO), {committed}"
    elif undated and (supply is None or sum(p.quantity for p in undated) >= d.short / 2):
        never = undated[0].supply
        why = never.news.why if never.news is not None else "no date"
        text = (
            f"{order}: {sum(p.quantity for p in undated):g} {d.product} wait on {_source(never)}, "
            f"whose vendor gives no date ({why}, per its email); {committed}"
        )
    elif supply is not None:
        text = f"{order}: {d.short:g} {d.product} wait on {_source(supply)}"
        if supply.news is not None and supply.news.day is not None:
            text += f", arriving {supply.eta:%Y-%m-%d} per the supplier's email of {supply.news.sent:%Y-%m-%d}"
        elif supply.revised_days > 0 and supply.planned is not None:
            text += f", revised to {supply.planned:%Y-%m-%d} ({supply.revised_days:.0f} days later than promised)"
        elif supply.overdue_days >= 0.5:
            text += f", {supply.overdue_days:.0f} days overdue"
        ready = f", expected by {worst.ready:%Y-%m-%d}" if worst.ready else ""
        text += f"; {committed}{ready}"
    else:
        text = f"{order}: {d.short:g} {d.product} not reserved, {committed}"
    if others:
        text += f"; {others} more line{'s' if others > 1 else ''} at risk"
    if key:
        text += "; key account"
    return text + "."


def _source(supply: Supply) -> str:
    """ "P00009 (WH/IN/00014) from Gemini Furniture", or "receipt WH/IN/00003 from Wood Corner"."""
    receipt = f" ({supply.receipt[1]})" if supply.receipt and supply.purchase_order else ""
    if supply.purchase_order:
        po = supply.purchase_order[1]
    else:
        po = f"receipt {supply.receipt[1]}" if supply.receipt else "an incoming receipt"
    vendor = f" from {supply.vendor[1]}" if supply.vendor else ""
    return f"{po}{receipt}{vendor}"


def _evidence(
    order_id: int, name: str, partner_id: int | None, customer: str, risks: Sequence[LineRisk]
) -> list[Citation]:
    cited = [Citation.model_construct(model="sale.order", id=order_id, display_name=name)]
    if partner_id:
        cited.append(
            Citation.model_construct(model="res.partner", id=partner_id, display_name=customer or str(partner_id))
        )
    for risk in risks:
        cited += [
            Citation.model_construct(model="stock.picking", id=p[0], display_name=p[1]) for p in risk.demand.pickings
        ]
        for piece in risk.demand.pieces:
            if piece.supply.purchase_order:
                po_id, po = piece.supply.purchase_order
                cited.append(Citation.model_construct(model="purchase.order", id=po_id, display_name=po))
            if piece.supply.news is not None:
                cited.append(piece.supply.news.message)
            if piece.supply.receipt:
                cited.append(
                    Citation.model_construct(
                        model="stock.picking", id=piece.supply.receipt[0], display_name=piece.supply.receipt[1]
                    )
                )
    return list(dict.fromkeys(cited))


AT_RISK = AtRiskSkill()
