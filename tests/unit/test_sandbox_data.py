"""The packaged sandbox dataset: small, complete, and what the build script makes of the reference."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from odoo_sandbox import APPROVAL_MODEL
from odoo_sandbox._data import load_dataset

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "odoo_sandbox" / "data"
REFERENCE = REPO.parent / "shared" / "odoo-reference"


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sandbox_data", REPO / "scripts" / "build_sandbox_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dataset_is_small_and_has_every_model() -> None:
    total = sum(path.stat().st_size for path in DATA.glob("*.json"))
    assert total < 2.5e6
    dataset = load_dataset()
    expected = {
        "res.partner", "res.users", "res.company", "product.product", "product.template", "product.category",
        "uom.uom", "purchase.order", "purchase.order.line", "sale.order", "sale.order.line", "stock.picking",
        "stock.move", "stock.quant", "stock.warehouse", "stock.location", "stock.picking.type", "account.move",
        "mail.message", "mail.activity", "helpdesk.ticket", "helpdesk.ticket.team", "helpdesk.ticket.category",
        "helpdesk.ticket.stage", "helpdesk.ticket.tag", "helpdesk.ticket.channel", APPROVAL_MODEL,
            "copilot.approval.decision", "copilot.exception",
    }  # fmt: skip
    assert set(dataset.fields) == expected
    assert dataset.records[APPROVAL_MODEL] == {}
    assert dataset.records["copilot.exception"] == {}
    assert len(dataset.records["mail.message"]) == 254
    assert len(dataset.records["helpdesk.ticket"]) == 43


def test_every_field_has_the_full_fields_get_shape() -> None:
    for model, fields in load_dataset().fields.items():
        for name, attrs in fields.items():
            base = {"name", "string", "type", "store", "readonly", "required", "searchable", "sortable"}
            if attrs.get("selectable") is False:
                continue  # Odoo reports the reified in_group_*/sel_groups_* fields of res.users with fewer keys
            assert base <= set(attrs), f"{model}.{name}"
            if attrs["type"] in ("many2one", "one2many", "many2many"):
                assert attrs.get("relation"), f"{model}.{name}"


@pytest.mark.parametrize(
    ("reference", "data"),
    [(REFERENCE, DATA), (REPO.parent / "shared" / "odoo-reference-19", REPO / "odoo_sandbox" / "data19")],
    ids=["odoo18", "odoo19"],
)
def test_data_is_what_the_build_script_makes_of_the_reference(reference: Path, data: Path) -> None:
    if not reference.is_dir():
        pytest.skip(f"the recorded Odoo reference is not at {reference}")
    built = _build_script().build(reference)
    assert sorted(built) == sorted(p.name for p in data.glob("*.json"))
    for name, content in built.items():
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n"
        assert (data / name).read_text(encoding="utf-8") == text, f"{name} is stale: run scripts/build_sandbox_data.py"


def test_the_odoo19_dataset_has_19s_names_and_version() -> None:
    """data19 is the Odoo 19 recording: ``product_uom_id`` on PO lines, ``group_ids`` on users, version 19."""
    dataset = load_dataset("data19", 7, 9)
    assert dataset.version_info["server_version_info"][0] == 19
    assert "product_uom_id" in dataset.fields["purchase.order.line"]
    assert "product_uom" not in dataset.fields["purchase.order.line"]
    assert "group_ids" in dataset.fields["res.users"]
    assert len(dataset.records["purchase.order"]) == 13
    assert dataset.records["res.users"][9]["login"] == "executor"
