"""The grounding check: what a draft states must come from the facts or the customer's message."""

from __future__ import annotations

from datetime import date

from copilot.guardrails.grounding import Evidence, check_grounding

FACTS = {
    "order": "S00024",
    "commitment_date": "2026-12-03 10:00:00",
    "lines": [{"product": "Corner Desk Right Sit", "ordered": 10, "delivered": 4}],
    "total": 3200.0,
    "receipt": "WH/IN/00014",
    "tracking": "1Z999AA10123456784",
}
EVIDENCE = Evidence("Where is my order S00024? We need it by Monday.", FACTS, reference_date=date(2026, 11, 26))


def test_a_draft_built_from_the_facts_is_grounded() -> None:
    text = (
        "Your order S00024 is planned for December 3, 2026. 4 of the 10 Corner Desks have shipped "
        "(tracking 1Z999AA10123456784); the order total is $3,200.00. Monday is too early, sorry."
    )
    report = check_grounding(text, EVIDENCE)
    assert report.grounded, report.summary()
    assert report.checked >= 4  # reference, date, tracking, amount (small counts need no source)


def test_invented_references_dates_numbers_and_tracking_are_flagged() -> None:
    text = "Order S00025 ships December 5 with 17 desks, tracking 1Z999AA10123456799, invoice INV/2026/00042."
    report = check_grounding(text, EVIDENCE)
    assert not report.grounded
    assert [(s.kind, s.text) for s in report.unsupported] == [
        ("reference", "S00025"), ("date", "December 5"), ("number", "17"), ("tracking", "1Z999AA10123456799"),
        ("reference", "INV/2026/00042"),
    ]  # fmt: skip


def test_promises_only_a_person_can_make_are_flagged_unless_allowed() -> None:
    text = "We will refund the delivery fee and give you a 10% discount."
    kinds = [s.text for s in check_grounding(text, EVIDENCE).unsupported if s.kind == "promise"]
    assert kinds == ["refund", "discount"]
    lenient = Evidence(FACTS, reference_date=date(2026, 11, 26), allowed_promises=["discount"])
    assert [s.text for s in check_grounding(text, lenient).unsupported if s.kind == "promise"] == ["refund"]


def test_small_counts_read_naturally_without_a_source() -> None:
    assert check_grounding("Please send 2 photos within 2 days.", EVIDENCE).grounded


def test_a_refusal_is_not_a_promise() -> None:
    text = "Shipping charges are not refunded, and we cannot offer a discount on clearance items."
    assert not [s for s in check_grounding(text, EVIDENCE).unsupported if s.kind == "promise"]
    assert [s.text for s in check_grounding("We will refund you.", EVIDENCE).unsupported] == ["refund"]
