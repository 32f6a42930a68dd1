"""Forwards in the wrappers of the common mail clients and languages (issue 13, point 2).

A colleague's forward of a vendor email keeps its verified change whatever client wrote the wrapper
(Gmail, Outlook desktop and web, Apple Mail, French, German, Spanish, Dutch and Italian clients); the
same wrapper written by an outsider never makes the change verified, even when the outsider's own mail
passed authentication. Attacks and benign look-alikes come in equal numbers: one of each per style.
"""

from __future__ import annotations

import time

import pytest

from copilot.email import InboundEmail, parse_email
from copilot.email.forwarded import find_forward
from copilot.skills.supplier_email.schemas import WarningCode
from tests.unit.test_sender_trust import PRICE_BODY, auth, configured, summarize, verified

STAFF = "Mitchell Admin <admin@yourcompany.example.com>"
OUTSIDER = "Helpful Broker <deals@broker-outside.example>"
VENDOR = "Ron Gibson <ron.gibson76@example.com>"

#: style -> (subject prefix, separator line or "", header lines of the forwarded message)
STYLES: dict[str, tuple[str, str, list[str]]] = {
    "gmail": ("Fwd:", "---------- Forwarded message ---------", ["From: {v}", "Date: Tue, Nov 24, 2026", "To: <b>"]),
    "outlook_desktop": (
        "FW:",
        "-----Original Message-----",
        ["From: {v}", "Sent: Tuesday, November 24, 2026 6:10 AM", "To: <b>", "Subject: P00008 price"],
    ),
    "outlook_web": (
        "FW:",
        "________________________________",
        ["**From:** {v}", "**Sent:** Tuesday, November 24, 2026 6:10 AM", "**To:** <b>", "**Subject:** P00008"],
    ),
    "outlook_no_separator": ("FW:", "", ["From: {v}", "Sent: Tuesday, November 24, 2026 6:10 AM", "To: <b>"]),
    "apple": ("Fwd:", "Begin forwarded message:", ["From: {v}", "Subject: P00008", "Date: 24 November 2026"]),
    "french": (
        "TR :",
        "-------- Message transféré --------",
        ["De : {v}", "Envoyé : mardi 24 novembre 2026 15:10", "À : <b>", "Objet : P00008"],
    ),
    "german": (
        "WG:",
        "---------- Weitergeleitete Nachricht ---------",
        ["Von: {v}", "Gesendet: Dienstag, 24. November 2026", "An: <b>", "Betreff: P00008"],
    ),
    "spanish": (
        "RV:",
        "---------- Mensaje reenviado ---------",
        ["De: {v}", "Enviado: martes, 24 de noviembre de 2026", "Para: <b>", "Asunto: P00008"],
    ),
    "spanish_outlook": (
        "RV:",
        "",
        ["De: {v}", "Enviado el: martes, 24 de noviembre de 2026 15:10", "Para: <b>", "Asunto: P00008"],
    ),
    "dutch": (
        "Doorst:",
        "---------- Doorgestuurd bericht ---------",
        ["Van: {v}", "Verzonden: dinsdag 24 november 2026", "Aan: <b>", "Onderwerp: P00008"],
    ),
    "italian": (
        "I:",
        "---------- Messaggio inoltrato ---------",
        ["Da: {v}", "Inviato: martedì 24 novembre 2026", "A: <b>", "Oggetto: P00008"],
    ),
}


def forward(style: str, outer: str, *, headers: str = "") -> InboundEmail:
    prefix, separator, lines = STYLES[style]
    block = "\n".join(
        line.format(v=VENDOR).replace("<b>", "Mitchell Admin <admin@yourcompany.example.com>") for line in lines
    )
    body = "FYI, see below.\n\n" + (separator + "\n" if separator else "") + block + "\n\n" + PRICE_BODY
    raw = (
        f"{headers}From: {outer}\nTo: purchasing@yourcompany.example.com\nSubject: {prefix} P00008 - price adjustment\n"
        "Date: Tue, 24 Nov 2026 09:10:00 -0800\nMessage-ID: <f@example.com>\n"
        'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n' + body
    )
    return parse_email(raw.encode("utf-8"))


