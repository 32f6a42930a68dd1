"""Denial of service through MIME: a message of thousands of parts is read up to a cap, and says so."""

from __future__ import annotations

import time

from copilot.email import MAX_MIME_PARTS, parse_email


def _message(parts: int) -> bytes:
    head = (
        "From: Jane <jane@vendor.example>\r\nSubject: P00008 documents\r\nDate: Thu, 3 Dec 2026 09:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nWe confirm P00008 as ordered.\r\n"
    )
    attachment = (
        '--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="n{i}.txt"\r\n\r\nnote {i}\r\n'
    )
    return (head + "".join(attachment.format(i=i) for i in range(parts)) + "--b--\r\n").encode()


def test_ten_thousand_parts_are_read_up_to_the_cap_quickly() -> None:
    """10,000 parts took 15 s; now the first parts are read, the body kept, and the cut is a stated defect."""
    started = time.perf_counter()
    email = parse_email(_message(10_000))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5, f"{elapsed:.2f} s"
    assert "We confirm P00008" in email.text
    assert 0 < len(email.attachments) <= MAX_MIME_PARTS
    assert any("MIME parts" in d and f"{MAX_MIME_PARTS} are" in d for d in email.defects), email.defects


def test_an_ordinary_message_is_not_cut() -> None:
    """A few attachments: all listed, no defect about parts."""
    email = parse_email(_message(5))
    assert [a.name for a in email.attachments] == [f"n{i}.txt" for i in range(5)]
    assert not any("MIME parts" in d for d in email.defects)
