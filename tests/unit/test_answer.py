"""The answer skill on the sandbox: buyer questions grounded and cited, unknown records, follow-ups, the LLM path."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from copilot.config import load_settings
from copilot.odoo import OdooClient
from copilot.skills.answer import CAN_ANSWER, Answer, Intent, answer_question
from copilot.state import ConversationStore, Database
from odoo_sandbox import RECORDED_AT

AS_OF = RECORDED_AT.replace(tzinfo=UTC)
VENDORS = ("Wood Corner", "Azure Interior", "Gemini Furniture", "Deco Addict", "Ready Mat")
PO = re.compile(r"\bP\d{5}\b")


def ask(odoo: OdooClient, question: str, **kwargs: Any) -> Answer:
    return answer_question(question, client=odoo, settings=load_settings(), as_of=AS_OF, **kwargs)


def assert_traceable(answer: Answer) -> None:
    """Grounded, and every PO and vendor the text names is among the citations."""
    assert answer.grounding.grounded, answer.grounding.summary()
    cited = {(c.model, c.display_name) for c in answer.citations}
    for name in set(PO.findall(answer.text)):
        assert ("purchase.order", name) in cited, f"{name} named but not cited"
    for vendor in VENDORS:
        if vendor in answer.text:
            assert ("res.partner", vendor) in cited, f"{vendor} named but not cited"
    for fact in answer.facts:
        assert fact.citation in answer.citations


# -- 20 realistic buyer questions over the sandbox ---------------------------------------------------
@dataclass
class Case:
    question: str
    intent: Intent
    pos: set[str]  # exactly the POs the answer names
    contains: list[str] = field(default_factory=list)


CASES = [
    Case("What's going on with P00012?", Intent.PO_STATUS, {"P00012"}, ["Ready Mat", "Everything was received"]),
    Case("status of P00009", Intent.PO_STATUS, {"P00009"}, ["Gemini Furniture", "12,500.00 USD", "Partial shipment"]),
    Case("Is P00010 late?", Intent.PO_STATUS, {"P00010"}, ["November 21, 2026, 5 days ago", "nothing received yet"]),
    Case("Where is P00007?", Intent.PO_STATUS, {"P00007", "P00004"}, ["Combined delivery"]),
    Case("P00003?", Intent.PO_STATUS, {"P00003"}, ["request for quotation"]),
    Case("which Wood Corner orders are late?", Intent.LATE_POS, {"P00006"}, ["One purchase order from Wood Corner"]),
    Case(
        "Which POs are overdue?",
        Intent.LATE_POS,
        {"P00005", "P00010", "P00002", "P00009", "P00006", "P00007"},
        ["6 purchase orders are late as of November 26, 2026"],
    ),
    Case("Anything late from Gemini Furniture?", Intent.LATE_POS, {"P00002", "P00009"}, ["4 days late"]),
    Case("Is Deco Addict behind schedule?", Intent.LATE_POS, {"P00005"}, ["6 days late", "8,658.00 USD"]),
    Case("What did Gemini last say?", Intent.SUPPLIER_SAID, {"P00009"}, ["Partial shipment", "Soham Palmer"]),
    Case("What did the supplier say about P00006?", Intent.SUPPLIER_SAID, {"P00006"}, ["Tom Ruiz"]),
    Case("Any emails from Ready Mat?", Intent.SUPPLIER_SAID, {"P00004", "P00007"}, ["Combined delivery"]),
    Case("What's the latest supplier email?", Intent.SUPPLIER_SAID, {"P00001"}, ["Willie Burke", "dock"]),
    Case(
        "open POs for FURN_8888",
        Intent.PRODUCT_OPEN_POS,
        {"P00002", "P00004", "P00006", "P00007"},
        ["Office Lamp (FURN_8888)", "20 Units to receive"],
    ),
    Case("Do we have Office Chair on order?", Intent.PRODUCT_OPEN_POS, {"P00001", "P00002", "P00006"}, ["FURN_7777"]),
    Case("When is more Large Desk coming in?", Intent.PRODUCT_OPEN_POS, {"P00009"}, ["20 Dozens to receive"]),
    Case(
        "What's arriving this week?",
        Intent.RECEIPTS_THIS_WEEK,
        {"P00009", "P00006", "P00007", "P00001"},
        ["between November 23, 2026 and November 29, 2026", "3 days late", "1 day late"],
    ),
    Case("Expected receipts next week?", Intent.RECEIPTS_THIS_WEEK, {"P00008", "P00004"}, ["December 1, 2026"]),
    Case("What is Wood Corner delivering this week?", Intent.RECEIPTS_THIS_WEEK, {"P00006", "P00001"}, []),
    Case("Which Azure Interior POs are late?", Intent.LATE_POS, {"P00010"}, ["5 days late"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.question for c in CASES])
def test_buyer_questions_are_answered_grounded_and_cited(odoo: OdooClient, case: Case) -> None:
    answer = ask(odoo, case.question)
    assert answer.intent is case.intent
    assert set(PO.findall(answer.text)) == case.pos, answer.text
    for text in case.contains:
        assert text in answer.text, answer.text
    assert_traceable(answer)
    assert answer.engine == "deterministic" and answer.fallback_reason is None and not answer.can_answer


def test_a_po_that_does_not_exist_is_said_plainly_with_no_invented_data(odoo: OdooClient) -> None:
    answer = ask(odoo, "What's the status of P09999?")
    assert answer.text.startswith("I found no purchase order named P09999")
    assert answer.not_found == ["P09999"]
    assert answer.citations == [] and answer.facts == []
    assert not re.search(r"\d{4}|USD|expected", answer.text.replace("P09999", ""))
    assert answer.grounding.grounded


def test_an_unknown_vendor_is_not_answered_with_everyone_elses_orders(odoo: OdooClient) -> None:
    answer = ask(odoo, "Which Acme Supplies orders are late?")
    assert "I found no vendor matching “Acme Supplies”" in answer.text
    assert not PO.search(answer.text) and answer.citations == []


def test_an_unsupported_question_lists_what_it_can_answer(odoo: OdooClient) -> None:
    answer = ask(odoo, "What was our revenue last quarter?")
    assert answer.intent is Intent.UNSUPPORTED
    assert answer.text.startswith("I can't answer that yet")
    assert answer.can_answer == CAN_ANSWER and all(item in answer.text for item in CAN_ANSWER)
    assert answer.grounding.grounded  # the examples are our own help text, not claims


def test_an_unknown_product_is_reported(odoo: OdooClient) -> None:
    answer = ask(odoo, "open POs for FURN_0000")
    assert answer.intent is Intent.PRODUCT_OPEN_POS
    assert "I found no product matching “FURN_0000”" in answer.text and answer.not_found == ["FURN_0000"]


# -- follow-ups in a thread --------------------------------------------------------------------------
def test_a_follow_up_resolves_it_from_the_thread(odoo: OdooClient) -> None:
    store = ConversationStore(Database.open())
    first = ask(odoo, "what about P00010?", thread="slack:C1:1.1", store=store)
    assert first.entities.purchase_orders == ["P00010"] and not first.resolved_from_thread
    second = ask(odoo, "when will it arrive?", thread="slack:C1:1.1", store=store)
    assert second.resolved_from_thread and second.intent is Intent.PO_STATUS
    assert "P00010" in second.text and "November 21, 2026" in second.text
    assert_traceable(second)
    third = ask(odoo, "and what did the supplier say about it?", thread="slack:C1:1.1", store=store)
    assert third.intent is Intent.SUPPLIER_SAID and "P00010" in third.text
    assert "CRITICAL" in third.text  # the impersonating "Azure Interior Accounts" email is flagged, not relayed
    fourth = ask(odoo, "which of the vendor's orders are late?", thread="slack:C1:1.1", store=store)
    assert fourth.intent is Intent.LATE_POS and "from Azure Interior" in fourth.text
    assert [t.question for t in store.last("slack:C1:1.1", 10)] == [
        first.question,
        second.question,
        third.question,
        fourth.question,
    ]
    other = ask(odoo, "when will it arrive?", thread="slack:C2:2.2", store=store)  # another thread knows nothing
    assert other.text.startswith("Which purchase order do you mean?") and not other.citations


def test_it_after_a_list_asks_which_one(odoo: OdooClient) -> None:
    store = ConversationStore(Database.open())
    ask(odoo, "which Gemini Furniture orders are late?", thread="cli:t", store=store)
    answer = ask(odoo, "when will it arrive?", thread="cli:t", store=store)
    assert answer.text == "Which one do you mean: P00002, P00009?"
    ask(odoo, "what about Wood Corner?", thread="cli:t", store=store)  # keeps the intent, changes the vendor
    assert "P00006" in store.last("cli:t", 1)[0].answer


# -- the LLM path ------------------------------------------------------------------------------------
class ToolCallingFake(GenericFakeChatModel):
    """A scripted chat model that accepts tools (the script decides the tool calls)."""

    model: str = "fake-agent"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolCallingFake:
        return self


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{name}_{next(_ids)}", "type": "tool_call"}


_ids = itertools.count()


def final(text: str) -> AIMessage:
    return AIMessage(content=json.dumps({"answer": text, "references": PO.findall(text)}))


def script(*messages: AIMessage) -> Iterator[AIMessage]:
    return iter(messages)


def test_llm_answer_grounded_in_tool_results_is_accepted(odoo: OdooClient) -> None:
    llm = ToolCallingFake(
        messages=script(
            AIMessage(content="", tool_calls=[call("purchase_order_status", reference="P00010")]),
            final("P00010 from Azure Interior was expected on November 21, 2026; nothing has been received yet."),
        )
    )
    answer = ask(odoo, "When will P00010 arrive?", llm=llm)
    assert answer.engine == "llm:fake-agent" and answer.fallback_reason is None
    assert answer.text.startswith("P00010 from Azure Interior")
    assert answer.tool_calls == [{"name": "purchase_order_status", "args": {"reference": "P00010"}}]
    assert answer.prompt is not None and answer.prompt.name == "answer_agent"
    assert_traceable(answer)


def test_llm_answer_with_an_invented_date_and_po_falls_back(odoo: OdooClient) -> None:
    llm = ToolCallingFake(
        messages=script(
            AIMessage(content="", tool_calls=[call("purchase_order_status", reference="P00010")]),
            final("P00010 ships on December 15, 2026 together with P00011."),
        )
    )
    answer = ask(odoo, "When will P00010 arrive?", llm=llm)
    assert answer.engine == "deterministic"
    assert answer.fallback_reason is not None and answer.fallback_reason.startswith("ungrounded answer")
    assert "December 15" in answer.fallback_reason and "P00011" in answer.fallback_reason
    assert "December 15" not in answer.text and "P00011" not in answer.text
    assert answer.tool_calls  # what the model did is kept for the audit
    assert_traceable(answer)


def test_the_step_bound_stops_a_model_that_keeps_calling_tools(odoo: OdooClient) -> None:
    forever = itertools.repeat(AIMessage(content="", tool_calls=[call("late_purchase_orders")]))
    answer = ask(odoo, "which orders are late?", llm=ToolCallingFake(messages=forever), max_steps=3)
    assert answer.fallback_reason == "step limit: 3 model calls without a final answer"
    assert answer.engine == "deterministic" and "6 purchase orders are late" in answer.text


def test_the_tool_call_bound_stops_a_model_asking_for_many_tools(odoo: OdooClient) -> None:
    burst = AIMessage(content="", tool_calls=[call("find_partner", query="wood") for _ in range(4)])
    answer = ask(odoo, "who is Wood Corner?", llm=ToolCallingFake(messages=itertools.repeat(burst)))
    assert answer.fallback_reason == "tool-call limit: more than 6 tool calls"


def test_the_token_budget_stops_a_long_run(odoo: OdooClient) -> None:
    llm = ToolCallingFake(
        messages=itertools.repeat(AIMessage(content="", tool_calls=[call("purchase_order_status", reference="P00009")]))
    )
    answer = answer_question(
        "status of P00009", client=odoo, settings=load_settings(llm_max_tokens=64), llm=llm, as_of=AS_OF
    )
    assert answer.fallback_reason is not None and answer.fallback_reason.startswith("token budget")


def test_a_model_without_tool_calling_or_with_bad_json_falls_back(odoo: OdooClient) -> None:
    plain = FakeListChatModel(responses=["P00010 is fine."])
    answer = ask(odoo, "status of P00010", llm=plain)
    assert answer.fallback_reason is not None and "does not support tool calling" in answer.fallback_reason
    prose = ToolCallingFake(messages=script(AIMessage(content="It is late, sorry.")))
    answer = ask(odoo, "status of P00010", llm=prose)
    assert answer.fallback_reason is not None and "not JSON" in answer.fallback_reason
    assert answer.text.startswith("P00010 from Azure Interior is confirmed")


def test_tool_errors_reach_the_model_which_can_still_answer(odoo: OdooClient) -> None:
    llm = ToolCallingFake(
        messages=script(
            AIMessage(content="", tool_calls=[call("purchase_order_status", reference="P09999")]),
            final("Odoo has no purchase order named P09999."),
        )
    )
    answer = ask(odoo, "status of P09999", llm=llm)
    assert answer.engine == "llm:fake-agent" and answer.citations == []


# -- the command -------------------------------------------------------------------------------------
def test_ask_command_prints_the_answer_and_its_sources() -> None:
    import typer

    from copilot.cli import _ask

    app = typer.Typer()
    app.command("ask")(_ask.ask)
    app.command("noop")(lambda: None)  # two commands, so "ask" stays a subcommand
    runner = CliRunner()
    result = runner.invoke(app, ["ask", "which Wood Corner orders are late?", "--thread", "cli:test"])
    assert result.exit_code == 0, result.output
    assert "P00006 from Wood Corner" in result.output
    assert "purchase.order 6" in result.output and "res.partner 9" in result.output
    follow = runner.invoke(app, ["ask", "when will it arrive?", "--thread", "cli:test", "--json"])
    assert follow.exit_code == 0, follow.output
    data = json.loads(follow.stdout[follow.stdout.index("{") :])
    assert data["resolved_from_thread"] is True and data["entities"]["purchase_orders"] == ["P00006"]
    assert {"model": "purchase.order", "id": 6, "display_name": "P00006"} in data["citations"]
