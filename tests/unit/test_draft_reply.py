"""Reply drafts over the sandbox: 15+ realistic customer messages, every fact traceable, nothing leaked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import FakeListChatModel
from typer.testing import CliRunner

from copilot.cli import app
from copilot.config import load_settings
from copilot.odoo import OdooClient
from copilot.skills.draft_reply import DraftRequest, ReplyDraft, draft_reply
from copilot.skills.draft_reply.schemas import KbPassage
from odoo_sandbox import RECORDED_AT

AS_OF = RECORDED_AT
_REF = re.compile(r"\b(?:S|P)\d{5}\b|\b(?:INV)/\d{4}/\d{5}\b|\bWH/(?:IN|OUT)/\d{5}\b")

# (message, customer, expected status, expected orders, a phrase the body must contain)
CASES: list[tuple[str, str | None, str, list[str], str]] = [
    ("Hi, where is our order S00024? The desks were due last week.", "Gemini Furniture", "ready", ["S00024"],
     "is late"),
    ("Any news on S00004? We need the lamps for the new office.", "Gemini Furniture", "ready", ["S00004"], "S00004"),
    ("Hello, can you tell me when PO LI-5530 will be delivered?", "Lumber Inc", "ready", ["S00029"], "Large Desk"),
    ("Status of our order DA-88213 please", "Deco Addict", "ready", ["S00030"], "still to ship"),
    ("Three of the conference chairs from S00028 arrived broken, the boxes were crushed.", "The Jackson Group",
     "needs_review", ["S00028"], "photos"),
    ("We got a black desk instead of the white one we ordered on S00006.", "Lumber Inc", "needs_review",
     ["S00006"], "Our policy"),
    ("The delivery for S00021 was incomplete, 2 cabinets are missing.", "Gemini Furniture", "needs_review",
     ["S00021"], "photos"),
    ("I'd like to return two office chairs from S00018.", "Gemini Furniture", "needs_review", ["S00018"], "policy"),
    ("Can you confirm the status of our invoices? Accounting is asking.", "Deco Addict", "ready", [], "INV/2026/"),
    ("Where is order S00028?", "Lumber Inc", "needs_clarification", [], "could not find an order S00028"),
    ("Where is my order S09999?", "Gemini Furniture", "needs_clarification", [], "could not find an order S09999"),
    ("when will my stuff arrive??", None, "needs_clarification", [], "order number"),
    ("Hi, is our order shipped yet?", "Gemini Furniture", "needs_clarification", [], "which one is this about"),
    ("Please update me on OW-2026-118, our site opens soon.", "OpenWood", "ready", ["S00031"], "S00031"),
    ("Is S00003 complete? Julie is waiting for the office chair.", "Ready Mat", "ready", ["S00003"], "S00003"),
    ("S00027 - all arrived, thanks! When is the invoice due?", "Azure Interior", "ready", ["S00027"], "S00027"),
]  # fmt: skip


@pytest.fixture(scope="module")
def passages(tmp_path_factory: pytest.TempPathFactory) -> list[KbPassage]:
    """Policy passages from the shipped sample knowledge base (indexed once)."""
    from copilot.skills.draft_reply.skill import knowledge_passages

    settings = load_settings(data_dir=tmp_path_factory.mktemp("kb"))
    return knowledge_passages(settings, "damaged goods claim photos replacement return policy", k=3)


def _draft(odoo: OdooClient, passages: list[KbPassage], message: str, customer: str | None, **kw: Any) -> ReplyDraft:
    return draft_reply(
        DraftRequest(message=message, customer=customer), client=odoo, settings=load_settings(), as_of=AS_OF,
        passages=passages, **kw,
    )  # fmt: skip


@pytest.mark.parametrize(("message", "customer", "status", "orders", "phrase"), CASES, ids=[c[0][:40] for c in CASES])
def test_customer_messages_get_grounded_drafts_with_citations(
    odoo: OdooClient,
    passages: list[KbPassage],
    message: str,
    customer: str | None,
    status: str,
    orders: list[str],
    phrase: str,
) -> None:
    result = _draft(odoo, passages, message, customer)
    assert result.status == status, (result.status, result.body)
    assert result.orders == orders
    assert phrase.lower() in result.body.lower(), result.body
    assert result.grounding.grounded, result.grounding.summary()
    cited = {c.display_name for c in result.citations} | {message}
    for ref in _REF.findall(result.body):
        assert any(ref in name for name in cited), f"{ref} in the draft has no citation"


def test_another_customers_order_leaks_nothing(odoo: OdooClient, passages: list[KbPassage]) -> None:
    result = _draft(odoo, passages, "Where is order S00028? Has it shipped?", "Lumber Inc")  # The Jackson Group's
    body = result.body.lower()
    for private in ("jackson", "conference chair", "pedal bin", "jg-7781", "delivered"):
        assert private not in body
    assert result.status == "needs_clarification" and result.orders == []
    assert any("belongs to another customer" in q for q in result.open_questions)
    assert all(c.model != "sale.order" for c in result.citations)


def test_a_late_replenishment_suggests_expediting_and_never_promises_a_date(
    odoo: OdooClient, passages: list[KbPassage]
) -> None:
    result = _draft(odoo, passages, "Where are the desks of S00024?", "Gemini Furniture")
    assert result.tone == "apologetic"
    assert [a.action_type for a in result.suggested_actions] == ["expedite"]
    assert "P00009" in result.suggested_actions[0].title
    assert "will confirm a new date" in result.body


def test_an_llm_draft_that_invents_a_date_is_replaced_by_the_template(
    odoo: OdooClient, passages: list[KbPassage]
) -> None:
    invented = {
        "subject": "Your order",
        "body": "Good news: S00024 ships on December 14 with express delivery!",
        "tone": "informative",
    }
    result = _draft(
        odoo, passages, "Where is S00024?", "Gemini Furniture", llm=FakeListChatModel(responses=[json.dumps(invented)])
    )
    assert result.engine == "templates" and "not grounded" in (result.fallback_reason or "")
    assert "December 14" not in result.body and result.grounding.grounded


def test_a_grounded_llm_draft_is_used(odoo: OdooClient, passages: list[KbPassage]) -> None:
    good = {
        "subject": "Re: S00024",
        "body": "Dear Gemini Furniture, the 10 Corner Desk Right Sit on S00024 are still waiting for a supplier "
        "delivery that was due on November 23, 2026. We are chasing it and will come back with a date.",
        "tone": "apologetic",
    }
    result = _draft(
        odoo, passages, "Where is S00024?", "Gemini Furniture", llm=FakeListChatModel(responses=[json.dumps(good)])
    )
    assert result.engine.startswith("llm:") and result.body == good["body"] and result.prompt is not None


def test_an_llm_promising_a_refund_is_not_used(odoo: OdooClient, passages: list[KbPassage]) -> None:
    promise = {
        "subject": "Sorry",
        "body": "We are so sorry about S00028; we will refund the whole order today.",
        "tone": "apologetic",
    }
    result = _draft(odoo, passages, "Chairs from S00028 arrived broken", "The Jackson Group",
                    llm=FakeListChatModel(responses=[json.dumps(promise)]))  # fmt: skip
    assert result.engine == "templates" and "promise 'refund'" in (result.fallback_reason or "")


def test_copilot_draft_prints_the_draft_and_its_citations(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["draft", "--text", "Where is S00024?", "--customer", "Gemini Furniture"])
    assert result.exit_code == 0, result.output
    assert "ready" in result.output and "Re: your order S00024" in result.output
    assert "citations: res.partner Gemini Furniture; sale.order S00024" in " ".join(result.output.split())
    usage = CliRunner().invoke(app, ["draft"])
    assert usage.exit_code == 2 and "give --text or --file" in usage.output


def test_a_tracking_number_is_given_when_odoo_has_one(odoo: OdooClient) -> None:
    """Odoo's delivery app adds carrier_tracking_ref; the sandbox has no delivery app, so it is added here."""
    from copilot.skills.draft_reply.compose import compose
    from copilot.skills.draft_reply.facts import gather
    from copilot.tools.schemas import Ref

    gathered = gather(odoo, DraftRequest(message="Has S00028 shipped?", customer="The Jackson Group"), "status")
    [order] = gathered.orders
    delivery: Ref = order.deliveries[0]
    gathered.pickings[delivery.id] = {
        **gathered.pickings[delivery.id], "carrier_tracking_ref": "1Z999AA10123456784", "carrier_id": [2, "UPS"],
    }  # fmt: skip
    _, body, composed = compose(gathered, "status", [], AS_OF, subject="")
    assert f"Shipment {delivery.name} is with UPS, tracking number 1Z999AA10123456784." in body
    assert any(f.value == "1Z999AA10123456784" and f.citation for f in composed.facts)


