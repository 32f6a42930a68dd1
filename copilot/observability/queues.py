"""``CeleryQueueCollector``: the length of each Celery queue in Redis, read when Prometheus scrapes.

Celery's Redis transport (kombu) keeps a queue as Redis lists: the queue's name for the default priority and
``name\\x06\\x16<step>`` for the other priority steps; the length is their sum. Without ``COPILOT_REDIS_URL``
the families are exposed empty (dashboards and the alert rules still find the names).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from copilot.config import Settings

__all__ = ["CeleryQueueCollector", "queue_collector"]

log = logging.getLogger(__name__)

#: kombu's Redis transport: the separator before a priority step, and the steps kept in lists of their own.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


class _Lengths(Protocol):
    def llen(self, name: str) -> int: ...


class CeleryQueueCollector(Collector):
    """``copilot_queue_length{queue}`` and ``copilot_queue_broker_up`` from the client ``connect`` gives (None: no
    broker configured, nothing reported)."""

    def __init__(self, connect: Callable[[], _Lengths] | None, queues: Sequence[str]) -> None:
        self._connect = connect
        self._client: _Lengths | None = None
        self.queues = tuple(queues)

    def describe(self) -> Iterator[Metric]:
        """The families without samples (registering the collector reads nothing from Redis)."""
        yield from self._families()

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        length = GaugeMetricFamily(
            "copilot_queue_length",
            "Tasks waiting in a Celery queue (read from Redis at scrape time).",
            labels=["queue"],
        )
        up = GaugeMetricFamily("copilot_queue_broker_up", "1 when the Celery broker (Redis) answered the last scrape.")
        return length, up

    def collect(self) -> Iterator[Metric]:
        """Each queue's length; the broker down: ``copilot_queue_broker_up 0`` and no length."""
        length, up = self._families()
        if self._connect is not None:
            try:
                if self._client is None:
                    self._client = self._connect()
                lengths = {queue: self._length(self._client, queue) for queue in self.queues}
            except Exception as exc:  # a scrape reports the broker down; it never fails
                log.warning("queue lengths unavailable: %s", type(exc).__name__)
                up.add_metric([], 0)
            else:
                up.add_metric([], 1)
                for queue, n in lengths.items():
                    length.add_metric([queue], n)
        yield from (length, up)

    @staticmethod
    def _length(client: _Lengths, queue: str) -> int:
        keys = [queue] + [f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS]
        return sum(int(client.llen(key)) for key in keys)


def queue_collector(settings: Settings, queues: Sequence[str]) -> CeleryQueueCollector:
    """The collector on ``COPILOT_REDIS_URL`` (connected on the first scrape), or an empty one without it."""
    url = settings.redis_url.get_secret_value().strip() if settings.redis_url is not None else ""
    if not url:
        return CeleryQueueCollector(None, queues)

    def connect() -> Any:
        import redis

        return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    return CeleryQueueCollector(connect, queues)
