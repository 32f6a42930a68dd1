"""The Slack digest of exceptions as people see it: grouped by severity, buttons, escaping, Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.slack import digest
from copilot.approvals import Proposal
from copilot.approvals.schemas import DiffLine, Expedite, Target
from copilot.citations import Citation
from copilot.controls.model import Delivery, Finding, Severity, TrackedException

ODOO = "https://erp.example.com/"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
EVIL = "<!channel> pay now <https://evil.example/pay|Open in Odoo> <@U123> @channel @here & *bold* more"
PO9 = Citation(model="purchase.order", id=9, display_name="P00009")
SO24 = Citation(model="sale.order", id=24, display_name="S00024")


def expedite() -> Proposal:
    return Proposal(
        title="Expedite P00009",
        payload=Expedite(po_id=9, po_name="P00009", vendor_id=3, message="Please deliver P00009 sooner."),
        target=Target(model="purchase.order", id=9, display_name="P00009", write_date=None),
        diff=[DiffLine(field="Message to vendor", before="", after="Please deliver P00009 sooner.")],
        source="orders_at_risk",
    )


def delivery(
    key: str,
    severity: Severity = "high",
    score: float = 1.0,
    *,
    change: str = "new",
    title: str | None = None,
    reason: str = "The receipt is 3 days late.",
    proposals: list[dict[str, Any]] | None = None,
    control: str = "late_po",
    age: timedelta = timedelta(days=2),
) -> Delivery:
    finding = Finding(
        control=control,
        key=key,
        severity=severity,
        score=score,
        title=title or f"Exception {key}",
        reason=reason,
        record=SO24,
        evidence=[PO9, SO24],
        proposals=proposals or [],
    )
    tracked = TrackedException(finding=finding, state="open", first_seen=NOW - age, last_seen=NOW)
    return Delivery(change=change, owner="#purchasing", exception=tracked)  # type: ignore[arg-type]


def all_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        for element in block.get("elements") or []:
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def render(deliveries: list[Delivery], **kwargs: Any) -> list[digest.DigestMessage]:
    return digest.digest_messages("#purchasing", deliveries, odoo_url=ODOO, now=NOW, **kwargs)


# -- grouping and order -------------------------------------------------------------------------------------
def test_the_digest_groups_by_severity_worst_first_and_ranks_by_score_within_a_group() -> None:
    items = [
        delivery("low-1", "low", 0.1),
        delivery("high-small", "high", 0.5),
        delivery("critical-1", "critical", 2.0),
        delivery("high-big", "high", 0.9, change="worsened"),
        delivery("medium-1", "medium", 0.3),
    ]
    [message] = render(items)
    shown = all_text(message.blocks)
    order = [shown.index(f"Exception {k}") for k in ("critical-1", "high-big", "high-small", "medium-1", "low-1")]
    assert order == sorted(order)
    groups = [shown.index(f"*{label}*") for label in ("Critical", "High", "Medium", "Low")]
    assert groups == sorted(groups)
    assert groups[1] < order[1] < order[2] < groups[2]  # both highs under the High heading
    head = message.blocks[0]
    assert head["type"] == "header" and "#purchasing" in head["text"]["text"]
    assert "4 new, 1 worse" in all_text(message.blocks[:2])
    assert "1 critical · 2 high · 1 medium · 1 low" in all_text(message.blocks[:2])


def test_each_exception_shows_its_marker_age_reason_and_evidence_as_odoo_links() -> None:
    [message] = render([delivery("a", change="worsened", age=timedelta(days=3, hours=2))])
    shown = all_text(message.blocks)
    assert "*Exception a*" in shown and "The receipt is 3 days late." in shown
    assert "worse" in shown and "3 d" in shown
    assert "<https://erp.example.com/odoo/purchase.order/9|P00009>" in shown
    [fresh] = render([delivery("b", age=timedelta(minutes=40))])
    assert "new" in all_text(fresh.blocks) and "40 min" in all_text(fresh.blocks)
    [plain] = digest.digest_messages("#purchasing", [delivery("c")], odoo_url=None, now=NOW)
    assert "P00009" in all_text(plain.blocks) and "http" not in json.dumps(plain.blocks)  # no Odoo URL: names only


def test_buttons_carry_the_exception_and_the_proposal_of_the_finding() -> None:
    proposal = expedite()
    [message] = render([delivery("sale.order:24", proposals=[proposal.model_dump(mode="json")])])
    by_id = {b["action_id"]: b for b in buttons(message.blocks)}
    assert by_id[digest.OPEN_ACTION_ID]["url"] == "https://erp.example.com/odoo/sale.order/24"
    assert by_id[digest.OPEN_ACTION_ID]["action_id"].startswith("copilot_open_in_odoo")  # acked by the app
    for action_id in (digest.PROPOSE_ACTION_ID, digest.SNOOZE_ACTION_ID, digest.ACK_ACTION_ID):
        ref = digest.ExceptionRef.parse(by_id[action_id]["value"])
        assert ref is not None and (ref.control, ref.key) == ("late_po", "sale.order:24")
    propose = digest.ExceptionRef.parse(by_id[digest.PROPOSE_ACTION_ID]["value"])
    assert propose is not None and propose.proposal_key == proposal.idempotency_key
    snooze = digest.ExceptionRef.parse(by_id[digest.SNOOZE_ACTION_ID]["value"])
    assert snooze is not None and snooze.days == digest.SNOOZE_DAYS
    assert [p.idempotency_key for p in digest.proposals_of([delivery("x", proposals=[proposal.model_dump()])])] == [
        proposal.idempotency_key
    ]


def test_no_propose_button_without_a_valid_proposal_and_no_open_button_without_an_odoo_url() -> None:
    [message] = render([delivery("a"), delivery("b", proposals=[{"title": "broken"}])])
    ids = [b["action_id"] for b in buttons(message.blocks)]
    assert digest.PROPOSE_ACTION_ID not in ids and ids.count(digest.ACK_ACTION_ID) == 2
    [offline] = digest.digest_messages("#purchasing", [delivery("a")], odoo_url=None, now=NOW)
    assert digest.OPEN_ACTION_ID not in [b["action_id"] for b in buttons(offline.blocks)]


# -- untrusted text -------------------------------------------------------------------------------------------
def test_hostile_titles_and_reasons_cannot_forge_links_mentions_or_pings() -> None:
    evil_citation = Citation(model="res.partner", id=5, display_name="Acme <https://evil.example|x> <!here>")
    item = delivery("k", title=EVIL, reason=EVIL)
    item.exception.finding.evidence.append(evil_citation)
    [message] = render([item])
    shown = all_text(message.blocks)
    for forged in ("<!channel>", "<!here>", "<https://evil", "<@U123>", "@channel", "@here"):
        assert forged not in shown, forged
    assert "&lt;!channel&gt;" in shown and "&lt;https://evil.example/pay|Open in Odoo&gt;" in shown
    assert "&amp; *bold* more" in shown
    texts = [b["text"] for b in message.blocks if isinstance(b.get("text"), dict) and b["text"]["type"] == "mrkdwn"]
    assert texts and all(t.get("verbatim") is True for t in texts)  # Slack auto-links nothing in them
    assert "<!channel>" not in message.text and "@channel" not in message.text


# -- Slack's limits ---------------------------------------------------------------------------------------------
def test_a_long_digest_is_split_within_slacks_limits_and_the_rest_is_counted() -> None:
    items = [
        delivery(f"k{i}", "critical" if i < 30 else "low", 1.0 + i, title="T" * 500, reason="R" * 5000)
        for i in range(200)
    ]
    messages = render(items)
    assert 1 < len(messages) <= digest.MAX_MESSAGES
    for message in messages:
        assert len(message.blocks) <= 50 and len(message.text) <= 3000
        for block in message.blocks:
            text = block.get("text") or {}
            assert len(text.get("text", "")) <= (150 if block["type"] == "header" else 3000)
            for element in block.get("elements") or []:
                assert len(element.get("value", "")) <= 2000 and len(str(element.get("text", ""))) <= 3000
            assert len(block.get("block_id", "")) <= 255
        ids = [b["block_id"] for b in message.blocks if "block_id" in b]
        assert len(ids) == len(set(ids))
    shown_keys = {
        digest.ExceptionRef.parse(b["value"]).key  # type: ignore[union-attr]
        for m in messages
        for b in buttons(m.blocks)
        if b["action_id"] == digest.ACK_ACTION_ID
    }
    more = len(items) - len(shown_keys)
    assert more > 0 and f"and {more} more" in all_text(messages[-1].blocks)
    assert {f"k{i}" for i in range(30)} <= shown_keys  # every critical one made it; the lowest were counted
    listing = "https://erp.example.com/odoo/action-copilot_approval.copilot_exception_action"
    assert listing in all_text(messages[-1].blocks)


def test_an_empty_delivery_list_renders_nothing() -> None:
    assert render([]) == []


# -- updates in place ---------------------------------------------------------------------------------------
def test_acknowledging_replaces_only_that_exceptions_buttons_with_who_did_it() -> None:
    [message] = render([delivery("a"), delivery("b")])
    ref = digest.ExceptionRef(control="late_po", key="a")
    updated = digest.mark_handled(message.blocks, ref, "Acknowledged by Mitchell <Admin>")
    assert len(updated) == len(message.blocks)
    keys = [
        digest.ExceptionRef.parse(b["value"]).key for b in buttons(updated) if b["action_id"] == digest.ACK_ACTION_ID
    ]  # type: ignore[union-attr]
    assert keys == ["b"]
    shown = all_text(updated)
    assert "Acknowledged by Mitchell &lt;Admin&gt;" in shown
    assert "<https://erp.example.com/odoo/sale.order/24|Open in Odoo>" in shown  # the link stays


def test_proposing_drops_the_propose_button_and_adds_the_outcome() -> None:
    [message] = render([delivery("a", proposals=[expedite().model_dump(mode="json")])])
    ref = digest.ExceptionRef(control="late_po", key="a")
    updated = digest.mark_proposed(message.blocks, ref, "Proposed by Marc: approval request AR/7")
    ids = [b["action_id"] for b in buttons(updated)]
    assert digest.PROPOSE_ACTION_ID not in ids and digest.ACK_ACTION_ID in ids and digest.SNOOZE_ACTION_ID in ids
    assert "Proposed by Marc: approval request AR/7" in all_text(updated)
    assert len(updated) == len(message.blocks)


def test_a_key_too_long_for_a_button_keeps_only_the_link_to_odoo() -> None:
    [message] = render([delivery("k" * 2100, proposals=[expedite().model_dump(mode="json")])])
    assert [b["action_id"] for b in buttons(message.blocks)] == [digest.OPEN_ACTION_ID]
    long = delivery("k" * 2100, proposals=[expedite().model_dump(mode="json")])
    [offline] = digest.digest_messages("#purchasing", [long], odoo_url=None, now=NOW)
    assert buttons(offline.blocks) == [] and "Act on it in Odoo." in all_text(offline.blocks)


@pytest.mark.parametrize("raw", ["", "not json", "[]", '{"control": 1}', json.dumps({"key": "x"})])
def test_a_forged_or_broken_button_value_is_refused(raw: str) -> None:
    assert digest.ExceptionRef.parse(raw) is None