def test_an_unidentified_sender_gets_no_order_details(odoo: OdooClient, passages: list[KbPassage]) -> None:
    result = _draft(odoo, passages, "Where is S00028? Please send the delivery details.", None)
    assert result.status == "needs_clarification" and result.orders == []
    assert "conference chair" not in result.body.lower() and "delivered" not in result.body.lower()
    assert "e-mail address we have on file" in result.body
    assert any("not identified" in q for q in result.open_questions)


def test_invisible_characters_do_not_hide_an_order_number(odoo: OdooClient, passages: list[KbPassage]) -> None:
    result = _draft(odoo, passages, "Where is S00\u200b024?", "Gemini Furniture")
    assert result.orders == ["S00024"]


LURES = [
    "Your Odoo password expires today - re-login at https://odoo-login.secure-check.io",
    "Invoice overdue: call +44 20 7946 0991 now to avoid suspension",
    "Verify your account at www.azure-interior-billing.top/verify",
]


@pytest.mark.parametrize("lure", LURES)
def test_a_drafts_subject_never_reflects_a_link_or_a_lure_of_the_sender(
    odoo: OdooClient, passages: list[KbPassage], lure: str
) -> None:
    """The draft goes out under our name: the sender's phishing subject must not come back in it."""
    result = draft_reply(
        DraftRequest(message="Hi, where is S00024?", subject=lure, customer="Gemini Furniture"),
        client=odoo, settings=load_settings(), as_of=AS_OF, passages=passages,
    )  # fmt: skip
    assert result.subject == "Re: your order S00024" or "S00024" in result.subject
    for piece in ("http", "secure-check", "7946", "billing.top", "password", "verify"):
        assert piece not in result.subject.lower()
    written = {"subject": f"Re: {lure}", "body": "Dear Gemini Furniture, S00024 is on its way.", "tone": "informative"}
    llm_draft = draft_reply(
        DraftRequest(message="Hi, where is S00024?", subject=lure, customer="Gemini Furniture"),
        client=odoo, settings=load_settings(), as_of=AS_OF, passages=passages,
        llm=FakeListChatModel(responses=[json.dumps(written)]),
    )  # fmt: skip
    assert "secure-check" not in llm_draft.subject and "7946" not in llm_draft.subject


