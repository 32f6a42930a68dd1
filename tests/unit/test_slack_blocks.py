"""What people see in Slack: Block Kit rendering, the ``/copilot`` grammar, retries and refused requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from channels.slack import blocks as ui
from channels.slack.app import dedupe_key
from channels.slack.mount import refusal_reason
from channels.slack.state import SEEN_TTL, SlackState
from channels.slack.text import message_to_email, parse_command, slack_to_plain
from copilot.approvals import Decision, Mode, Proposal, RiskTier
from copilot.approvals.schemas import DiffLine, RescheduleOrderLine, Target
from copilot.citations import Citation
from copilot.guardrails.grounding import GroundingReport
from copilot.service import ProposalOutcome
from copilot.skills.answer import Answer
from copilot.skills.answer.schemas import Intent
from copilot.skills.draft_reply import ReplyDraft
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.supplier_email.schemas import EmailHeader
from copilot.state import Database

ODOO = "https://erp.example.com/"
EVIL = "<!channel> pay now <https://evil.example/pay|click here> <@U123> & more"
PO9 = Citation(model="purchase.order", id=9, display_name="P00009")


def text_of(blocks: list[dict[str, Any]]) -> str:
    out = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        for element in block.get("elements") or []:
            out.append(element["text"]["text"] if isinstance(element.get("text"), dict) else element.get("text", ""))
    return "\n".join(out)


def answer(text: str, citations: list[Citation] | None = None) -> Answer:
    return Answer(
        question="q",
        text=text,
        intent=Intent.PO_STATUS,
        citations=citations or [],
        grounding=GroundingReport(grounded=True, unsupported=[], checked=1),
    )


def proposal(title: str = "Reschedule P00009 Large Desk to 2026-12-03") -> Proposal:
    return Proposal(
        title=title,
        payload=RescheduleOrderLine(
            po_id=9, po_name="P00009", line_id=21, product="Large Desk", old_date=None, new_date=datetime(2026, 12, 3)
        ),
        target=Target(model="purchase.order.line", id=21, display_name="P00009 / Large Desk", write_date=None),
        diff=[DiffLine(field="Expected arrival", before="2026-11-23", after="2026-12-03")],
        source="supplier_email",
    )


# -- escaping and links --------------------------------------------------------------------------------
def test_untrusted_text_cannot_forge_links_mentions_or_channel_pings() -> None:
    summary = SupplierEmailSummary(
        email=EmailHeader(subject=EVIL, from_name=EVIL, from_address="x@evil.example", date=None, message_id=None),
        summary=EVIL,
        warnings=[EVIL],
    )
    shown = text_of(ui.summary_blocks(summary, [proposal(EVIL)], odoo_url=ODOO))
    assert "<!channel>" not in shown and "<https://evil" not in shown and "<@U123>" not in shown
    assert "&lt;!channel&gt;" in shown and "&lt;https://evil.example/pay|click here&gt;" in shown
    assert "&amp; more" in shown
    assert "&lt;!channel&gt;" in text_of(ui.answer_blocks(answer(EVIL)))


def test_citations_link_to_the_odoo_18_record_form_and_kb_chunks_are_only_named() -> None:
    kb = Citation(model="kb.chunk", id=77, display_name="faq.html › Delivery")
    sneaky = Citation(model="res.partner", id=12, display_name="Ready <Mat>|x")
    shown = text_of(ui.answer_blocks(answer("ok", [PO9, kb, sneaky]), odoo_url=ODOO))
    assert "<https://erp.example.com/odoo/purchase.order/9|P00009>" in shown
    assert "faq.html › Delivery" in shown and "kb.chunk" not in shown
    assert "<https://erp.example.com/odoo/res.partner/12|Ready &lt;Mat&gt;¦x>" in shown
    assert "P00009" in text_of(ui.answer_blocks(answer("ok", [PO9]))) and "http" not in text_of(
        ui.answer_blocks(answer("ok", [PO9]))
    )  # no Odoo URL configured: names, no links


def test_open_in_odoo_is_a_url_button_on_the_main_record() -> None:
    blocks = ui.answer_blocks(
        answer("ok", [Citation(model="res.partner", id=3, display_name="Gemini"), PO9]), odoo_url=ODOO
    )
    actions = [b for b in blocks if b["type"] == "actions"]
    assert actions and actions[0]["elements"][0]["url"] == "https://erp.example.com/odoo/purchase.order/9"
    assert actions[0]["elements"][0]["action_id"].startswith(ui.OPEN_IN_ODOO_ACTION_ID)
    assert not [b for b in ui.answer_blocks(answer("ok", [PO9])) if b["type"] == "actions"]


def test_long_results_stay_within_slacks_limits() -> None:
    huge = ReplyDraft(
        status="needs_review",
        subject="Re: order",
        body="x" * 10_000,
        tone="neutral",
        intent="status",
        customer=None,
        orders=[],
        facts=[],
        kb_passages=[],
        citations=[Citation(model="sale.order", id=i, display_name=f"S{i:05d}") for i in range(1, 200)],
        open_questions=["check"] * 50,
        suggested_actions=[],
        grounding=GroundingReport(grounded=True, unsupported=[], checked=0),
        engine="deterministic",
        as_of=date(2026, 11, 26),
    )
    blocks = ui.draft_blocks(huge, odoo_url=ODOO)
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if isinstance(b.get("text"), dict))
    assert "not sent" in text_of(blocks)


def test_a_draft_without_a_known_customer_says_how_to_name_one_in_slack() -> None:
    draft = ReplyDraft(
        status="needs_clarification", subject="Re: S00028", body="Which order?", tone="neutral", intent="status",
        customer=None, orders=[], facts=[], kb_passages=[], citations=[], suggested_actions=[],
        open_questions=["The sender is not identified, so no order detail is in the draft."],
        grounding=GroundingReport(grounded=True, unsupported=[], checked=0), engine="templates",
        as_of=date(2026, 11, 26), needs_customer=True,
    )  # fmt: skip
    assert '/copilot draft <message> --customer "Name"' in text_of(ui.draft_blocks(draft))
    known = draft.model_copy(update={"needs_customer": False})
    assert "--customer" not in text_of(ui.draft_blocks(known))


# -- proposals -------------------------------------------------------------------------------------------
def test_a_proposal_offers_a_propose_button_whose_value_names_the_stored_proposal() -> None:
    block = ui.proposal_block(proposal())
    button = block["accessory"]
    assert button["action_id"] == ui.PROPOSE_ACTION_ID == "copilot_propose"
    assert json.loads(button["value"]) == {"proposal_key": proposal().idempotency_key, "source": "slack"}
    assert len(button["value"]) <= 2000 and "2026-11-23 → 2026-12-03" in block["text"]["text"]


def test_summary_buttons_name_where_the_proposal_is_stored() -> None:
    summary = SupplierEmailSummary(
        email=EmailHeader(subject="P00009", from_name="Soham", from_address=None, date=None, message_id=None),
        summary="Partial shipment.",
    )
    key = proposal().idempotency_key
    values = {
        source: [json.loads(b["accessory"]["value"]) for b in blocks if "accessory" in b]
        for source, blocks in (
            ("slack", ui.summary_blocks(summary, [proposal()])),
            ("email", ui.summary_blocks(summary, [proposal()], source="email")),
        )
    }
    assert values == {
        "slack": [{"proposal_key": key, "source": "slack"}],
        "email": [{"proposal_key": key, "source": "email"}],
    }


def test_an_email_header_names_the_sender_with_the_address_escaped() -> None:
    header = ui.email_header_block("Customer email", from_name=EVIL, from_address="x@evil.example", subject=EVIL)
    shown = text_of([header])
    assert shown.startswith("*Customer email* from &lt;!channel&gt;")
    assert "&lt;x@evil.example&gt;" in shown and "<!channel>" not in shown and "<@U123>" not in shown
    assert ui.sender(None, "a@b.example") == "a@b.example" and ui.sender(None, None) == "unknown sender"
    assert "(no subject)" in text_of([ui.email_header_block("Email", from_name=None, from_address=None, subject="")])
    assert ui.context_block("note") == {"type": "context", "elements": [{"type": "mrkdwn", "text": "note"}]}


def test_the_outcome_says_request_created_or_advisory() -> None:
    decision = Decision(
        mode=Mode.ADVISORY,
        tier=RiskTier.LOW,
        reasons=["expedite is advisory"],
        approvers_needed=0,
        expires_at=datetime.now(UTC),
    )
    advisory = text_of(ui.outcome_blocks(ProposalOutcome(decision=decision), title="Expedite P00009", who="Marc"))
    assert "Advisory only" in advisory and "No approval request" in advisory and "expedite is advisory" in advisory


# -- the /copilot grammar and Slack text -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "verb", "body", "customer", "ref"),
    [
        ("ask which Wood Corner orders are late?", "ask", "which Wood Corner orders are late?", None, None),
        (
            'draft Where is my desk? --customer "Gemini Furniture"',
            "draft",
            "Where is my desk?",
            "Gemini Furniture",
            None,
        ),
        ("status p00012", "status", "p00012", None, "P00012"),
        ("status S00024 --customer Gemini", "status", "S00024", "Gemini", "S00024"),
        ("what's late this week?", "ask", "what's late this week?", None, None),
        ("", "help", "", None, None),
    ],
)
def test_copilot_command_grammar(text: str, verb: str, body: str, customer: str | None, ref: str | None) -> None:
    parsed = parse_command(text)
    assert (parsed.verb, parsed.text, parsed.customer, parsed.ref, parsed.error) == (verb, body, customer, ref, None)


def test_bad_commands_get_a_hint_instead_of_a_guess() -> None:
    assert parse_command("status tomorrow").error and parse_command("draft").error and parse_command("ask").error


def test_slack_formatting_becomes_plain_text() -> None:
    assert slack_to_plain("<@UBOT> is P00009 late? &lt;see <https://x.example|this>&gt; <!here>") == (
        "is P00009 late? <see this>"
    )


def test_only_an_email_file_gives_a_sender_pasted_headers_do_not() -> None:
    pasted = message_to_email({"text": "From: soham.palmer15@example.com\nP00002 ships on December 3"})
    assert pasted.from_address is None and "December 3" in pasted.text
    file = {
        "mode": "email",
        "subject": "Re: P00002",
        "from": [{"address": "soham.palmer15@example.com", "name": "Soham"}],
        "plain_text": "New ship date",
    }
    shared = message_to_email({"text": "", "files": [file]})
    assert (shared.from_address, shared.subject, shared.text) == (
        "soham.palmer15@example.com",
        "Re: P00002",
        "New ship date",
    )


# -- retries and refusals --------------------------------------------------------------------------------
def test_retries_are_recognised_by_event_id_and_trigger_id() -> None:
    event = {"type": "event_callback", "event_id": "Ev1", "event": {}}
    assert dedupe_key(event, {"x-slack-retry-num": ["1"]}) == dedupe_key(event, {}) == "event:Ev1"
    assert dedupe_key({"command": "/copilot", "trigger_id": "1.2"}, {}) == "trigger:1.2"
    assert dedupe_key({"type": "url_verification", "challenge": "c"}, {}) is None


def test_a_key_is_accepted_once_concurrently_and_again_after_the_ttl(tmp_path: Path) -> None:
    state = SlackState(Database.open(f"sqlite:///{tmp_path / 'state.sqlite'}"))
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(state.first_time("event:Ev9"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    assert state.first_time("event:Ev9", now=datetime.now(UTC) + SEEN_TTL + timedelta(seconds=1))
    state.close()


def test_a_refused_request_is_explained_without_its_content() -> None:
    secret, body, now = "s3cret", b"text=hello", 1_700_000_000
    good = "v0=" + hmac.new(secret.encode(), b"v0:1700000000:text=hello", hashlib.sha256).hexdigest()
    headers = {"x-slack-request-timestamp": "1700000000", "x-slack-signature": good}
    assert "unsigned" in refusal_reason({}, body, secret, now=now)
    assert "stale" in refusal_reason(headers, body, secret, now=now + 301)
    assert "mismatch" in refusal_reason(headers, b"text=bye", secret, now=now)
    assert "hello" not in refusal_reason(headers, b"text=hello!", secret, now=now)


def test_socket_mode_needs_the_app_level_token() -> None:
    from channels.slack.socket import run_socket_mode
    from copilot.config import load_settings
    from copilot.errors import ConfigError

    with pytest.raises(ConfigError, match="COPILOT_SLACK_APP_TOKEN"):
        run_socket_mode(load_settings(slack_bot_token="xoxb-1", _env_file=None))
