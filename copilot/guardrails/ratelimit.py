"""Rate limits per person and channel: a sliding one-minute window, in memory (one process serves a team)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from copilot.errors import RateLimited

__all__ = ["RateLimiter"]

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` requests per key (``channel:person``) in any 60 seconds."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count one request for ``key``; raise ``RateLimited`` (with ``retry_after``) beyond the limit."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry_after = max(0.0, WINDOW_SECONDS - (now - hits[0]))
                raise RateLimited(
                    f"rate limit: at most {self.per_minute} requests a minute; try again in {retry_after:.0f} s",
                    retry_after=retry_after,
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle people so memory stays bounded
                for idle in [k for k, v in self._hits.items() if not v or now - v[-1] >= WINDOW_SECONDS]:
                    del self._hits[idle]