def test_a_plain_subject_is_still_answered_in_the_same_thread(odoo: OdooClient, passages: list[KbPassage]) -> None:
    result = draft_reply(
        DraftRequest(message="Hi, where is S00024?", subject="Delivery of our desks", customer="Gemini Furniture"),
        client=odoo, settings=load_settings(), as_of=AS_OF, passages=passages,
    )  # fmt: skip
    assert result.subject == "Re: Delivery of our desks"


def test_a_ticket_gives_the_draft_its_subject_on_every_channel(odoo: OdooClient, passages: list[KbPassage]) -> None:
    """HT00011 is "ETA for 10 Corner Desks - S00024": the message alone names no order."""
    request = DraftRequest(message="Any news on the desks?", ticket_id=11)
    result = draft_reply(request, client=odoo, settings=load_settings(), as_of=AS_OF, passages=passages)
    assert result.orders == ["S00024"], result.body
    assert "S00024" in result.subject


def test_an_unknown_customer_is_named_in_words_every_channel_understands(
    odoo: OdooClient, passages: list[KbPassage]
) -> None:
    result = _draft(odoo, passages, "Where is S00024?", "Nobody Inc")
    assert result.orders == []
    assert any("Nobody Inc" in q and "no customer" in q.lower() for q in result.open_questions), result.open_questions
    assert not any("--" in q for q in result.open_questions)  # no CLI flag in what Slack or HTTP users read
    anonymous = _draft(odoo, passages, "Where is S00028?", None)
    assert not any("--" in q for q in anonymous.open_questions), anonymous.open_questions


def test_copilot_draft_adds_its_own_flags_to_the_hint() -> None:
    result = CliRunner().invoke(app, ["draft", "--text", "Where is S00028?"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--customer" in result.output and "--ticket" in result.output
