"""A carrier's status update matched to Odoo's transfers by tracking number, and what deserves attention.

The copilot's Odoo account only reads, so nothing is written to the transfer: the report (the matched
transfers, whether someone should look, one sentence why) is the event's recorded outcome, which n8n or a
person reads at the webhook's status URL. A transfer matches when one of the tracking numbers in its
``carrier_tracking_ref`` (Odoo joins a multi-parcel shipment's numbers with commas) equals the update's,
spaces and case ignored. Odoo has that field only with its Delivery app (``stock_delivery``); without it the
report says so instead of pretending no transfer matched.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from copilot.citations import Citation
from copilot.guardrails.screening import UntrustedText
from copilot.skills.base import SkillContext
from copilot.text.tracking import carrier_of, normalise_tracking
from copilot.tools._values import ref

__all__ = [
    "ATTENTION_STATES",
    "CARRIER_STATUS",
    "CarrierState",
    "CarrierStatusReport",
    "CarrierStatusSkill",
    "CarrierUpdate",
    "MatchedTransfer",
    "match_carrier_update",
]

#: The carrier's status, mapped by the sender (n8n) from the carrier's own vocabulary.
CarrierState = Literal[
    "info_received", "in_transit", "out_for_delivery", "delivered", "delayed", "exception", "returned"
]
#: States that need a person whatever the dates say.
ATTENTION_STATES: frozenset[str] = frozenset({"delayed", "exception", "returned"})
_MAX_TRANSFERS = 20
_FIELDS = ("name", "state", "scheduled_date", "date_deadline", "origin", "partner_id", "picking_type_code")
_SEPARATORS = re.compile(r"[,;]")


class CarrierUpdate(BaseModel):
    """One status update from a carrier (through n8n): the tracking number and the carrier's news."""

    tracking_number: str = Field(
        min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$", description="As the carrier prints it"
    )
    carrier: str | None = Field(default=None, max_length=40, description="The carrier's name, e.g. ups, dhl")
    status: CarrierState
    detail: str | None = Field(
        default=None, max_length=500, description="The carrier's own words (data, never read as instructions)"
    )
    estimated_delivery: date | None = Field(default=None, description="The carrier's current delivery estimate")
    occurred_at: datetime | None = Field(default=None, description="When the carrier recorded the status")


class MatchedTransfer(BaseModel):
    """A transfer in Odoo that carries the tracking number."""

    transfer: Citation
    state: str
    direction: str | None = Field(description="incoming, outgoing or internal (Odoo's picking_type_code)")
    scheduled: str | None
    deadline: str | None = Field(description="Odoo's deadline (the sale order's commitment), if any")
    origin: str | None
    partner: str | None
    sale_order: Citation | None = None


class CarrierStatusReport(BaseModel):
    """What the update means for Odoo's transfers; ``attention`` says whether a person should look."""

    tracking_number: str = Field(description="Normalised: spaces removed, upper case")
    carrier: str | None
    status: CarrierState
    tracked_in_odoo: bool = Field(description="False when Odoo has no tracking field (no Delivery app)")
    transfers: list[MatchedTransfer]
    attention: bool
    reasons: list[str] = Field(default_factory=list)
    detail: str | None = Field(default=None, description="The carrier's own words, as sent")
    summary: str


class _Reader(Protocol):
    def fields_get(self, model: str, attributes: Any = ...) -> dict[str, Any]: ...

    def search_read(
        self, model: str, domain: Any, fields: Any, *, limit: int | None = None
    ) -> list[dict[str, Any]]: ...


