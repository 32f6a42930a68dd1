"""PII redaction: personal data out of logs and audit records, business numbers kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from copilot.guardrails.log_redaction import PiiRedactingFilter, install_log_redaction, uninstall_log_redaction
from copilot.guardrails.pii import find_pii, is_luhn_valid, redact, redact_obj

# -- what is redacted -------------------------------------------------------------------------------------
REDACTED: list[tuple[str, str]] = [
    ("Write to jane.doe+orders@acme-corp.example.com today", "Write to <EMAIL> today"),
    ("or JANE.DOE@ACME.CO.UK.", "or <EMAIL>."),
    ("reach me at jane [at] acme [dot] com", "reach me at <EMAIL>"),
    ("Call +33 6 12 34 56 78 before noon", "Call <PHONE> before noon"),
    ("mobile 0032 470 12 34 56", "mobile <PHONE>"),
    ("our office (415) 555-2671, fax 415.555.2672", "our office <PHONE>, fax <PHONE>"),
    ("London desk 020 7946 0958", "London desk <PHONE>"),
    ("+44 (0)20 7946 0958 ext", "<PHONE> ext"),
    ("Odoo demo contact (441)-695-2334", "Odoo demo contact <PHONE>"),
    ("Tel:+32 2 123 45 67", "Tel:<PHONE>"),
    ("call me on 0612345678", "call me on <PHONE>"),  # a bare run of digits needs the cue
    ("IBAN: DE89 3704 0044 0532 0130 00 please", "IBAN: <IBAN> please"),
    ("new account gb82west12345698765432.", "new account <IBAN>."),
    ("pay to NL91ABNA0417164300 now", "pay to <IBAN> now"),
    ("card 4111 1111 1111 1111 exp 12/28", "card <CARD> exp 12/28"),
    ("Amex 3782-822463-10005", "Amex <CARD>"),
    ("account number: 12345678, sort code 12-34-56", "account number: <ACCOUNT>, sort code <ACCOUNT>"),
    ("BIC: DEUTDEFF500", "BIC: <BIC>"),
    ("deliver to 221B Baker Street, London", "deliver to <ADDRESS>, London"),
    ("Rue de la Loi 16, 1000 Brussels", "<ADDRESS>, 1000 Brussels"),
    ("Lieferung an Hauptstraße 5", "Lieferung an <ADDRESS>"),
]


@pytest.mark.parametrize(("text", "expected"), REDACTED, ids=[t for t, _ in REDACTED])
def test_personal_data_is_replaced_by_its_placeholder(text: str, expected: str) -> None:
    assert redact(text) == expected


# -- what survives --------------------------------------------------------------------------------------
BUSINESS = """\
Re: P00012 / S00024 - partial shipment

