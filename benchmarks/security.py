"""Denial-of-service figures: the extractors on hostile text, a many-part email, /healthz under attack.

Run: ``python -m benchmarks.security [--size 50000] [--emails 10] [--cap 20]``. Offline, on the embedded
sandbox with the deterministic engine. Three parts:

- the worst time of each extractor and detector over hostile inputs of ``--size`` characters (runs of digits,
  separators, repeated tokens, each the shape that made an old regex quadratic); goal < 200 ms each. A call
  past ``--cap`` seconds is stopped (SIGALRM) and shown as ``> cap``;
- parsing an email of 10,000 MIME parts;
- ``/healthz`` latency (p50, p99, max) polled every 10 ms while the service (uvicorn in its own process on
  a loopback port) summarizes ``--emails`` such hostile emails; goal p99 < 50 ms.

Model loads are excluded (one warm-up email first).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from channels.slack.text import parse_command, slack_to_plain
from copilot.email import InboundEmail, html_to_text, parse_email, split_quoted
from copilot.guardrails.exfiltration import check_exfiltration, find_urls
from copilot.guardrails.injection import detect_injection
from copilot.guardrails.pii import find_pii, redact
from copilot.skills.draft_reply.facts import detect_intent
from copilot.skills.supplier_email import signals
from copilot.skills.supplier_email.extract import extract
from copilot.text.values import find_dates, find_money

GOAL_EXTRACTOR_MS = 200.0
GOAL_HEALTHZ_P99_MS = 50.0


def hostile_inputs(size: int) -> dict[str, str]:
    """Inputs of ``size`` characters in each class that broke a regex: runs of digits, separators, tokens."""
    return {
        "digits": "1" * size,
        "money tail": "$" + "1" * (size // 2) + "." + "1" * (size // 2),
        "thousands": "1" + ",111" * (size // 4),
        "quantity lines": "1 x " * (size // 4) + "@",
        "percent": "prices increase by " + "1" * size,
        "hyphens": "a-" * (size // 2),
        "newlines": "\n" * size + "1",
        "keyword + spaces": "ignore" + " " * size + "x",
        "label + spaces": "our account invoice" + " " * size + "x",
        "references": "PRO" * (size // 3),
        "underscores": "_" * size,
        "tags": "<a" * (size // 2),
    }


def _email(text: str) -> InboundEmail:
    return InboundEmail(from_address="someone@example.com", subject="PO P00008", text=text, quoted_text=text)


EXTRACTORS: dict[str, Callable[[str], Any]] = {
    "find_money": find_money,
    "find_dates": lambda t: find_dates(t, date(2026, 12, 3)),
    "supplier extract (rules)": lambda t: extract(_email(t)),
    "other_references": lambda t: signals.other_references(t, signals.compile_po_pattern(None)),
    "bank_change": signals.bank_change,
    "detect_injection (rules)": lambda t: detect_injection(t, source="email", use_embeddings=False),
    "find_pii": find_pii,
    "redact": redact,
    "find_urls": find_urls,
    "check_exfiltration": lambda t: check_exfiltration(t, evidence_texts=[t[:2000]]),
    "html_to_text": html_to_text,
    "split_quoted": split_quoted,
    "detect_intent": detect_intent,
    "slack text": lambda t: parse_command(slack_to_plain(t)),
}


class _Stopped(BaseException):  # not swallowed by an extractor's "except Exception"
    pass


@contextmanager
def _cap(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bench_extractors(size: int, cap: float) -> None:
    """Print each extractor's worst time over the hostile inputs."""
    inputs = hostile_inputs(size)
    print(f"extractors on {size // 1000} KB hostile inputs ({len(inputs)} classes), goal < {GOAL_EXTRACTOR_MS:.0f} ms:")
    for name, fn in EXTRACTORS.items():
        worst, worst_case, stopped = 0.0, "", False
        for case, text in inputs.items():
            started = time.perf_counter()
            try:
                with _cap(cap):
                    fn(text)
            except _Stopped:
                stopped = True
            elapsed = (time.perf_counter() - started) * 1000
            if elapsed > worst:
                worst, worst_case = elapsed, case
        shown = f"> {cap * 1000:.0f}" if stopped else f"{worst:.1f}"
        verdict = "ok" if worst < GOAL_EXTRACTOR_MS and not stopped else "OVER"
        print(f"  {name:<26} worst {shown:>8} ms  ({worst_case})  {verdict}")


