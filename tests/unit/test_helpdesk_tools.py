"""Helpdesk access: the app is detected from field metadata and tickets map onto one TicketLabels."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.errors import OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools.helpdesk import (
    HelpdeskFlavour,
    detect_helpdesk,
    get_tickets,
    load_catalog,
    schema_from_fields,
)

PRIORITY = {"type": "selection", "selection": [["0", "Low"], ["1", "Medium"], ["2", "High"], ["3", "Urgent"]]}


def test_oca_helpdesk_mgmt_is_detected_on_the_sandbox(odoo: OdooClient) -> None:
    schema = detect_helpdesk(odoo)
    assert schema.flavour is HelpdeskFlavour.OCA
    assert (schema.category_field, schema.stage_closed_field, schema.reference_field) == (
        "category_id",
        "closed",
        "number",
    )
    assert schema.priorities["3"] == "Very High"


def test_enterprise_helpdesk_is_detected_from_its_fields() -> None:
    fields = {
        "team_id": {"type": "many2one", "relation": "helpdesk.team"},
        "ticket_type_id": {"type": "many2one", "relation": "helpdesk.ticket.type"},
        "stage_id": {"type": "many2one", "relation": "helpdesk.stage"},
        "tag_ids": {"type": "many2many", "relation": "helpdesk.tag"},
        "ticket_ref": {"type": "char"},
        "priority": PRIORITY,
    }
    schema = schema_from_fields(fields)
    assert schema.flavour is HelpdeskFlavour.ENTERPRISE
    assert (schema.category_field, schema.category_model) == ("ticket_type_id", "helpdesk.ticket.type")
    assert (schema.stage_model, schema.tag_model, schema.stage_closed_field) == (
        "helpdesk.stage",
        "helpdesk.tag",
        "fold",
    )
    assert schema.reference_field == "ticket_ref"
    assert "ticket_type_id" in schema.ticket_fields() and "category_id" not in schema.ticket_fields()


class NoHelpdesk:
    """An Odoo without any Helpdesk app: ``helpdesk.ticket`` does not exist."""

    def login(self) -> int:
        return 8

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        raise OdooNotFound(f"Object {model} doesn't exist", model=model, method=method)


def test_an_odoo_without_helpdesk_says_so_clearly() -> None:
    client = OdooClient(NoHelpdesk())
    schema = detect_helpdesk(client)
    assert schema.flavour is HelpdeskFlavour.NONE
    catalog = load_catalog(client, schema)
    assert catalog.categories == [] and catalog.teams == []
    with pytest.raises(OdooNotFound, match="no Helpdesk app is installed"):
        get_tickets(client, catalog)


def test_catalog_lists_the_label_sets_that_exist(odoo: OdooClient) -> None:
    catalog = load_catalog(odoo, detect_helpdesk(odoo))
    assert {"Customer Service", "Returns & Claims", "Billing", "Sales Desk"} <= {t.name for t in catalog.teams}
    assert "Order Change / Rush / Expedite" in {c.name for c in catalog.categories}
    assert {s.name for s in catalog.stages if s.id in catalog.closed_stage_ids} == {"Done", "Cancelled", "Rejected"}


def test_tickets_carry_labels_customer_and_referenced_orders_in_two_round_trips(odoo: OdooClient) -> None:
    catalog = load_catalog(odoo, detect_helpdesk(odoo))
    before = odoo.round_trips
    tickets = get_tickets(odoo, catalog, limit=100)
    assert odoo.round_trips - before == 2
    assert len(tickets) == 43
    eta = next(t for t in tickets if t.reference == "HT00011")
    assert eta.labels.category is not None and eta.labels.category.name == "Order Status"
    assert eta.labels.team is not None and eta.labels.team.name == "Customer Service"
    assert (eta.labels.priority, eta.labels.priority_label, eta.labels.closed) == ("2", "High", False)
    assert {t.name for t in eta.labels.tags} == {"key-account", "backorder"}
    assert [o.name for o in eta.sale_orders] == ["S00024"]
    assert "<p>" not in eta.body and "S00024" in eta.body
    assert [c.model for c in eta.citations] == ["helpdesk.ticket", "sale.order"]
    spam = [t for t in tickets if t.labels.category is None and t.reference and t.reference >= "HT00009"]
    assert len(spam) == 1 and spam[0].labels.closed


def test_tickets_by_id(odoo: OdooClient) -> None:
    catalog = load_catalog(odoo, detect_helpdesk(odoo))
    assert [t.reference for t in get_tickets(odoo, catalog, ids=[11, 37])] == ["HT00011", "HT00037"]
