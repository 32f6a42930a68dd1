"""Authorization by principal and use case, never by channel name (issue 17, point 1).

The attacks: an ``Actor`` whose strings say "mailbox", "http", "webhook", "cli" or "email" but that is none of
those principals gains nothing (no skill, no believed Authentication-Results). The benign look-alikes: the real
shared mailbox, API client, webhook source and CLI operator keep exactly what their type and scopes allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.composition import Components
from copilot.config import Settings, load_settings
from copilot.errors import AccessDenied
from copilot.identity import Actor
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.skills.draft_reply import DraftRequest
from copilot.skills.triage import TriageInput
from tests.unit.test_sender_trust import PRICE_BODY, TRUSTED, auth, message, verified

VENDOR = "Ron Gibson <ron.gibson76@example.com>"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("principals"),
        mail_trusted_authserv_ids=TRUSTED,
        rate_limit_per_minute=10_000,
        audit_enabled=False,
    )


@pytest.fixture(scope="module")
def copilot(config: Settings) -> Iterator[Copilot]:
    with odoo_session(config) as odoo:
        yield Copilot(config, odoo, components=Components(config))


def _mail() -> Any:
    return message(VENDOR, PRICE_BODY, headers=auth("example.com"))


# -- attacks: strings that look like a principal are not one -----------------------------------------------
@pytest.mark.parametrize(
    "forged",
    [
        Actor(channel="email", external_id="mailbox:x"),  # a Slack user writing the mailbox's id
        Actor(channel="email", external_id="mailbox:copilot:ron.gibson76@example.com"),
        Actor(channel="http", external_id="U0SLACKUSER"),  # a Slack user whose channel string says "http"
        Actor(channel="webhook", external_id="n8n"),
        Actor(channel="cli", external_id="root"),
    ],
    ids=["mailbox-short", "mailbox-full", "http", "webhook", "cli"],
)
def test_a_forged_actor_without_a_role_may_not_summarize(copilot: Copilot, forged: Actor) -> None:
    with pytest.raises(AccessDenied):
        copilot.summarize(forged, _mail())


def test_a_forged_mailbox_actor_may_not_classify_or_draft(copilot: Copilot) -> None:
    forged = Actor(channel="email", external_id="mailbox:copilot:someone@example.org")
    with pytest.raises(AccessDenied):
        copilot.classify(forged, TriageInput(subject="Broken chair", body="My chair arrived broken."))
    with pytest.raises(AccessDenied):
        copilot.draft(forged, DraftRequest(message="Where is my order?"))


def test_a_slack_user_calling_itself_http_may_not_ask_or_propose(copilot: Copilot) -> None:
    forged = Actor(channel="http", external_id="U0SLACKUSER", email="stranger@example.org")
    with pytest.raises(AccessDenied):
        copilot.ask(forged, "Which purchase orders are late?")
    with pytest.raises(AccessDenied):
        copilot.check(forged, "propose")


def test_a_buyer_whose_actor_says_email_does_not_get_pasted_authentication_results_believed(
    copilot: Copilot,
) -> None:
    """A Slack buyer pasting a vendor mail with our server's 'pass' header, channel string set to 'email'."""
    buyer = copilot.actor_for(channel="slack", external_id="UBUYER", email="mark.brown23@example.com")
    forged = buyer.model_copy(update={"channel": "email"})
    assert verified(copilot.summarize(forged, _mail())) == []


# -- benign look-alikes: the real principals keep what their type and scopes allow ----------------------------
def test_the_real_shared_mailbox_summarizes_and_its_server_headers_are_believed(copilot: Copilot) -> None:
    from copilot.application import SharedMailbox

    mailbox = SharedMailbox.for_sender("copilot", "ron.gibson76@example.com")
    assert verified(copilot.summarize(mailbox, _mail())) == ["price_change:P00008"]


def test_the_real_shared_mailbox_classifies_and_drafts_but_never_asks_or_proposes(copilot: Copilot) -> None:
    from copilot.application import SharedMailbox

    mailbox = SharedMailbox.for_sender("copilot", "someone@example.org")
    for use_case in ("summarize", "classify", "draft", "ingest_supplier_email", "classify_sender"):
        copilot.check(mailbox, use_case)
    for use_case in ("ask", "propose"):
        with pytest.raises(AccessDenied):
            copilot.check(mailbox, use_case)


def test_a_real_api_client_with_its_scope_proposes_and_without_it_does_not(copilot: Copilot) -> None:
    from copilot.application import ServiceClient

    copilot.check(ServiceClient.api("odoo", {"read", "propose"}), "propose")
    with pytest.raises(AccessDenied, match="propose"):
        copilot.check(ServiceClient.api("n8n", {"summarize", "classify"}), "propose")


def test_a_real_api_client_with_the_summarize_scope_summarizes_without_believing_pasted_headers(
    copilot: Copilot,
) -> None:
    from copilot.application import ServiceClient

    summary = copilot.summarize(ServiceClient.api("n8n", {"summarize"}), _mail())
    assert summary.purchase_orders and verified(summary) == []  # a token holder's raw mail is not our server's


def test_a_signed_webhook_source_relays_our_servers_mail_and_the_cli_operator_may_do_everything(
    copilot: Copilot,
) -> None:
    from copilot.application import ServiceClient

    assert verified(copilot.summarize(ServiceClient.webhook("n8n"), _mail())) == ["price_change:P00008"]
    operator = ServiceClient.cli_operator()
    for use_case in ("summarize", "classify", "draft", "ask", "propose"):
        copilot.check(operator, use_case)


def test_a_person_keeps_the_role_from_odoo_on_every_channel(copilot: Copilot) -> None:
    buyer = copilot.actor_for(channel="email", external_id="mark.brown23@example.com", email="mark.brown23@example.com")
    copilot.check(buyer, "ask")
    copilot.check(buyer, "ingest_supplier_email")
    with pytest.raises(AccessDenied, match="draft"):
        copilot.check(buyer, "draft")


def test_the_audit_record_still_names_who_asked(config: Settings, tmp_path: Path) -> None:
    from copilot.application import ServiceClient, SharedMailbox
    from copilot.audit import AuditTrail
    from copilot.state import Database

    with Database.open() as db, odoo_session(config) as odoo:
        audit = AuditTrail.from_settings(config.model_copy(update={"data_dir": tmp_path}), db)
        copilot = Copilot(config, odoo, audit=audit, components=Components(config))
        copilot.summarize(SharedMailbox.for_sender("copilot", "Ron.Gibson76@example.com"), _mail())
        copilot.summarize(ServiceClient.api("n8n", {"summarize"}), _mail())
        with pytest.raises(AccessDenied):
            copilot.summarize(Actor(channel="email", external_id="mailbox:x"), _mail())
        rows = audit.records()
        audit.close()
    who = [(r.channel, r.skill, r.error is None) for r in rows]
    assert ("email", "summarize", True) in who and ("http", "summarize", True) in who
    assert any(r.error and r.actor == "email:mailbox:x" for r in rows)
    assert any(r.actor.startswith("email:mailbox:copilot:") and r.error is None for r in rows)
