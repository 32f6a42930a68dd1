"""The subject of an emailed answer reflects the question's subject only in a safe form: no link or address
survives (not even obfuscated), and phishing phrasing (password, re-login, verify your account...) in any
spelling gives a neutral subject instead, so the copilot never mails an attacker's lure under its own name."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.email.smtp import NEUTRAL_SUBJECT, build_reply, reply_subject
from copilot.state import Database

REVIEW = "your Odoo password expires - re-login at https://odoo-login.example.net/web/login?db=prod"


def reply(subject: str) -> str:
    message = build_reply(
        to="buyer@yourcompany.example.com", from_addr="copilot@yourcompany.example.com", subject=subject,
        body="answer", message_id="<q1@yourcompany.example.com>", references=None,
    )  # fmt: skip
    return str(message["Subject"])


def test_the_reviews_subject_is_not_reflected() -> None:
    subject = reply(REVIEW)
    assert subject == NEUTRAL_SUBJECT
    for lure in ("password", "login", "https", "odoo-login", "example.net"):
        assert lure not in subject.lower()


@pytest.mark.parametrize(
    "subject",
    [
        "Your Odoo pass word expires today",
        "Odoo: p@ssw0rd expiry",
        "Please log in again to keep access",
        "Sign-in required for your mailbox",
        "Verify your account within 24 h",
        "Confirm your identity",
        "Votre mot de passe expire",
        "Ihr Passwort läuft ab",
        "Su contraseña caduca",
        "Uw wachtwoord verloopt",
        "Your раssword expires",  # Cyrillic р and а
        "Ｐａｓｓｗｏｒｄ reset",  # fullwidth
        "Account suspended - act now",
        "h t t p s : / / odoo-login . example . net",
        "Re: RE: Fwd: re-login needed",
        "pass\u200bword update",  # a zero-width space inside the word
    ],
)
def test_phishing_phrasing_in_any_spelling_gives_the_neutral_subject(subject: str) -> None:
    assert reply(subject) == NEUTRAL_SUBJECT


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Late orders for Wood Corner?", "Re: Late orders for Wood Corner?"),
        ("Re: Late orders for Wood Corner?", "Re: Late orders for Wood Corner?"),
        ("RE: re: Fwd: P00008 price", "Re: P00008 price"),
        ("Stock of chairs, see https://erp.example.com/odoo/action-12", "Re: Stock of chairs, see [link removed]"),
        ("Question on hxxps://evil[.]example[.]com/x", "Re: Question on [link removed]"),
        ("Lead time per www.vendor.example", "Re: Lead time per [link removed]"),
        ("Ask jane.doe@customer.example about S00024", "Re: Ask [link removed] about S00024"),
        ("Numbers for vendor.example.org/report please", "Re: Numbers for [link removed] please"),
        ("Lieferung für Bestellung P00012", "Re: Lieferung für Bestellung P00012"),
        ("Quotation for Gemini Furniture", "Re: Quotation for Gemini Furniture"),
        ("Was P00009 delivered on time?", "Re: Was P00009 delivered on time?"),
        ("Question about invoice INV/2026/0012", "Re: Question about invoice INV/2026/0012"),
        ("", NEUTRAL_SUBJECT),
        ("https://odoo-login.example.net", NEUTRAL_SUBJECT),
    ],
)
def test_other_subjects_are_reflected_without_links(subject: str, expected: str) -> None:
    assert reply(subject) == expected


def test_control_and_bidi_characters_go_and_a_long_subject_is_cut() -> None:
    subject = reply("Order \u202eP00008\u202c status\r\n" + " word" * 100)
    assert "\u202e" not in subject and "\r" not in subject and "\n" not in subject
    assert len(subject) <= 80 and subject.startswith("Re: Order P00008 status word") and subject.endswith("…")


def test_a_subject_in_another_script_is_not_reflected() -> None:
    assert reply_subject("Заказ P00008") == NEUTRAL_SUBJECT  # homoglyphs cannot be ruled out: neutral


def test_the_email_channel_mails_no_lure_back(tmp_path: Path) -> None:
    """End to end: a question from a staff-domain address with the review's subject, through the router."""
    from channels.email.notify import Outbox, OutboxNotifier
    from channels.email.router import EmailRouter
    from copilot.config import load_settings
    from copilot.email import parse_email
    from copilot.service import open_copilot

    raw = (
        "From: Nobody <nobody@yourcompany.example.com>\r\nTo: copilot@yourcompany.example.com\r\n"
        f"Subject: {REVIEW}\r\nMessage-ID: <lure@yourcompany.example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nWhich Wood Corner orders are late?\r\n"
    ).encode()
    settings = load_settings(
        data_dir=tmp_path, internal_domains="yourcompany.example.com", mail_from="copilot@yourcompany.example.com"
    )
    outbox = Outbox(Database.open())
    with open_copilot(settings) as copilot:
        router = EmailRouter(settings, copilot, OutboxNotifier(outbox), outbox)
        outcome = router.route("lure-1", parse_email(raw))
    (delivery,) = outcome.deliveries
    sent = outbox.data(delivery.id)["message"]
    assert delivery.text == NEUTRAL_SUBJECT and f"Subject: {NEUTRAL_SUBJECT}" in sent
    assert "login" not in sent.lower() and "example.net" not in sent and "password" not in sent.lower()
