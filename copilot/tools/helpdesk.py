"""Helpdesk access: detect which Helpdesk app Odoo runs, its label sets, and tickets with their labels.

Odoo has two apps behind the same model ``helpdesk.ticket``: Enterprise ``helpdesk`` (ticket types,
``helpdesk.stage``/``helpdesk.tag``/``helpdesk.team``) and OCA ``helpdesk_mgmt`` (categories,
``helpdesk.ticket.stage``/``.tag``/``.team``). The field metadata tells them apart; both map onto one
``TicketLabels``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.citations import Citation
from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.text.references import SO_REF
from copilot.tools import _values as v
from copilot.tools.schemas import Ref

__all__ = [
    "HelpdeskCatalog",
    "HelpdeskFlavour",
    "HelpdeskSchema",
    "Ticket",
    "TicketLabels",
    "detect_helpdesk",
    "get_tickets",
    "load_catalog",
    "schema_from_fields",
]

TICKET_MODEL = "helpdesk.ticket"
_TAGS = re.compile(r"<[^<>]+>")  # not "<[^>]+>": "<a<a<a..." would rescan the rest from each "<"


class HelpdeskFlavour(StrEnum):
    """Which Helpdesk app is installed."""

    OCA = "oca_helpdesk_mgmt"
    ENTERPRISE = "enterprise_helpdesk"
    NONE = "none"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class HelpdeskSchema(_Frozen):
    """Where each label lives on ``helpdesk.ticket`` in the installed app."""

    flavour: HelpdeskFlavour
    category_field: str | None = Field(description="category_id (OCA) or ticket_type_id (Enterprise)")
    category_model: str | None
    team_model: str | None
    stage_model: str | None
    tag_model: str | None
    stage_closed_field: str | None = Field(description="closed (OCA) or fold (Enterprise)")
    reference_field: str | None = Field(description="number (OCA) or ticket_ref (Enterprise)")
    priorities: dict[str, str] = Field(description="selection key -> label, e.g. '2' -> 'High'")

    def ticket_fields(self) -> list[str]:
        """The ticket fields ``get_tickets`` reads."""
        fields = ["name", "description", "partner_id", "team_id", "priority", "stage_id", "tag_ids", "user_id"]
        fields += [f for f in (self.category_field, self.reference_field) if f]
        return fields


class TicketLabels(_Frozen):
    """The labels an agent sets on a ticket, whichever Helpdesk app holds them."""

    category: Ref | None = Field(description="OCA category or Enterprise ticket type")
    team: Ref | None
    priority: str | None = Field(description="'0' Low .. '3' Very High")
    priority_label: str | None
    tags: list[Ref]
    stage: Ref | None
    closed: bool


class Ticket(_Frozen):
    """A helpdesk ticket with its labels, customer and the sale orders its text references."""

    id: int
    reference: str | None = Field(description="HT00011 (OCA number) or the Enterprise ticket reference")
    subject: str
    body: str = Field(description="The description as plain text (untrusted customer content)")
    customer: Ref | None
    assignee: Ref | None
    labels: TicketLabels
    sale_orders: list[Ref]
    citations: list[Citation]


class HelpdeskCatalog(_Frozen):
    """The label sets that exist in Odoo: a classifier may only choose among them."""

    schema_: HelpdeskSchema = Field(alias="schema")
    categories: list[Ref]
    teams: list[Ref]
    tags: list[Ref]
    stages: list[Ref]
    closed_stage_ids: list[int]


def schema_from_fields(fields: dict[str, Any]) -> HelpdeskSchema:
    """Tell the Helpdesk apps apart from ``helpdesk.ticket``'s field metadata."""

    def relation(name: str) -> str | None:
        meta = fields.get(name) or {}
        return meta.get("relation") if meta.get("type") in ("many2one", "many2many") else None

    priorities = {str(k): str(label) for k, label in (fields.get("priority") or {}).get("selection") or []}
    common = {
        "team_model": relation("team_id"),
        "stage_model": relation("stage_id"),
        "tag_model": relation("tag_ids"),
        "priorities": priorities,
    }
    if relation("category_id") == "helpdesk.ticket.category":
        return HelpdeskSchema(
            flavour=HelpdeskFlavour.OCA,
            category_field="category_id",
            category_model="helpdesk.ticket.category",
            stage_closed_field="closed",
            reference_field="number" if "number" in fields else None,
            **common,
        )
    if relation("ticket_type_id") == "helpdesk.ticket.type" or relation("team_id") == "helpdesk.team":
        return HelpdeskSchema(
            flavour=HelpdeskFlavour.ENTERPRISE,
            category_field="ticket_type_id" if relation("ticket_type_id") else None,
            category_model=relation("ticket_type_id"),
            stage_closed_field="fold",
            reference_field="ticket_ref" if "ticket_ref" in fields else None,
            **common,
        )
    return _NO_HELPDESK


