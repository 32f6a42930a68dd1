"""Authentication-Results (RFC 8601) read safely: only our own server's verdict, aligned with From, in linear time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.email import parse_email
from copilot.email.auth import authenticate_sender, parse_authentication_results, parse_authserv_ids

OURS = frozenset({"mx.yourcompany.example.com"})
GMAIL = (
    "mx.yourcompany.example.com; dkim=pass header.i=@example.com header.s=s1 header.b=abc; "
    "spf=pass (mx.yourcompany.example.com: domain of a@example.com designates 192.0.2.1 as permitted sender) "
    "smtp.mailfrom=a@example.com; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com"
)


def verdict(header: str, sender: str = "ron.gibson76@example.com") -> str:
    return authenticate_sender([header], sender, OURS).status


def test_a_real_world_header_is_read_with_its_methods_and_properties() -> None:
    parsed = parse_authentication_results(GMAIL)
    assert parsed is not None and parsed.authserv_id == "mx.yourcompany.example.com"
    assert [(r.method, r.result) for r in parsed.results] == [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert parsed.results[1].properties == {"smtp.mailfrom": "a@example.com"}  # the comment is gone
    assert verdict(GMAIL) == "pass"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("mx.yourcompany.example.com; dmarc=pass header.from=example.com", "pass"),
        ("mx.yourcompany.example.com; dmarc=pass", "pass"),  # no header.from: it is about the From domain
        ("mx.yourcompany.example.com; dkim=pass header.d=example.com", "pass"),
        ("mx.yourcompany.example.com; spf=pass smtp.mailfrom=bounce@example.com", "pass"),
        ("mx.yourcompany.example.com; dkim=pass header.d=mailer.example.net", "fail"),  # someone else's signature
        ("mx.yourcompany.example.com; spf=pass smtp.mailfrom=bulk@attacker.example", "fail"),
        ("mx.yourcompany.example.com; dmarc=pass header.from=attacker.example", "fail"),
        ("mx.yourcompany.example.com; dkim=pass header.d=example.com; dmarc=fail header.from=example.com", "fail"),
        ("mx.yourcompany.example.com; dkim=pass header.d=sub.example.com", "fail"),  # strict alignment
        ("mx.yourcompany.example.com; none", "fail"),
        ('mx.yourcompany.example.com; dkim="pass" header.d="example.com"', "pass"),
        ("MX.YourCompany.Example.com 1; DMARC=PASS header.from=EXAMPLE.COM", "pass"),  # case and version
        ("mx.attacker.example; dmarc=pass header.from=example.com", "none"),  # not our server
        ("spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com", "none"),  # no authserv-id
        ("mx.yourcompany.example.com (dmarc=pass); spf=fail smtp.mailfrom=example.com", "fail"),  # comment only
    ],
)
def test_only_an_aligned_pass_from_our_server_authenticates(header: str, status: str) -> None:
    assert verdict(header) == status


def test_the_topmost_header_of_our_server_is_the_one_that_counts() -> None:
    ours = "mx.yourcompany.example.com; dmarc=fail header.from=example.com"
    planted = "mx.yourcompany.example.com; dmarc=pass header.from=example.com"  # written by the sender, below ours
    assert authenticate_sender([ours, planted], "a@example.com", OURS).status == "fail"


def test_headers_come_from_the_message_topmost_first() -> None:
    mail = parse_email(
        "Authentication-Results: mx.yourcompany.example.com;\n dmarc=pass header.from=example.com\n"
        "Authentication-Results: mx.attacker.example; dmarc=pass\n"
        "From: Ron <ron.gibson76@example.com>\nSubject: P00008\n\nhello"
    )
    assert mail.authentication_results == [
        "mx.yourcompany.example.com; dmarc=pass header.from=example.com",
        "mx.attacker.example; dmarc=pass",
    ]
    assert authenticate_sender(mail.authentication_results, mail.from_address, OURS).status == "pass"


def test_not_configured_and_no_sender_are_their_own_verdicts() -> None:
    assert authenticate_sender([GMAIL], "a@example.com", frozenset()).status == "not_configured"
    assert authenticate_sender([GMAIL], None, OURS).status == "no_sender"
    assert parse_authserv_ids(" MX.A.example , mx.b.example,,") == frozenset({"mx.a.example", "mx.b.example"})


def test_a_huge_or_deeply_nested_header_is_read_in_linear_time() -> None:
    for header in (
        "mx.yourcompany.example.com; " + "(" * 200_000 + "dmarc=pass",
        "mx.yourcompany.example.com; " + "dkim=pass header.d=x.example; " * 50_000,
        "mx.yourcompany.example.com; " + '"' * 100_000,
        "x" * 1_000_000,
    ):
        started = time.perf_counter()
        assert verdict(header) in ("fail", "none")
        assert time.perf_counter() - started < 0.2


@settings(max_examples=200, deadline=200)
@given(st.text(alphabet=st.sampled_from(list(' ;=().@"\\\r\nabcdkimspfpass-')), max_size=4000))
def test_any_header_gives_a_verdict_never_an_error(header: str) -> None:
    assert verdict("mx.yourcompany.example.com; " + header) in ("pass", "fail", "none")
