"""Who may do what: Odoo users to roles, per-role allow-lists, rate limits and company scope, through the facade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.composition import Components
from copilot.config import load_settings
from copilot.errors import AccessDenied, ConfigError, RateLimited
from copilot.guardrails.ratelimit import RateLimiter
from copilot.identity import Actor, IdentityResolver, authorize, load_roles_file
from copilot.odoo import company_scope
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from tests.conftest import make_client


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    with odoo_session(load_settings()) as odoo:
        yield odoo


def _copilot(session: Any, tmp_path: Path, roles: str | None = None, **settings: Any) -> Copilot:
    if roles is not None:
        path = tmp_path / "roles.yaml"
        path.write_text(roles, encoding="utf-8")
        settings["roles_file"] = path
    config = load_settings(data_dir=tmp_path, **settings)
    return Copilot(config, session, components=Components(config))


# -- roles from Odoo --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("email", "role", "user_id"),
    [
        ("admin@yourcompany.example.com", "manager", 2),  # Purchase: Administrator
        ("MARK.BROWN23@example.com", "buyer", 6),  # Purchase: User (case does not matter)
        ("manager", "manager", 9),  # an Odoo login works as well as an email
        ("stranger@example.org", None, None),  # no Odoo user: no role
        ("joel.willis63@example.com", None, None),  # a contact, not a user
    ],
)
def test_role_comes_from_the_odoo_users_apps(odoo: Any, email: str, role: str | None, user_id: int | None) -> None:
    actor = IdentityResolver(odoo).resolve(channel="slack", external_id="U1", email=email)
    assert (actor.role, actor.odoo_user_id) == (role, user_id)


def test_roles_file_overrides_odoo_and_names_a_broken_entry(odoo: Any, tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("people:\n  mark.brown23@example.com: customer_service\n", encoding="utf-8")
    actor = IdentityResolver(odoo, load_roles_file(path)).resolve(
        channel="slack", external_id="U1", email="mark.brown23@example.com"
    )
    assert actor.role == "customer_service"
    path.write_text("people:\n  someone@example.com: janitor\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"COPILOT_ROLES_FILE: people\.someone@example\.com\.role"):
        load_roles_file(path)


def test_allow_lists_refuse_skills_outside_the_role() -> None:
    buyer = Actor(channel="slack", external_id="U1", role="buyer")
    authorize(buyer, "ask")
    with pytest.raises(AccessDenied, match="buyer role cannot use 'draft'"):
        authorize(buyer, "draft")
    with pytest.raises(AccessDenied, match="not a known Odoo user"):
        authorize(Actor(channel="slack", external_id="U9"), "ask")
    with pytest.raises(AccessDenied, match="not a known Odoo user"):  # a channel name grants nothing
        authorize(Actor(channel="http", external_id="n8n"), "draft")


# -- the facade ---------------------------------------------------------------------------------------
def test_a_buyer_gets_po_status_but_customer_service_is_refused_purchase_data(session: Any, tmp_path: Path) -> None:
    copilot = _copilot(session, tmp_path, roles="people:\n  agent@example.com: customer_service\n")
    buyer = copilot.actor_for(channel="slack", external_id="UBUYER", email="mark.brown23@example.com")
    answer = copilot.ask(buyer, "what is the status of P00009?")
    assert "P00009" in answer.text and not answer.not_allowed
    agent = copilot.actor_for(channel="slack", external_id="UAGENT", email="agent@example.com")
    refused = copilot.ask(agent, "what is the status of P00009?")
    assert refused.not_allowed and "P00009" not in refused.text and not refused.facts


def test_customer_service_drafts_but_a_stranger_gets_nothing(session: Any, tmp_path: Path) -> None:
    copilot = _copilot(session, tmp_path, roles="people:\n  agent@example.com: customer_service\n")
    agent = copilot.actor_for(channel="slack", external_id="UAGENT", email="agent@example.com")
    draft = copilot.draft(agent, DraftRequest(message="Where is S00024?", customer="Gemini Furniture"))
    assert "S00024" in draft.body
    stranger = copilot.actor_for(channel="slack", external_id="USTRANGER", email="stranger@example.org")
    with pytest.raises(AccessDenied):
        copilot.draft(stranger, DraftRequest(message="Where is S00024?", customer="Gemini Furniture"))


def test_rate_limit_is_per_person_and_channel(session: Any, tmp_path: Path) -> None:
    copilot = _copilot(session, tmp_path, rate_limit_per_minute=2)
    buyer = copilot.actor_for(channel="slack", external_id="UBUYER", email="mark.brown23@example.com")
    for _ in range(2):
        copilot.ask(buyer, "which orders are late?")
    with pytest.raises(RateLimited) as exc:
        copilot.ask(buyer, "which orders are late?")
    assert 0 < exc.value.retry_after <= 60
    same_person_by_mail = buyer.model_copy(update={"channel": "email", "external_id": "mark.brown23@example.com"})
    copilot.ask(same_person_by_mail, "which orders are late?")  # another channel has its own budget


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(1, clock=lambda: now[0])
    limiter.check("slack:U1")
    with pytest.raises(RateLimited):
        limiter.check("slack:U1")
    limiter.check("slack:U2")
    now[0] = 60.0
    limiter.check("slack:U1")


def test_a_person_of_a_company_the_copilot_cannot_read_is_refused(session: Any, tmp_path: Path) -> None:
    roles = "people:\n  chicago@example.com:\n    role: buyer\n    companies: [2]\n"
    copilot = _copilot(session, tmp_path, roles=roles)
    actor = copilot.actor_for(channel="slack", external_id="UCHI", email="chicago@example.com")
    assert actor.company_ids == ()  # the copilot's Odoo user reads company 1 only
    with pytest.raises(AccessDenied, match="no company"):
        copilot.ask(actor, "which orders are late?")


def test_company_scope_reaches_odoo_as_allowed_company_ids(sandbox: Any) -> None:
    admin = make_client(sandbox, "admin", "admin")  # a user of both companies; every order is company 1's
    assert admin.search_count("sale.order", []) > 0
    with company_scope([2]):
        assert admin.search_count("sale.order", []) == 0
        assert admin.search_read("purchase.order", [], ["name"]) == []
    with company_scope([1]):
        assert admin.search_count("sale.order", []) > 0


def test_a_company_outside_the_users_companies_is_refused_as_odoo_does(odoo: Any) -> None:
    """Odoo 18 answers 'Access to unauthorized or invalid companies.' (recorded live); the sandbox agrees."""
    from copilot.errors import OdooAccessDenied

    with company_scope([2]), pytest.raises(OdooAccessDenied, match="unauthorized or invalid companies"):
        odoo.search_count("sale.order", [])


def test_every_request_and_every_refusal_leaves_a_redacted_audit_record(session: Any, tmp_path: Path) -> None:
    from copilot.audit import AuditTrail

    trail = AuditTrail.from_settings(load_settings(data_dir=tmp_path))
    config = load_settings(data_dir=tmp_path)
    copilot = Copilot(config, session, audit=trail, components=Components(config))
    buyer = copilot.actor_for(channel="email", external_id="mark.brown23@example.com", email="mark.brown23@example.com")
    copilot.ask(buyer, "what is the status of P00009? call me on +1 415 555 0134")
    with pytest.raises(AccessDenied):
        copilot.draft(buyer, DraftRequest(message="Where is S00024?"))
    records = trail.records()
    assert [r.skill for r in records] == ["ask", "draft"]
    ask = records[0].model_dump_json()
    assert "purchase.order" in ask  # the Odoo reads it made, with their record ids
    assert "mark.brown23@example.com" not in ask and "555 0134" not in ask
    assert "AccessDenied" in records[1].model_dump_json()
    assert trail.verify().ok


def test_order_status_is_for_roles_that_see_sale_orders(session: Any, tmp_path: Path) -> None:
    copilot = _copilot(session, tmp_path, roles="people:\n  agent@example.com: customer_service\n")
    agent = copilot.actor_for(channel="slack", external_id="UAGENT", email="agent@example.com")
    status = copilot.order_status(agent, "S00024")
    assert status.name == "S00024" and any(line.short for line in status.lines)
    buyer = copilot.actor_for(channel="slack", external_id="UBUYER", email="mark.brown23@example.com")
    with pytest.raises(AccessDenied, match="does not see sale orders"):
        copilot.order_status(buyer, "S00024")
