"""Against a real Odoo 18 or 19: people map to roles from their apps, and company scope is Odoo's own rule."""

from __future__ import annotations

import pytest

from copilot.errors import OdooAccessDenied
from copilot.identity import IdentityResolver
from copilot.odoo import OdooClient, company_scope

pytestmark = pytest.mark.live


#: Odoo's demo user (Marc Demo, mark.brown23@example.com): Purchase, Sales and Inventory user in 18's demo data;
#: only Sales and Inventory in 19's, so the same rules make it customer service there.
DEMO_USER_ROLE = {18: "buyer", 19: "customer_service"}


def test_roles_come_from_the_real_users_apps(live_client: OdooClient, live_series: int) -> None:
    resolver = IdentityResolver(live_client)
    assert resolver.resolve(channel="slack", external_id="U", email="admin").role == "manager"
    demo = resolver.resolve(channel="slack", external_id="U", email="mark.brown23@example.com")
    assert demo.role == DEMO_USER_ROLE[live_series]
    assert resolver.resolve(channel="slack", external_id="U", email="copilot").role is None
    assert resolver.resolve(channel="slack", external_id="U", email="nobody@example.org").odoo_user_id is None


def test_a_company_the_copilot_user_lacks_is_refused_by_odoo(live_client: OdooClient) -> None:
    assert IdentityResolver(live_client).copilot_companies() == (1,)
    with company_scope([1]):
        assert live_client.search_count("sale.order", []) > 0
    with company_scope([2]), pytest.raises(OdooAccessDenied, match="unauthorized or invalid companies"):
        live_client.search_count("sale.order", [])
