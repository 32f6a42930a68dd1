"""Roles are the same on Odoo 18 and 19: from the user form's group fields on 18, from ``has_group`` on 19.

Odoo 19 has no ``sel_groups_*``/``in_group_*`` fields on ``res.users``: a resolver reading them would give every
person role None (an administrator would no longer be a manager). The client's schema map tells the resolver
which source its server has.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copilot.config import load_settings
from copilot.identity import IdentityResolver
from copilot.odoo.session import odoo_session

#: login or email -> role, the same on both versions (users' ids differ: 19 has no "Default User Template")
ROLES: list[tuple[str, str | None]] = [
    ("admin", "manager"),  # Purchase: Administrator
    ("mark.brown23@example.com", "buyer"),  # demo: Purchase: User
    ("manager", "manager"),  # Purchase and Sales: Administrator
    ("copilot", None),  # the copilot's own read-only user has no app level
    ("joel.willis63@example.com", None),  # a portal user acts for nobody
]
SETUPS = [("odoo18", "auto"), ("odoo19", "auto"), ("odoo19", "jsonrpc")]


@pytest.fixture(scope="module", params=SETUPS, ids=["-".join(s) for s in SETUPS])
def odoo(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An in-process sandbox session of each flavour and protocol."""
    flavour, protocol = request.param
    settings = load_settings(sandbox_odoo=flavour, odoo_protocol=protocol, sandbox_keep_writes=False)
    with odoo_session(settings) as session:
        yield session.client


@pytest.mark.parametrize(("who", "role"), ROLES)
def test_same_role_on_18_and_19(odoo: Any, who: str, role: str | None) -> None:
    """Each person gets the role they have on 18."""
    actor = IdentityResolver(odoo).resolve(channel="slack", external_id="U1", email=who)
    assert actor.role == role