_NO_HELPDESK = HelpdeskSchema(
    flavour=HelpdeskFlavour.NONE,
    category_field=None,
    category_model=None,
    team_model=None,
    stage_model=None,
    tag_model=None,
    stage_closed_field=None,
    reference_field=None,
    priorities={},
)


def detect_helpdesk(client: OdooClient) -> HelpdeskSchema:
    """Which Helpdesk app Odoo runs (one round trip); ``HelpdeskFlavour.NONE`` when there is none."""
    try:
        fields = client.fields_get(TICKET_MODEL, ["type", "relation", "selection"])
    except OdooNotFound:
        return _NO_HELPDESK
    return schema_from_fields(fields)


def _refs(client: OdooClient, model: str | None, extra: Sequence[str] = ()) -> list[dict[str, Any]]:
    if model is None:
        return []
    return client.search_read(model, [], ["display_name", *extra], order="id asc")


def load_catalog(client: OdooClient, schema: HelpdeskSchema) -> HelpdeskCatalog:
    """The categories (or types), teams, tags and stages that exist: one round trip per label model.

    Callers load it once and reuse it; it changes when an admin edits the label sets.
    """
    stages = _refs(client, schema.stage_model, [schema.stage_closed_field] if schema.stage_closed_field else [])
    closed = schema.stage_closed_field

    def refs(rows: list[dict[str, Any]]) -> list[Ref]:
        return [Ref(id=r["id"], name=str(r["display_name"])) for r in rows]

    return HelpdeskCatalog(
        schema=schema,
        categories=refs(_refs(client, schema.category_model)),
        teams=refs(_refs(client, schema.team_model)),
        tags=refs(_refs(client, schema.tag_model)),
        stages=refs(stages),
        closed_stage_ids=[r["id"] for r in stages if closed and r.get(closed)],
    )


def _text(value: Any) -> str:
    raw = v.text(value) or ""
    return html.unescape(re.sub(r"\s+", " ", _TAGS.sub(" ", raw))).strip()


def get_tickets(
    client: OdooClient,
    catalog: HelpdeskCatalog,
    *,
    domain: list[Any] | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 80,
) -> list[Ticket]:
    """Tickets with their labels and the sale orders they mention (two round trips)."""
    schema = catalog.schema_
    if schema.flavour is HelpdeskFlavour.NONE:
        raise OdooNotFound("no Helpdesk app is installed in this Odoo", model=TICKET_MODEL)
    where = list(domain or [])
    if ids is not None:
        where = ["&", ("id", "in", list(ids)), *where] if where else [("id", "in", list(ids))]
    rows = client.search_read(TICKET_MODEL, where, schema.ticket_fields(), order="id asc", limit=limit)
    texts = {row["id"]: (v.text(row["name"]) or "", _text(row["description"])) for row in rows}
    refs = {
        tid: list(dict.fromkeys(m.upper() for m in SO_REF.findall(f"{subject} {body}")))
        for tid, (subject, body) in texts.items()
    }
    mentioned = {name for names in refs.values() for name in names}
    orders: dict[str, Ref] = {}
    if mentioned:
        found = client.search_read("sale.order", [("name", "in", sorted(mentioned))], ["name"])
        orders = {r["name"]: Ref(id=r["id"], name=r["name"]) for r in found}
    tag_names = {t.id: t for t in catalog.tags}
    closed = set(catalog.closed_stage_ids)
    out = []
    for row in rows:
        subject, body = texts[row["id"]]
        stage = v.ref(row["stage_id"])
        priority = v.text(row["priority"])
        reference = v.text(row.get(schema.reference_field)) if schema.reference_field else None
        linked = [orders[n] for n in refs[row["id"]] if n in orders]
        label = reference or subject
        citations = [Citation(model=TICKET_MODEL, id=row["id"], display_name=label)]
        citations += [Citation(model="sale.order", id=o.id, display_name=o.name) for o in linked]
        out.append(
            Ticket(
                id=row["id"],
                reference=reference,
                subject=subject,
                body=body,
                customer=v.ref(row["partner_id"]),
                assignee=v.ref(row["user_id"]),
                labels=TicketLabels(
                    category=v.ref(row.get(schema.category_field)) if schema.category_field else None,
                    team=v.ref(row["team_id"]),
                    priority=priority,
                    priority_label=schema.priorities.get(priority or ""),
                    tags=[tag_names[t] for t in row["tag_ids"] if t in tag_names],
                    stage=stage,
                    closed=stage is not None and stage.id in closed,
                ),
                sale_orders=linked,
                citations=citations,
            )
        )
    return out
