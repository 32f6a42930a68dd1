"""The mail router only decides where mail goes (issue 17, point 1): every Odoo read runs in the facade's use
cases (principal, company scope, audit record), and the headers it needs come parsed on ``InboundEmail``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.email.router import EmailRouter
from copilot.application import Outbox, OutboxNotifier
from copilot.audit import AuditTrail
from copilot.composition import Components
from copilot.config import load_settings
from copilot.email import InboundEmail, parse_email
from copilot.odoo.session import odoo_session
from copilot.service import Copilot
from copilot.state import Database

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
INTERNAL = "yourcompany.example.com"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Copilot, AuditTrail, Database]]:
    folder = tmp_path_factory.mktemp("router")
    settings = load_settings(_env_file=None, data_dir=folder, internal_domains=INTERNAL, rate_limit_per_minute=10_000)
    with Database.open() as db, odoo_session(settings) as odoo:
        audit = AuditTrail.from_settings(settings, db)
        yield Copilot(settings, odoo, audit=audit, db=db, components=Components(settings)), audit, db
        audit.close()


def router(env: tuple[Copilot, AuditTrail, Database]) -> tuple[EmailRouter, Outbox]:
    copilot, _, db = env
    outbox = Outbox(db)
    return EmailRouter(copilot.settings, copilot, OutboxNotifier(outbox), outbox), outbox


def staff(subject: str, body: str, **fields: Any) -> InboundEmail:
    """A staff email as the parser hands it over: no raw bytes left for the router to read."""
    return InboundEmail(
        from_address="admin@yourcompany.example.com",
        from_name="Mitchell Admin",
        subject=subject,
        text=body,
        message_id=f"<{abs(hash(subject))}@yourcompany.example.com>",
        **fields,
    )


def test_an_auto_reply_from_a_colleague_is_ignored_from_its_parsed_header(env: Any) -> None:
    r, _ = router(env)
    outcome = r.route("auto", staff("Out of office", "I am away until Monday.", auto_submitted="auto-replied"))
    assert (outcome.kind, outcome.detail) == ("ignored", "auto-submitted (auto-replied): no answer to robots")


def test_a_bounce_is_ignored_from_its_parsed_content_type(env: Any) -> None:
    r, _ = router(env)
    bounce = InboundEmail(
        from_address="mailer@mx.example.org",
        subject="Undelivered Mail Returned to Sender",
        text="Delivery to the following recipient failed permanently.",
        content_type="multipart/report",
        report_type="delivery-status",
    )
    assert r.route("bounce", bounce).kind == "ignored"


def test_a_staff_answer_threads_under_the_parsed_references(env: Any) -> None:
    r, outbox = router(env)
    question = staff(
        "Is P00009 late?",
        "Is P00009 late?",
        in_reply_to="<earlier@yourcompany.example.com>",
        references="<root@yourcompany.example.com> <earlier@yourcompany.example.com>",
    )
    outcome = r.route("question", question)
    assert outcome.kind == "question" and outcome.detail.startswith("answered")
    sent = outbox.data(outcome.deliveries[0].id)["message"]
    assert "<root@yourcompany.example.com> <earlier@yourcompany.example.com>" in sent
    assert f"In-Reply-To: {question.message_id}" in sent


def test_a_supplier_email_is_ingested_by_the_mailbox_in_one_audited_use_case(env: Any) -> None:
    _, audit, _ = env
    r, outbox = router(env)
    email = parse_email((EMAILS / "04_p00009_partial_shipment.eml").read_bytes())
    outcome = r.route("supplier", email)
    assert outcome.kind == "supplier" and "P00009" in outcome.detail
    data = outbox.data(outcome.deliveries[0].id)
    assert data["buyers"] == ["admin@yourcompany.example.com"]  # P00009's purchaser, read inside the use case
    records = audit.records(skill="ingest_supplier_email")
    assert [(a.actor.split(":", 2)[:2], a.error) for a in records] == [(["email", "mailbox"], None)]


def test_a_customer_email_is_triaged_and_drafted_by_the_mailbox(env: Any) -> None:
    r, outbox = router(env)
    email = InboundEmail(
        from_address="someone@customer-outside.example",
        subject="Where is my order?",
        text="Hello, my chair has not arrived yet. Can you tell me when it ships?",
    )
    outcome = r.route("customer", email)
    assert outcome.kind == "customer"
    assert outbox.data(outcome.deliveries[0].id)["from"] == "someone@customer-outside.example"


def test_the_facade_classifies_senders_for_the_mailbox_only_within_its_use_cases(env: Any) -> None:
    copilot, _, _ = env
    r, _ = router(env)
    mailbox = r.mailbox_actor("ron.gibson76@example.com")
    assert copilot.classify_sender(mailbox, "ron.gibson76@example.com").kind in ("vendor", "vendor_and_customer")
    assert copilot.classify_sender(mailbox, "someone@customer-outside.example").kind == "unknown"
