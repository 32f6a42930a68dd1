"""``CeleryQueueCollector``: the length of each Celery queue in Redis and the age of its oldest task, read when
Prometheus scrapes.

Celery's Redis transport (kombu) keeps a queue as Redis lists: the queue's name for the default priority and
``name\\x06\\x16<step>`` for the other priority steps; the length is their sum. Messages are pushed on the left
and taken from the right, so the oldest of a list is its last element; the copilot's producer stamps each
task with ``copilot_queued_at`` (``QUEUED_AT_HEADER``, Unix seconds) in the message headers. Without
``COPILOT_REDIS_URL`` the families are exposed empty (dashboards and the alert rules still find the names).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from copilot.config import Settings

__all__ = ["QUEUED_AT_HEADER", "CeleryQueueCollector", "queue_collector"]

#: The message header in which the producer stamps when it queued a task (Unix seconds).
QUEUED_AT_HEADER = "copilot_queued_at"

log = logging.getLogger(__name__)

#: kombu's Redis transport: the separator before a priority step, and the steps kept in lists of their own.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


class _Lengths(Protocol):
    def llen(self, name: str) -> int: ...

    def lindex(self, name: str, index: int) -> Any: ...


class CeleryQueueCollector(Collector):
    """``copilot_queue_length{queue}``, ``copilot_queue_oldest_age_seconds{queue}`` and ``copilot_queue_broker_up``
    from the client ``connect`` gives (None: no broker configured, nothing reported)."""

    def __init__(
        self, connect: Callable[[], _Lengths] | None, queues: Sequence[str], *, now: Callable[[], float] = time.time
    ) -> None:
        self._connect = connect
        self._client: _Lengths | None = None
        self.queues = tuple(queues)
        self._now = now

    def describe(self) -> Iterator[Metric]:
        """The families without samples (registering the collector reads nothing from Redis)."""
        yield from self._families()

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        length = GaugeMetricFamily(
            "copilot_queue_length",
            "Tasks waiting in a Celery queue (read from Redis at scrape time).",
            labels=["queue"],
        )
        age = GaugeMetricFamily(
            "copilot_queue_oldest_age_seconds",
            "Seconds the oldest task waiting in a Celery queue has waited (0: none waiting).",
            labels=["queue"],
        )
        up = GaugeMetricFamily("copilot_queue_broker_up", "1 when the Celery broker (Redis) answered the last scrape.")
        return length, age, up

    def collect(self) -> Iterator[Metric]:
        """Each queue's length and oldest task's age; the broker down: ``copilot_queue_broker_up 0``, nothing else."""
        length, age, up = self._families()
        if self._connect is not None:
            try:
                if self._client is None:
                    self._client = self._connect()
                read = {queue: self._read(self._client, queue) for queue in self.queues}
            except Exception as exc:  # a scrape reports the broker down; it never fails
                log.warning("queue lengths unavailable: %s", type(exc).__name__)
                up.add_metric([], 0)
            else:
                up.add_metric([], 1)
                for queue, (n, waited) in read.items():
                    length.add_metric([queue], n)
                    age.add_metric([queue], waited)
        yield from (length, age, up)

    def _read(self, client: _Lengths, queue: str) -> tuple[int, float]:
        """The queue's length over its priority lists, and how long its oldest stamped task has waited."""
        keys = [queue] + [f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS]
        lengths = [int(client.llen(key)) for key in keys]
        stamps = [_queued_at(client.lindex(key, -1)) for key, n in zip(keys, lengths, strict=True) if n]
        oldest = min((s for s in stamps if s is not None), default=None)
        return sum(lengths), max(0.0, self._now() - oldest) if oldest is not None else 0.0


def _queued_at(message: Any) -> float | None:
    """The ``copilot_queued_at`` stamp of a kombu message as Redis keeps it (JSON), or None."""
    if message is None:
        return None
    try:
        headers = json.loads(message).get("headers") or {}
        return float(headers[QUEUED_AT_HEADER])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def queue_collector(settings: Settings, queues: Sequence[str]) -> CeleryQueueCollector:
    """The collector on ``COPILOT_REDIS_URL`` (connected on the first scrape), or an empty one without it."""
    url = settings.redis_url.get_secret_value().strip() if settings.redis_url is not None else ""
    if not url:
        return CeleryQueueCollector(None, queues)

    def connect() -> Any:
        import redis

        return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    return CeleryQueueCollector(connect, queues)
