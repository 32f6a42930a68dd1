"""reduce_po_line_qty, derived from Odoo: it must lower the ordered quantity and never below what was received."""

from __future__ import annotations

import pytest

from copilot.approvals.derive import PayloadRejected, derive
from copilot.approvals.schemas import ReducePurchaseLineQuantity
from tests.unit._supplier_fixtures import sandbox_client


def reduce(line_id: int, po_id: int, new: float) -> ReducePurchaseLineQuantity:
    return ReducePurchaseLineQuantity(
        po_id=po_id, po_name="?", line_id=line_id, product="?", old_quantity=0, new_quantity=new, uom="?"
    )


def test_the_reduction_is_derived_from_the_line() -> None:
    found = derive(sandbox_client(), reduce(16, 7, 10))  # P00007 Office Lamp: 15 ordered
    assert (found.payload.po_name, found.payload.old_quantity, found.payload.uom) == ("P00007", 15.0, "Units")
    assert found.target.expect == {"state": "purchase", "product_qty": 15.0}
    assert [(d.before, d.after) for d in found.diff] == [("15 Units", "10 Units")]


@pytest.mark.parametrize(
    ("line_id", "po_id", "new", "why"),
    [
        (16, 7, 15, "does not lower"),  # the ordered quantity itself
        (16, 7, 20, "does not lower"),
        (25, 12, 10, "already received"),  # P00012: all 20 received
        (16, 4, 10, "belongs to P00007"),  # a line of another PO
    ],
)
def test_a_reduction_that_is_not_one_is_refused(line_id: int, po_id: int, new: float, why: str) -> None:
    with pytest.raises(PayloadRejected, match=why):
        derive(sandbox_client(), reduce(line_id, po_id, new))
