"""The traffic of a run: signed requests sent with bounded concurrency and retries, emails APPENDed to IMAP.

A sender retries what a real one would (connection errors while a replica restarts, 502/503); the latency
kept for a request is the one of the answer that counted (the ack), the retries are counted apart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from imapclient import IMAPClient

from benchmarks.load.inputs import EmailInput

__all__ = ["SendReport", "append_emails", "send_all"]

RETRIES = 8
RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass
class SendReport:
    """What happened to a batch of requests."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def merge(self, other: SendReport) -> None:
        """Add another batch's figures to these."""
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.retries += other.retries
        self.failures += other.failures


async def _send_one(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Callable[[int], dict[str, str]],
    report: SendReport,
    ok: frozenset[int],
) -> None:
    last = ""
    for attempt in range(RETRIES):
        if attempt:
            report.retries += 1
            await asyncio.sleep(min(2.0, 0.2 * attempt))
        started = time.perf_counter()
        try:
            response = await client.post(url, content=body, headers=headers(attempt))
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
            continue
        elapsed = time.perf_counter() - started
        if response.status_code in RETRY_STATUSES:
            last = f"HTTP {response.status_code}"
            continue
        report.statuses[response.status_code] += 1
        if response.status_code in ok:
            report.latencies.append(elapsed)
        else:
            report.failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
        return
    report.failures.append(f"gave up after {RETRIES} attempts: {last}")


async def send_all(
    client: httpx.AsyncClient,
    url: str,
    items: Sequence[tuple[bytes, Callable[[int], dict[str, str]]]],
    *,
    concurrency: int,
    ok: frozenset[int],
    on_sent: Callable[[], None] | None = None,
) -> SendReport:
    """POST each (body, headers for attempt n) with at most ``concurrency`` in flight."""
    report = SendReport(started=time.monotonic())
    gate = asyncio.Semaphore(concurrency)

    async def one(body: bytes, headers: Callable[[int], dict[str, str]]) -> None:
        async with gate:
            await _send_one(client, url, body, headers, report, ok)
        if on_sent is not None:
            on_sent()

    await asyncio.gather(*(one(body, headers) for body, headers in items))
    report.finished = time.monotonic()
    return report


def append_emails(host: str, port: int, login: str, password: str, messages: Sequence[EmailInput]) -> dict[str, float]:
    """APPEND the messages to INBOX, unread, as a mail server delivers them; returns each key's wall-clock time."""
    delivered: dict[str, float] = {}
    client = IMAPClient(host, port=port, ssl=False, timeout=30)
    try:
        client.login(login, password)
        for message in messages:
            client.append("INBOX", message.raw)
            delivered[message.key] = time.time()
    finally:
        client.logout()
    return delivered