# -- benign: a colleague's authenticated forward --------------------------------------------------------
@pytest.mark.parametrize("style", sorted(STYLES))
def test_an_authenticated_colleagues_forward_keeps_the_vendors_change_verified(style: str) -> None:
    mail = forward(style, STAFF, headers=auth("yourcompany.example.com"))
    assert mail.forwarded and mail.forwarded_from == "ron.gibson76@example.com", style
    assert "$312.50" in mail.text  # the forwarded content is the message, not an old quoted reply
    summary, proposals = summarize(mail, configured())
    assert summary.sender_status == "known_contact", summary.warnings
    assert verified(summary) == ["price_change:P00008"] and proposals == 1
    assert not [w for w in summary.warning_details if w.severity == "critical"], summary.warnings


# -- attacks: the same wrapper written by an outsider -----------------------------------------------------
@pytest.mark.parametrize("style", sorted(STYLES))
def test_an_outsiders_forward_wrapper_never_makes_the_change_verified(style: str) -> None:
    # the outsider's own mail passed DMARC for its own domain: authenticated, but not staff
    mail = forward(style, OUTSIDER, headers=auth("broker-outside.example"))
    summary, proposals = summarize(mail, configured())
    assert verified(summary) == [] and proposals == 0, style
    assert summary.sender_status != "known_contact"
    if mail.forwarded_from:  # when the block is read as a forward, the buyer is told it is only text
        assert WarningCode.FORWARD_NOT_TRUSTED in {w.code for w in summary.warning_details}


# -- the parser -------------------------------------------------------------------------------------------
def test_a_reply_quoting_an_original_message_is_not_a_forward() -> None:
    text = (
        "Thanks, noted.\n\n-----Original Message-----\nFrom: Ron Gibson <ron.gibson76@example.com>\n"
        "Sent: Tuesday, November 24, 2026 6:10 AM\nSubject: P00008\n\nP00008 ships on December 4."
    )
    assert find_forward(text, subject="RE: P00008") is None
    mail = parse_email(f"From: {STAFF}\nSubject: RE: P00008\n\n{text}")
    assert not mail.forwarded and "December 4" in mail.quoted_text and "December 4" not in mail.text


def test_a_wrapper_without_a_sender_line_names_no_forwarded_sender() -> None:
    found = find_forward("---------- Forwarded message ---------\nSubject: x\n\nhello", subject="Fwd: x")
    assert found is not None and found.sender is None


@pytest.mark.parametrize(
    "text",
    [
        "---------- Forwarded message ---------\n" * 3000,
        "From: a@b.example\nSent: x\n" * 5000,
        "Von: " + "a" * 50_000,
        "-" * 50_000 + "\n" + "_" * 50_000,
        ("-----Original Message-----\n" + "From: x\n" * 20) * 300,
    ],
)
def test_the_parser_is_linear_on_hostile_text(text: str) -> None:
    started = time.perf_counter()
    find_forward(text, subject="Fwd: x")
    assert time.perf_counter() - started < 0.5


HTML_FORWARDS = {
    "outlook_html": (
        '<div>FYI</div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">'
        "<b>From:</b> Ron Gibson &lt;ron.gibson76@example.com&gt;<br><b>Sent:</b> Tuesday, November 24, 2026"
        "<br><b>To:</b> Mitchell Admin &lt;admin@yourcompany.example.com&gt;<br><b>Subject:</b> P00008</div>"
    ),
    "gmail_german_html": (
        '<div dir="ltr">FYI<br><br><div class="gmail_quote"><div class="gmail_attr">---------- Weitergeleitete '
        "Nachricht ---------<br>Von: <strong>Ron Gibson</strong> &lt;ron.gibson76@example.com&gt;<br>Datum: "
        "Di., 24. Nov. 2026<br>Betreff: P00008<br></div><br>"
    ),
}


@pytest.mark.parametrize("style", sorted(HTML_FORWARDS))
@pytest.mark.parametrize("outer", [STAFF, OUTSIDER])
def test_html_forwards_are_read_and_trusted_only_from_authenticated_staff(style: str, outer: str) -> None:
    html = HTML_FORWARDS[style] + "<p>" + PRICE_BODY.replace("\n", "<br>") + "</p></div>"
    domain = outer.rsplit("@", 1)[1].rstrip(">")
    raw = (
        f"{auth(domain)}From: {outer}\nSubject: FW: P00008\nDate: Tue, 24 Nov 2026 09:10:00 -0800\n"
        'Content-Type: text/html; charset="utf-8"\n\n<html><body>' + html + "</body></html>"
    )
    mail = parse_email(raw)
    assert mail.forwarded and mail.forwarded_from == "ron.gibson76@example.com" and "$312.50" in mail.text
    summary, proposals = summarize(mail, configured())
    expected = (["price_change:P00008"], 1) if outer == STAFF else ([], 0)
    assert (verified(summary), proposals) == expected
