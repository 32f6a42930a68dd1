"""Rate limits per person and channel: a sliding one-minute window.

``RateLimiter`` counts in memory (one process serves a team); ``RedisRateLimiter`` counts in Redis, so
several ``copilot serve`` replicas and workers share one limit per person (``COPILOT_REDIS_URL``).
``build_rate_limiter(settings)`` picks the one the settings ask for.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from copilot.config import Settings
from copilot.errors import RateLimited

__all__ = ["Limiter", "RateLimiter", "RedisRateLimiter", "build_rate_limiter"]

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
#: Redis key prefix of the windows.
PREFIX = "copilot:ratelimit:"
#: One atomic step in Redis (the server's clock, so replicas' clocks do not matter): drop hits older than the
#: window, refuse when full (returning the oldest hit's time), else record this hit. Returns {allowed, oldest}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tostring(window - (now - tonumber(oldest[2])))}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return {1, '0'}
"""


class Limiter(Protocol):
    """What the facade needs of a rate limiter."""

    def check(self, key: str) -> None:
        """Count one request for ``key``; raise ``RateLimited`` beyond the limit."""


def _refuse(per_minute: int, retry_after: float) -> RateLimited:
    return RateLimited(
        f"rate limit: at most {per_minute} requests a minute; try again in {retry_after:.0f} s",
        retry_after=retry_after,
    )


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
                raise _refuse(self.per_minute, max(0.0, WINDOW_SECONDS - (now - hits[0])))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle people so memory stays bounded
                for idle in [k for k, v in self._hits.items() if not v or now - v[-1] >= WINDOW_SECONDS]:
                    del self._hits[idle]


class RedisRateLimiter:
    """At most ``per_minute`` requests per key in any 60 seconds, counted in Redis for every process at once.

    When Redis cannot be reached the check falls back to this process's own window (logged), so an
    outage of Redis slows nobody down and still limits a flood.
    """

    def __init__(self, url: str, per_minute: int, *, client: Any | None = None) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        import redis

        self.per_minute = per_minute
        self._redis = client if client is not None else redis.Redis.from_url(url, socket_timeout=2)
        self._script = self._redis.register_script(_SLIDING_WINDOW)
        self._fallback = RateLimiter(per_minute)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def check(self, key: str) -> None:
        """Count one request for ``key`` in Redis; raise ``RateLimited`` (with ``retry_after``) beyond the limit."""
        try:
            allowed, wait = self._script(keys=[PREFIX + key], args=[WINDOW_SECONDS, self.per_minute, uuid.uuid4().hex])
        except self._errors as exc:
            log.warning("rate limit: Redis unavailable (%s); counting in this process", type(exc).__name__)
            self._fallback.check(key)
            return
        if not int(allowed):
            raise _refuse(self.per_minute, max(0.0, float(wait)))


def build_rate_limiter(settings: Settings) -> Limiter:
    """In Redis when ``COPILOT_REDIS_URL`` is set (shared by every replica), else in this process."""
    url = settings.redis_url.get_secret_value().strip() if settings.redis_url is not None else ""
    if url:
        return RedisRateLimiter(url, settings.rate_limit_per_minute)
    return RateLimiter(settings.rate_limit_per_minute)