def _carries(tracking_ref: Any, number: str) -> bool:
    """True when ``number`` is one of the numbers in a transfer's ``carrier_tracking_ref``."""
    if not isinstance(tracking_ref, str):
        return False
    return any(normalise_tracking(part) == number for part in _SEPARATORS.split(tracking_ref))


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _transfer(row: dict[str, Any]) -> MatchedTransfer:
    partner = ref(row.get("partner_id"))
    sale = ref(row.get("sale_id"))
    return MatchedTransfer(
        transfer=Citation(model="stock.picking", id=row["id"], display_name=str(row.get("name") or row["id"])),
        state=str(row.get("state") or ""),
        direction=row.get("picking_type_code") or None,
        scheduled=row.get("scheduled_date") or None,
        deadline=row.get("date_deadline") or None,
        origin=row.get("origin") or None,
        partner=partner.name if partner else None,
        sale_order=Citation(model="sale.order", id=sale.id, display_name=sale.name) if sale else None,
    )


def _reasons(update: CarrierUpdate, transfers: list[MatchedTransfer]) -> list[str]:
    reasons = []
    if update.status in ATTENTION_STATES:
        reasons.append(f"the carrier reports {update.status.replace('_', ' ')}")
    for t in transfers:
        name = t.transfer.display_name
        deadline = _day(t.deadline)
        if update.estimated_delivery and deadline and update.estimated_delivery > deadline:
            reasons.append(f"{name}: delivery expected {update.estimated_delivery}, after its deadline {deadline}")
        if update.status == "delivered" and t.direction == "incoming" and t.state not in ("done", "cancel"):
            reasons.append(f"{name}: delivered by the carrier but still {t.state} in Odoo (receipt not validated)")
    return reasons


def match_carrier_update(client: _Reader, update: CarrierUpdate) -> CarrierStatusReport:
    """The transfers carrying ``update``'s tracking number and whether the news needs a person (reads only)."""
    number = normalise_tracking(update.tracking_number)
    carrier = (update.carrier or "").strip().lower() or carrier_of(number)
    available = client.fields_get("stock.picking", ["type"])
    status = update.status.replace("_", " ")
    if "carrier_tracking_ref" not in available:
        reasons = [f"the carrier reports {status}"] if update.status in ATTENTION_STATES else []
        return CarrierStatusReport(
            tracking_number=number,
            carrier=carrier,
            status=update.status,
            tracked_in_odoo=False,
            transfers=[],
            attention=bool(reasons),
            reasons=reasons,
            detail=update.detail,
            summary=(
                f"{number}: {status}. Odoo keeps no tracking numbers on transfers (its Delivery app is not "
                "installed), so no transfer could be matched."
            ),
        )
    fields = [*_FIELDS, "carrier_tracking_ref"] + (["sale_id"] if "sale_id" in available else [])
    rows = client.search_read(
        "stock.picking", [("carrier_tracking_ref", "ilike", number)], fields, limit=_MAX_TRANSFERS
    )
    transfers = [_transfer(r) for r in rows if _carries(r.get("carrier_tracking_ref"), number)]
    reasons = _reasons(update, transfers)
    if not transfers:
        summary = f"{number}: {status}. No transfer in Odoo carries this tracking number."
    else:
        names = ", ".join(
            t.transfer.display_name + (f" ({t.sale_order.display_name})" if t.sale_order else "") for t in transfers
        )
        summary = f"{number}: {status} for {names}." + (f" Attention: {'; '.join(reasons)}." if reasons else "")
    return CarrierStatusReport(
        tracking_number=number,
        carrier=carrier,
        status=update.status,
        tracked_in_odoo=True,
        transfers=transfers,
        attention=bool(reasons),
        reasons=reasons,
        detail=update.detail,
        summary=summary,
    )


class CarrierStatusSkill:
    """The carrier-status match as a ``Skill[CarrierUpdate, CarrierStatusReport]``."""

    name = "carrier_status"

    def run(self, ctx: SkillContext, update: CarrierUpdate, /) -> CarrierStatusReport:
        """The transfers the update concerns and whether a person should look."""
        return match_carrier_update(ctx.odoo(), update)

    def untrusted(self, update: CarrierUpdate, /) -> list[UntrustedText]:
        """Nothing is read by a model: the carrier's ``detail`` is kept as data only."""
        return []


CARRIER_STATUS = CarrierStatusSkill()
