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
            "copilot.approval.decision",
    }  # fmt: skip
    assert set(dataset.fields) == expected
    assert dataset.records[APPROVAL_MODEL] == {}
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


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"the recorded Odoo reference is not at {REFERENCE}")
def test_data_is_what_the_build_script_makes_of_the_reference() -> None:
    built = _build_script().build(REFERENCE)
    assert sorted(built) == sorted(p.name for p in DATA.glob("*.json"))
    for name, data in built.items():
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        assert (DATA / name).read_text(encoding="utf-8") == text, f"{name} is stale: run scripts/build_sandbox_data.py"
