"""The sandbox's Helpdesk flavours: recorded OCA helpdesk_mgmt, derived Enterprise helpdesk, and none."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.errors import OdooAccessDenied, OdooNotFound
from copilot.odoo import OdooClient
from copilot.tools.helpdesk import HelpdeskFlavour, detect_helpdesk, get_tickets, load_catalog
from odoo_sandbox import SandboxServer, SandboxTransport
from odoo_sandbox._data import load_dataset
from odoo_sandbox._flavours import MODEL_RENAMES, dataset_for
from tests.conftest import in_process_sandbox, make_client

ENTERPRISE_MODELS = ("helpdesk.team", "helpdesk.stage", "helpdesk.tag", "helpdesk.ticket.type")


@pytest.fixture(scope="module")
def enterprise() -> Iterator[SandboxServer]:
    with in_process_sandbox(helpdesk="enterprise") as server:
        yield server


@pytest.fixture(scope="module")
def no_helpdesk() -> Iterator[SandboxServer]:
    with in_process_sandbox(helpdesk="none") as server:
        yield server


def test_each_server_is_detected_as_its_helpdesk_app(
    odoo: OdooClient, enterprise: SandboxServer, no_helpdesk: SandboxServer
) -> None:
    assert detect_helpdesk(odoo).flavour is HelpdeskFlavour.OCA
    schema = detect_helpdesk(make_client(enterprise))
    assert schema.flavour is HelpdeskFlavour.ENTERPRISE
    assert (schema.category_model, schema.team_model, schema.stage_model, schema.tag_model) == (
        "helpdesk.ticket.type",
        "helpdesk.team",
        "helpdesk.stage",
        "helpdesk.tag",
    )
    assert (schema.category_field, schema.stage_closed_field, schema.reference_field) == (
        "ticket_type_id",
        "fold",
        "ticket_ref",
    )
    assert schema.priorities == {"0": "Low priority", "1": "Medium priority", "2": "High priority", "3": "Urgent"}
    assert detect_helpdesk(make_client(no_helpdesk)).flavour is HelpdeskFlavour.NONE


def test_enterprise_tickets_carry_the_same_labels_as_the_oca_ones(odoo: OdooClient, enterprise: SandboxServer) -> None:
    client = make_client(enterprise)
    oca_catalog = load_catalog(odoo, detect_helpdesk(odoo))
    catalog = load_catalog(client, detect_helpdesk(client))
    assert [c.name for c in catalog.categories] == [c.name for c in oca_catalog.categories]
    assert "Delivery Issue / Damaged Goods" in {c.name for c in catalog.categories}  # types are flat
    assert (catalog.teams, catalog.tags, catalog.stages) == (oca_catalog.teams, oca_catalog.tags, oca_catalog.stages)
    assert catalog.closed_stage_ids == oca_catalog.closed_stage_ids

    oca_tickets = get_tickets(odoo, oca_catalog, limit=100)
    tickets = get_tickets(client, catalog, limit=100)
    assert len(tickets) == len(oca_tickets) == 43
    for ticket, oca in zip(tickets, oca_tickets, strict=True):
        assert ticket.id == oca.id and ticket.reference == str(oca.id) and oca.reference == f"HT{oca.id:05d}"
        assert ticket.labels.model_dump(exclude={"priority_label"}) == oca.labels.model_dump(exclude={"priority_label"})
        assert (ticket.subject, ticket.customer, ticket.sale_orders) == (oca.subject, oca.customer, oca.sale_orders)

    eta = next(t for t in tickets if t.id == 11)
    assert eta.labels.category is not None and eta.labels.category.name == "Order Status"
    assert eta.labels.team is not None and eta.labels.team.name == "Customer Service"
    assert (eta.labels.priority, eta.labels.priority_label, eta.labels.closed) == ("2", "High priority", False)
    assert {t.name for t in eta.labels.tags} == {"key-account", "backorder"}
    assert [o.name for o in eta.sale_orders] == ["S00024"]


def test_enterprise_tickets_look_like_enterprise_ones(enterprise: SandboxServer) -> None:
    client = make_client(enterprise)
    [ticket] = client.search_read("helpdesk.ticket", [("ticket_ref", "=", "11")], ["display_name", "ticket_type_id"])
    assert ticket["display_name"] == "ETA for 10 Corner Desks - S00024 (#11)"
    assert ticket["ticket_type_id"] == [6, "Order Status"]
    fields = client.fields_get("helpdesk.ticket", ["type", "relation"])
    assert not {"category_id", "number", "channel_id", "closed"} & fields.keys()
    assert "closed" not in client.fields_get("helpdesk.stage", ["type"])
    folded = client.search_read("helpdesk.stage", [("fold", "=", True)], ["name"])
    assert {s["name"] for s in folded} == {"Done", "Cancelled", "Rejected"}


def test_the_copilot_reads_the_enterprise_models_but_cannot_write_them(enterprise: SandboxServer) -> None:
    client = make_client(enterprise)
    for model in ENTERPRISE_MODELS:
        assert client.search_read(model, [], ["display_name"], limit=1), model
    # past the client's allow-list (a gate that lets everything through): the sandbox's own access rules refuse
    odoo = OdooClient(
        SandboxTransport(enterprise, login="copilot", secret="copilot"), gate=lambda model, method, args, kw: None
    )
    for model in ENTERPRISE_MODELS:
        with pytest.raises(OdooAccessDenied, match="not allowed to modify"):
            odoo.execute(model, "write", [1], {"name": "renamed"})
    with pytest.raises(OdooAccessDenied, match="not allowed to modify"):
        odoo.execute("helpdesk.ticket", "write", [11], {"ticket_type_id": 7})


def test_every_relation_points_at_an_enterprise_model() -> None:
    dataset = dataset_for("enterprise")
    assert not set(MODEL_RENAMES) & dataset.fields.keys()
    assert "helpdesk.ticket.channel" not in dataset.fields
    relations = {attrs.get("relation") for fields in dataset.fields.values() for attrs in fields.values()}
    assert not (set(MODEL_RENAMES) | {"helpdesk.ticket.channel"}) & relations
    assert dataset.fields["res.users"]["helpdesk_team_ids"]["relation"] == "helpdesk.team"
    assert dataset.fields["helpdesk.stage"]["team_ids"]["relation"] == "helpdesk.team"
    assert ("helpdesk.ticket", "team_id") in dataset.inverses


def test_the_recorded_dataset_is_the_default_and_stays_unchanged() -> None:
    recorded = load_dataset()
    for derived in ("enterprise", "none"):
        assert dataset_for(derived) is not recorded  # built from it, without changing it
    assert dataset_for("oca") is recorded
    with in_process_sandbox() as server:
        assert server.helpdesk == "oca" and server._backend.dataset is recorded
    category = recorded.records["helpdesk.ticket.category"][8]
    assert (category["name"], category["parent_id"]) == ("Damaged Goods", 7)
    assert dataset_for("enterprise").records["helpdesk.ticket.type"][8]["name"] == "Delivery Issue / Damaged Goods"
    assert recorded.records["helpdesk.ticket"][11]["number"] == "HT00011"
    assert recorded.records["helpdesk.ticket.stage"][4]["closed"] is True
    assert "helpdesk_ticket_ids" in recorded.fields["res.partner"]
    # the models no flavour touches are shared, record for record
    assert dataset_for("enterprise").records["sale.order"] is recorded.records["sale.order"]


def test_no_helpdesk_means_no_helpdesk_model_field_or_chatter(no_helpdesk: SandboxServer) -> None:
    with pytest.raises(OdooNotFound, match=r"Object helpdesk\.ticket doesn't exist"):
        make_client(no_helpdesk).fields_get("helpdesk.ticket", ["type"])
    dataset = dataset_for("none")
    assert not [m for m in dataset.fields if m.startswith("helpdesk.")]
    assert not [
        (model, name)
        for model, fields in dataset.fields.items()
        for name, attrs in fields.items()
        if str(attrs.get("relation", "")).startswith("helpdesk.") or name.startswith("helpdesk_")
    ]
    assert not [m for m in dataset.records["mail.message"].values() if m.get("model") == "helpdesk.ticket"]
    assert all("helpdesk_ticket_ids" not in p for p in dataset.records["res.partner"].values())


def test_reset_keeps_the_flavour(enterprise: SandboxServer) -> None:
    with in_process_sandbox(helpdesk="none") as server:
        server.reset()
        assert server.helpdesk == "none"
        assert detect_helpdesk(make_client(server)).flavour is HelpdeskFlavour.NONE
    with pytest.raises(ValueError, match="helpdesk must be one of"):
        SandboxServer(helpdesk="zendesk")  # type: ignore[arg-type]


def test_the_cli_serves_the_configured_helpdesk(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("COPILOT_SANDBOX_HELPDESK", "enterprise")
    result = runner.invoke(app, ["odoo", "tickets", "--open"])
    assert result.exit_code == 0, result.output
    assert "helpdesk tickets (enterprise_helpdesk)" in result.output
    as_json = runner.invoke(app, ["odoo", "tickets", "--open", "--json"])
    eta = next(t for t in json.loads(as_json.stdout) if t["id"] == 11)
    assert (eta["reference"], eta["labels"]["category"]["name"]) == ("11", "Order Status")

    monkeypatch.setenv("COPILOT_SANDBOX_HELPDESK", "none")
    from copilot.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["odoo", "tickets"])
    assert result.exit_code == 1
    assert "no Helpdesk app" in result.output

    monkeypatch.setenv("COPILOT_SANDBOX_HELPDESK", "jira")
    get_settings.cache_clear()
    result = runner.invoke(app, ["odoo", "tickets"])
    assert result.exit_code == 2 and "COPILOT_SANDBOX_HELPDESK" in result.output


def test_the_sandbox_command_has_a_helpdesk_option() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--helpdesk" in result.output and "enterprise" in result.output