Hello, 40 of the 120 units (FURN_8888, E-COM11) left on 2026-11-26; the rest ships 26.11.2026 or
12/03/2026, latest Dec 3, 2026 at 14:30. Receipt WH/IN/00008, invoice INV/2026/00012 and bill
BILL/2026/00003 for $31,750.00 (EUR 12 500 000 budget; 1,250.50 per unit; 12.5 kg; 3 x 1500).
Tracking 1Z999AA10123456784, USPS 9400 1000 0000 0000 0000 00, FedEx 794612345678,
tracking: 4111111111111111, PRO 4471-2209-86, barcode 5901234123457, lot 20261126-01.
Your refs DA-88213, OW-2026-118, AZ-PO-4471; ticket HT00042; serial 123-456-789-0; qty 10 20 30 40.
Quantities 1000-2000 units, 10:30-12:00, version 18.0, 2 chairs shipped via DHL, prices up 4.5%.
sha256 1f3b5c7a90123456789012345678901234567890abcdef1234567890abcdef12
"""


def test_business_references_dates_amounts_and_tracking_numbers_survive() -> None:
    assert find_pii(BUSINESS) == []
    assert redact(BUSINESS) == BUSINESS


def test_a_message_with_both_keeps_the_business_part_and_loses_the_personal_part() -> None:
    text = (
        "P00012 is late: 40 of 120 FURN_8888 arrive 2026-12-03 (tracking 1Z999AA10123456784). "
        "Questions: sam@woodcorner.example, +1 (623) 853-7197. Pay $1,250.00 to IBAN BE71 0961 2345 6769."
    )
    assert redact(text) == (
        "P00012 is late: 40 of 120 FURN_8888 arrive 2026-12-03 (tracking 1Z999AA10123456784). "
        "Questions: <EMAIL>, <PHONE>. Pay $1,250.00 to IBAN <IBAN>."
    )


def test_checksums_decide_for_ibans_and_cards() -> None:
    assert is_luhn_valid("4111111111111111") and not is_luhn_valid("4111111111111112")
    assert redact("card 4111 1111 1111 1112") == "card 4111 1111 1111 1112"  # fails Luhn: a number, not a card
    assert [s.kind for s in find_pii("IBAN DE89 3704 0044 0532 0130 01")] != ["iban"]  # fails mod-97
    assert redact("9400100000000000000000 and 4000000000000002") == "9400100000000000000000 and <CARD>"


def test_spans_give_kind_offsets_and_the_raw_value() -> None:
    text = "Mail ops@example.com, call +32 2 123 45 67."
    spans = find_pii(text)
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [
        ("email", "ops@example.com"),
        ("phone", "+32 2 123 45 67"),
    ]
    assert [s.placeholder for s in spans] == ["<EMAIL>", "<PHONE>"]
    assert [s.kind for s in find_pii(text, kinds=["phone"])] == ["phone"]


def test_every_phone_and_email_of_the_sandbox_partners_is_redacted() -> None:
    from odoo_sandbox._data import load_dataset

    partners = list(load_dataset().records["res.partner"].values())
    values = [p[f] for p in partners for f in ("email", "phone") if isinstance(p.get(f), str) and p[f]]
    assert len(values) > 60
    dump = json.dumps([{"name": p["name"], "email": p["email"], "phone": p["phone"]} for p in partners])
    redacted = redact(dump)
    assert not [v for v in values if v in redacted]
    assert "Gemini Furniture" in redacted and "Wood Corner" in redacted  # names are kept (not detected as PII)


class _Reply(BaseModel):
    to: str
    body: str
    qty: int
    lines: list[dict[str, object]]


def test_redact_obj_walks_nested_data_and_models() -> None:
    obj = {
        "draft": _Reply(to="a@b.example", body="call 0612345678 about S00024", qty=3, lines=[{"ref": "P00012"}]),
        "contacts": ("x@y.example", {"x@y.example": "+33 6 12 34 56 78"}),
        "amount": 31750.0,
        "ok": True,
        "none": None,
    }
    assert redact_obj(obj) == {
        "draft": {"to": "<EMAIL>", "body": "call <PHONE> about S00024", "qty": 3, "lines": [{"ref": "P00012"}]},
        "contacts": ["<EMAIL>", {"<EMAIL>": "<PHONE>"}],
        "amount": 31750.0,
        "ok": True,
        "none": None,
    }


def test_redact_obj_redacts_every_occurrence_of_a_repeated_value_and_keeps_plain_words() -> None:
    phone = "+33 6 12 34 56 78"
    obj = [{"phone": phone, "note": "plain words"}, {"phone": phone, "note": "plain words"}, phone]
    assert redact_obj(obj) == [{"phone": "<PHONE>", "note": "plain words"}] * 2 + ["<PHONE>"]
    assert redact_obj({"swift": "SWIFT code: DEUTDEFF"}) == {"swift": "SWIFT code: <BIC>"}


# -- logs -------------------------------------------------------------------------------------------------
@pytest.fixture
def redacting(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    install_log_redaction()
    yield caplog
    uninstall_log_redaction()


def test_logs_carry_no_email_phone_or_iban(redacting: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("copilot.test.pii")
    body = "From jane@customer.example: call +1 (941) 284-4875, refund to FR14 2004 1010 0505 0001 3M02 606"
    log.info("draft for %s: %r", "jane@customer.example", {"body": body, "order": "S00024"})
    log.warning("supplier says P00012 ships 2026-12-03, tracking 1Z999AA10123456784")
    try:
        raise ValueError(f"could not parse {body}")
    except ValueError:
        log.exception("failed on %s", "S00024")
    text = redacting.text + "".join(r.getMessage() for r in redacting.records)
    for raw in ("jane@customer.example", "284-4875", "FR14", "1010 0505"):
        assert raw not in text
    assert "<EMAIL>" in text and "<PHONE>" in text and "<IBAN>" in text
    assert "S00024" in text and "P00012 ships 2026-12-03, tracking 1Z999AA10123456784" in text
    assert "ValueError: could not parse From <EMAIL>" in redacting.text  # the traceback is redacted too


def test_the_cli_installs_the_filter_at_startup(caplog: pytest.LogCaptureFixture) -> None:
    from copilot.cli import app

    try:
        result = CliRunner().invoke(app, ["audit", "verify"])
        assert result.exit_code == 0, result.output
        filters = [f for h in logging.getLogger().handlers for f in h.filters]
        assert any(isinstance(f, PiiRedactingFilter) for f in filters)
    finally:
        uninstall_log_redaction()
