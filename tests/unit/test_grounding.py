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


def test_written_dates_and_amounts_in_the_facts_still_ground_a_claim() -> None:
    """The written forms are read only when the cheap indexes miss, and then they count as before."""
    facts = {"note": "Gemini wrote: the backorder ships on December 7, total $8,658.00, 12 of 20 dozen."}
    evidence = Evidence(facts, reference_date=date(2026, 11, 26))
    assert check_grounding("The backorder ships on 2026-12-07 for $8,658.00.", evidence).grounded
    assert check_grounding("It ships on the 7th of December.", evidence).grounded
    invented = check_grounding("It ships on December 9, for $9,100.00.", evidence)
    assert [s.kind for s in invented.unsupported] == ["date", "amount"]


def test_a_claim_the_fields_support_does_not_tokenize_the_facts() -> None:
    """An answer whose dates and numbers are the facts' own ISO dates and numbers is checked without reading
    the facts' written dates (the cost that dominated a question's CPU)."""
    facts = {"name": "P00009", "date_planned": "2026-11-23T10:00:00Z", "amount_total": 12500.0, "note": "June 3"}
    evidence = Evidence(facts, reference_date=date(2026, 11, 26))
    report = check_grounding("P00009 was expected on November 23, 2026, 12,500.00 USD.", evidence)
    assert report.grounded
    assert "dates" not in vars(evidence) and "numbers" not in vars(evidence)
    assert not check_grounding("P00009 was expected on June 4.", evidence).grounded
    assert "dates" in vars(evidence)  # a date the fields lack: the written ones are read ("June 3" is not it)
