"""Exact identity matching (issue 13, point 3): an address is compared whole, never as a LIKE pattern.

``%`` and ``_`` are wildcards of Odoo's ``=ilike`` and ``ilike``, and ``ilike`` matches substrings: an
address such as ``a%@yourcompany.example.com`` resolved to the administrator, and ``5@example.com`` was
taken for an existing customer. Letter case still does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.email.notify import Outbox, OutboxNotifier
from channels.email.router import EmailRouter
from copilot.composition import Components
from copilot.config import load_settings
from copilot.email import parse_email
from copilot.errors import OdooNotFound
from copilot.identity import IdentityResolver
from copilot.odoo import OdooClient
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from copilot.state import Database
from copilot.tools.partner import find_partners
from copilot.tools.sale import sale_order_status
from copilot.tools.stock import product_availability

INTERNAL = "yourcompany.example.com"


@pytest.mark.parametrize(
    ("email", "role", "user_id"),
    [
        ("a%@yourcompany.example.com", None, None),  # a wildcard, not the administrator's address
        ("_dmin@yourcompany.example.com", None, None),
        ("%", None, None),
        ("%@%", None, None),
        ("ADMIN@YourCompany.Example.com", "manager", 2),  # the same address in other letter case
        ("mark.brown23@EXAMPLE.com", "buyer", 6),  # found through the user's partner email
        ("%brown23@example.com", None, None),
    ],
)
def test_identity_compares_addresses_exactly(odoo: OdooClient, email: str, role: str | None, user_id: Any) -> None:
    actor = IdentityResolver(odoo).resolve(channel="email", external_id=email, email=email)
    assert (actor.role, actor.odoo_user_id) == (role, user_id)


def test_partner_lookup_by_address_is_exact_and_case_insensitive(odoo: OdooClient) -> None:
    assert find_partners(odoo, "5@example.com") == []  # brandon.freeman55@example.com is not 5@example.com
    assert find_partners(odoo, "%@example.com") == []
    assert find_partners(odoo, "brandon.freeman5_@example.com") == []
    (found,) = find_partners(odoo, "Brandon.Freeman55@Example.com")
    assert found.email == "brandon.freeman55@example.com"
    assert find_partners(odoo, "Azure")  # a name is still searched by its parts
    assert find_partners(odoo, "%") == []  # and a bare wildcard matches nothing


@pytest.fixture(scope="module")
def copilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copilot]:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("identity"),
        internal_domains=INTERNAL,
        rate_limit_per_minute=10_000,
    )
    with odoo_session(settings) as odoo:
        yield Copilot(settings, odoo, components=Components(settings))


def router(copilot: Copilot, **overrides: Any) -> EmailRouter:
    settings = copilot.settings.model_copy(update=overrides)
    outbox = Outbox(Database.open())
    return EmailRouter(
        settings, Copilot(settings, copilot.odoo, components=copilot.components), OutboxNotifier(outbox), outbox
    )


def raw(sender: str, subject: str, body: str, headers: str = "") -> bytes:
    return (
        f"{headers}From: {sender}\r\nTo: copilot@yourcompany.example.com\r\nSubject: {subject}\r\n"
        f"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\nMessage-ID: <{abs(hash(sender + subject))}@t>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def route(r: EmailRouter, data: bytes) -> Any:
    return r.route("k", parse_email(data))


def test_a_wildcard_sender_on_the_staff_domain_is_refused_not_answered_as_the_administrator(
    copilot: Copilot,
) -> None:
    outcome = route(router(copilot), raw("a%@yourcompany.example.com", "Which orders are late?", "Is P00009 late?"))
    assert outcome.kind == "question" and outcome.detail.startswith("refused")


def test_the_mailbox_knows_vendors_and_customers_by_their_exact_address(copilot: Copilot) -> None:
    mailbox = router(copilot).mailbox_actor("5@example.com")
    assert copilot.classify_sender(mailbox, "5@example.com").kind == "unknown"
    assert copilot.classify_sender(mailbox, "%@example.com").kind == "unknown"
    assert (
        copilot.classify_sender(mailbox, "BRANDON.FREEMAN55@example.com").vendor is True
    )  # Azure Interior sells to us


def test_a_stranger_whose_address_ends_like_a_customers_gets_no_ready_draft(copilot: Copilot, tmp_path: Path) -> None:
    actor = router(copilot).mailbox_actor("5@example.com")
    draft = copilot.draft(
        actor, DraftRequest(message="Hello, where is my order?", subject="my order", sender_email="5@example.com")
    )
    assert draft.customer is None and draft.status != "ready"


def test_an_outsiders_forward_block_reaches_the_buyer_without_a_proposal(copilot: Copilot) -> None:
    body = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ron Gibson <ron.gibson76@example.com>\n"
        "Subject: P00008\nTo: <purchasing@yourcompany.example.com>\n\nWe have to adjust the price of [FURN_8900] "
        "Drawer Black from $280.80 to $312.50 per dozen for P00008.\n"
    )
    outcome = route(router(copilot), raw("Broker <deals@broker-outside.example>", "Fwd: P00008", body))
    assert outcome.kind == "supplier" and "with 0 proposal(s)" in outcome.detail


def test_an_unauthenticated_mail_from_the_staff_domain_is_not_a_staff_forward(copilot: Copilot) -> None:
    body = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ron Gibson <ron.gibson76@example.com>\n"
        "Subject: P00008\nTo: <purchasing@yourcompany.example.com>\n\nWe have to adjust the price of [FURN_8900] "
        "Drawer Black from $280.80 to $312.50 per dozen for P00008.\n"
    )
    r = router(copilot, mail_trusted_authserv_ids="mx.yourcompany.example.com")
    spoofed = route(r, raw("Mitchell Admin <admin@yourcompany.example.com>", "Fwd: P00008", body))
    assert spoofed.kind == "supplier" and "0 proposal(s)" in spoofed.detail
    assert "forwarded by" not in spoofed.detail  # not handled as a colleague's forward
    passed = "Authentication-Results: mx.yourcompany.example.com; dmarc=pass header.from=yourcompany.example.com\r\n"
    genuine = route(r, raw("Mitchell Admin <admin@yourcompany.example.com>", "Fwd: P00008 again", body, passed))
    assert genuine.kind == "supplier" and genuine.detail.startswith("forwarded by admin@yourcompany.example.com")


def test_references_and_product_queries_are_not_patterns_either(odoo: OdooClient) -> None:
    with pytest.raises(OdooNotFound):
        sale_order_status(odoo, "S%")  # not "any sale order"
    assert sale_order_status(odoo, "s00024").name == "S00024"  # letter case still does not matter
    assert product_availability(odoo, "%") == [] and product_availability(odoo, "____") == []
