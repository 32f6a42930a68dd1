"""The text vocabulary read the same way everywhere: where the old copies disagreed, the one definition is right.

Each test names the case on which the old copies of a pattern disagreed, what the copy that was wrong did,
and what a user sees now. These run against the modules that use the patterns, not against ``copilot.text``.
"""

from __future__ import annotations

from datetime import date

import pytest

from channels.slack.text import parse_command
from copilot.guardrails.bank_change import find_bank_change
from copilot.guardrails.exfiltration import check_exfiltration
from copilot.guardrails.grounding import Evidence, check_grounding
from copilot.guardrails.pii import find_pii, redact
from copilot.skills.supplier_email import signals

TODAY = date(2026, 12, 3)


# -- Odoo references ------------------------------------------------------------------------------------
def test_purchase_order_past_99999_is_a_reference() -> None:
    """Odoo pads to five digits and keeps counting: P100012 is a PO (``P\\d{5}`` missed it, Slack's {4,6} had it)."""
    assert signals.find_po_refs("Please confirm P100012 and P00012.", signals.compile_po_pattern(None)) == [
        "P100012",
        "P00012",
    ]


def test_slack_status_takes_what_odoo_numbers_and_refuses_what_it_never_does() -> None:
    """Slack accepted P1234 (Odoo never numbers an order so) and refused S1000000, which Odoo does."""
    assert parse_command("status S1000000").error is None
    assert parse_command("status P1234").error is not None
    assert parse_command("status p00012").ref == "P00012"


def test_monthly_vendor_bill_in_a_draft_is_checked_against_the_evidence() -> None:
    """``BILL/2026/12/0007`` (monthly numbering) and ``RBILL/...`` were no reference to grounding: unchecked."""
    evidence = Evidence("Bill BILL/2026/12/0001 is due.", reference_date=TODAY)
    report = check_grounding("Your bill BILL/2026/12/0007 and refund RBILL/2026/12/0002 are paid.", evidence)
    assert {s.text for s in report.unsupported if s.kind == "reference"} == {"BILL/2026/12/0007", "RBILL/2026/12/0002"}
    assert check_grounding("Bill BILL/2026/12/0001 is due.", evidence).grounded


def test_another_customers_ticket_in_a_draft_is_exfiltration() -> None:
    """Grounding knew helpdesk tickets (HT00011), exfiltration did not: another customer's ticket got through."""
    verdict = check_exfiltration("This is the same issue as HT00011.", other_references=["HT00011"])
    assert not verdict.ok
    assert [f.kind for f in verdict.findings] == ["reference"]


# -- e-mail addresses -----------------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["_ops@acme.example.com", "josé@acme.com", "billing%eu@acme.com"])
def test_every_address_is_redacted_whole(address: str) -> None:
    """The PII copy missed ``_ops@`` and ``josé@`` (ASCII letters first); the other copies cut ``billing%``."""
    assert redact(f"Write to {address} today.") == "Write to <EMAIL> today."


def test_a_price_written_with_at_is_not_an_address() -> None:
    """The skills' copy read ``100@3.50`` as an address (a numeric "top-level domain"); PII did not."""
    assert not find_pii("Price: 100@3.50 each", kinds=("email",))


# -- IBAN ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "iban", ["de89 3704 0044 0532 0130 00", "DE89-3704-0044-0532-0130-00", "De89370400440532013000"]
)
def test_a_valid_iban_in_any_case_or_grouping_is_bank_details(iban: str) -> None:
    """Bank-change detection only knew capitals grouped by spaces; PII knew any case and hyphens."""
    assert find_bank_change(f"Kindly settle the invoice to {iban} this week.") is not None


def test_a_mistyped_iban_printed_like_one_is_still_bank_details() -> None:
    """A checksum that fails is still a request to pay elsewhere: the printed shape counts for bank changes."""
    assert find_bank_change("Kindly settle the invoice to GB00 NWBK 6016 1331 9268 19 this week.") is not None
    assert not find_pii("GB00 NWBK 6016 1331 9268 19", kinds=("iban",))  # redaction needs the checksum


def test_an_iban_marked_unchanged_is_no_bank_change() -> None:
    """Unchanged behaviour: the usual IBAN in a signature is not a change."""
    assert find_bank_change("IBAN DE89 3704 0044 0532 0130 00 (unchanged)") is None