def bench_css(rules: int = 2_000, elements: int = 48_000) -> None:
    """Print the time to read an HTML body whose style sheet files ``rules`` rules under one class."""
    html = "<style>" + ".c{display:none}" * rules + "</style>" + "<div class=c>x</div>" * elements
    started = time.perf_counter()
    html_to_text(html)
    elapsed = time.perf_counter() - started
    print(f"HTML of {len(html) // 1000} KB, {rules} rules on one class x {elements} elements: {elapsed * 1000:.0f} ms")


def bench_mime(parts: int = 10_000) -> None:
    """Print the time to read an email of ``parts`` attachment parts."""
    head = (
        "From: a@vendor.example\r\nSubject: P00008\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    )
    part = '--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="n{i}.txt"\r\n\r\nx\r\n'
    raw = (head + "".join(part.format(i=i) for i in range(parts)) + "--b--\r\n").encode()
    started = time.perf_counter()
    email = parse_email(raw)
    elapsed = time.perf_counter() - started
    print(f"email of {parts} MIME parts: read in {elapsed * 1000:.0f} ms, {len(email.attachments)} attachments listed")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_healthz(size: int, emails: int, data_dir: Path) -> None:
    """Serve the app with uvicorn in its own process on loopback; poll /healthz while hostile emails are
    summarized. The server is a separate process so that its GIL stalls are not the prober's."""
    token = secrets.token_hex(16)  # a throwaway client for this run
    port = _free_port()
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(data_dir),
        "COPILOT_API_TOKENS": f"bench:{token}:*",
        "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
    }
    command = [sys.executable, "-m", "uvicorn", "channels.http:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and arguments
    base = f"http://127.0.0.1:{port}"
    body = ("1 x " * (size // 8) + "@\n") + "1" * (size // 2)
    headers = {"Authorization": f"Bearer {token}"}
    request = {"subject": "P00008 update", "from": "someone@outside.example", "body": body}
    try:
        with httpx.Client(base_url=base, timeout=1200) as client:
            for _ in range(600):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            warm = {"subject": "P00008", "from": "a@b.example", "body": "We confirm P00008."}
            client.post("/v1/supplier-emails/summarize", json=warm, headers=headers)  # model loads
            done = threading.Event()
            durations: list[float] = []
            statuses: list[int] = []

            def attack() -> None:
                for _ in range(emails):
                    started = time.perf_counter()
                    response = client.post("/v1/supplier-emails/summarize", json=request, headers=headers)
                    durations.append(time.perf_counter() - started)
                    statuses.append(response.status_code)
                done.set()

            attacker = threading.Thread(target=attack, daemon=True)
            latencies: list[float] = []
            with httpx.Client(base_url=base, timeout=1200) as prober:
                attacker.start()
                while not done.is_set():
                    started = time.perf_counter()
                    prober.get("/healthz")
                    latencies.append((time.perf_counter() - started) * 1000)
                    time.sleep(0.01)
    finally:
        server.terminate()
        server.wait(30)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    verdict = "ok" if p99 < GOAL_HEALTHZ_P99_MS else "OVER"
    print(
        f"/healthz while {emails} hostile {size // 1000} KB emails were summarized "
        f"(each {statistics.median(durations):.2f} s, status {sorted(set(statuses))}): {len(latencies)} probes, "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms "
        f"(goal p99 < {GOAL_HEALTHZ_P99_MS:.0f} ms) {verdict}"
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000, help="characters of each hostile input")
    parser.add_argument("--emails", type=int, default=10, help="hostile emails summarized while /healthz is polled")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds after which one extractor call is stopped")
    args = parser.parse_args()
    bench_extractors(args.size, args.cap)
    bench_mime()
    bench_css()
    with tempfile.TemporaryDirectory() as tmp:
        bench_healthz(args.size, args.emails, Path(tmp))


if __name__ == "__main__":
    main()
