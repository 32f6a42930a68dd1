"""Which Odoo the sandbox serves: ``odoo18`` (the Odoo 18 recording) or ``odoo19`` (the Odoo 19 recording).

``SandboxServer(odoo="odoo19")`` serves ``data19/`` (built from ``shared/odoo-reference-19`` by
``scripts/build_sandbox_data.py``): 19's field names, records and ids, ``version_info`` 19.0, database
``demo19``, the recorded users with their 19 uids, JSON-RPC errors with ``code`` 0, Odoo 19's group labels in
access errors, and the JSON-2 API (``/json/2/<model>/<method>``, ``_json2``) with one API key per user.
Everything a release changes is here; the ORM emulation is shared.

Not recorded, derived: group membership for ``res.users.has_group``. The 18 recording has each user's groups
(``groups_id`` with implied groups); the 19 one has only explicit ``group_ids`` without their XML ids, so the
19 sandbox gives each login the groups it has in the 18 recording (the scenario created the same users with
the same groups; ``has_group`` of the copilot for Purchase / Administrator is ``false`` in both, as recorded).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from odoo_sandbox._security import SANDBOX_USERS, RpcError, SandboxUser

__all__ = ["ODOO_RELEASES", "RELEASES", "OdooRelease", "Release", "group_xml_ids_18", "release_for"]

OdooRelease = Literal["odoo18", "odoo19"]
ODOO_RELEASES: tuple[str, ...] = get_args(OdooRelease)

#: 18 group ids (the ``sel_groups_*``/``in_group_*`` of the 18 recording) -> the XML ids ``has_group`` takes.
_GROUPS_18: dict[int, str] = {
    1: "base.group_user",
    2: "base.group_erp_manager",
    4: "base.group_system",
    10: "base.group_portal",
    11: "base.group_public",
    21: "sales_team.group_sale_salesman",
    22: "sales_team.group_sale_salesman_all_leads",
    23: "sales_team.group_sale_manager",
    26: "account.group_account_invoice",
    29: "account.group_account_manager",
    46: "stock.group_stock_user",
    47: "stock.group_stock_manager",
    58: "purchase.group_purchase_user",
    59: "purchase.group_purchase_manager",
}

#: Odoo 18 group labels -> Odoo 19's in access errors (recorded: transcript 11, json2 14).
_LABELS_19: dict[str, str] = {
    "Invoicing/Invoicing": "Accounting/Invoicing",
    "Invoicing/Administrator": "Accounting/Administrator",
    "Administration/Settings": "Role/Administrator",
    "User types/Internal User": "Role/User",
    "Extra Rights/Contact Creation": "Contact/Creation",
}
#: Odoo 19 lists more groups for some refusals (recorded: json2 14_write_refused on res.partner).
_PARTNER_GROUPS_19 = "\n".join(
    f"\t- {g}" for g in ("Contact/Creation", "Inventory/Administrator", "Purchase/Administrator", "Sales/Administrator")
)
_GROUP_LINE = re.compile(r"\t- ([^\n]+)")
_GROUP_LINES = re.compile(r"(?:\t- [^\n]*\n)+")  # each line ends at its newline: no backtracking
_INVALID_FIELD = re.compile(r"Invalid field ('[^'\n]*') on model ('[^'\n]*')")


@dataclass(frozen=True)
class Release:
    """What differs between the Odoo versions the sandbox serves."""

    name: OdooRelease
    series: int
    data_dir: str
    db: str
    recorded_at: datetime
    users: tuple[SandboxUser, ...]
    copilot_uid: int
    executor_uid: int
    #: ``error.code`` of a JSON-RPC error answer (18: 200, 19: 0)
    rpc_error_code: int = 200
    json2: bool = False
    #: whether ``db.list`` answers (the recorded 19 server ran with ``list_db = False``)
    list_db: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)

    def relabel(self, error: RpcError) -> RpcError:
        """``error`` as this release words it (group labels, the invalid-field message)."""
        if not self.labels:
            return error
        message = error.message
        if error.name == "odoo.exceptions.AccessError" and "(res.partner) records" in message:
            message = _GROUP_LINES.sub(_PARTNER_GROUPS_19 + "\n", message, count=1)
        else:
            message = _GROUP_LINE.sub(lambda m: "\t- " + self.labels.get(m.group(1), m.group(1)), message)
        message = _INVALID_FIELD.sub(r"Invalid field \1 on \2", message)
        if message == error.message:
            return error
        arguments = [message if a == error.message else a for a in error.arguments]
        return RpcError(error.name, message, arguments)


def _users_19() -> tuple[SandboxUser, ...]:
    """The 18 users with their 19 uids (one less: 19 has no "Default User Template") and an API key each."""
    uids = {"admin": 2, "demo": 5, "portal": 6, "copilot": 7, "manager": 8, "executor": 9}
    return tuple(
        SandboxUser(u.login, u.password, uids[u.login], u.role, api_key=f"sandbox-{u.login}-api-key")
        for u in SANDBOX_USERS
    )


RELEASES: dict[str, Release] = {
    "odoo18": Release(
        name="odoo18",
        series=18,
        data_dir="data",
        db="demo",
        recorded_at=datetime(2026, 11, 26, 16, 5, 5),
        users=SANDBOX_USERS,
        copilot_uid=8,
        executor_uid=10,
    ),
    "odoo19": Release(
        name="odoo19",
        series=19,
        data_dir="data19",
        db="demo19",
        recorded_at=datetime(2026, 12, 3, 8, 21, 15),
        users=_users_19(),
        copilot_uid=7,
        executor_uid=9,
        rpc_error_code=0,
        json2=True,
        list_db=False,
        labels=_LABELS_19,
    ),
}


def release_for(name: str) -> Release:
    """The release called ``name`` (``odoo18`` or ``odoo19``)."""
    if name not in RELEASES:
        raise ValueError(f"odoo must be one of {ODOO_RELEASES}, not {name!r}")
    return RELEASES[name]


def group_xml_ids_18(group_ids: list[int] | tuple[int, ...]) -> frozenset[str]:
    """The XML ids of the 18 recording's group ids (implied groups are already in an 18 ``groups_id``)."""
    return frozenset(_GROUPS_18[g] for g in group_ids if g in _GROUPS_18)
