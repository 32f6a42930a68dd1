"""Rate limits shared by every replica: counted in a real Redis, one window per person and channel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from copilot.config import load_settings
from copilot.errors import RateLimited
from copilot.guardrails.ratelimit import RateLimiter, RedisRateLimiter, build_rate_limiter
from tests.servers.dovecot import free_port
from tests.servers.redis import RedisServer


def allowed(limiter: RedisRateLimiter, key: str) -> bool:
    try:
        limiter.check(key)
    except RateLimited:
        return False
    return True


def test_two_replicas_share_one_limit_per_person(redis: RedisServer) -> None:
    replicas = [RedisRateLimiter(redis.url(), 5) for _ in range(2)]
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def hit(i: int) -> None:
        start.wait()
        ok = allowed(replicas[i % 2], "slack:U1")
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=hit, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results.count(True) == 5  # 5 a minute in all, not 5 per replica
    with pytest.raises(RateLimited) as refused:
        replicas[0].check("slack:U1")
    assert 0 < refused.value.retry_after <= 60
    assert allowed(replicas[1], "slack:U2")  # another person has their own window


def test_without_redis_the_limit_still_holds_in_the_process(tmp_path: Path) -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", 2)  # nothing listens there
    assert [allowed(limiter, "email:x") for _ in range(3)] == [True, True, False]


def test_the_settings_choose_redis_when_it_is_configured(redis: RedisServer, tmp_path: Path) -> None:
    shared = build_rate_limiter(load_settings(data_dir=tmp_path, redis_url=redis.url(), _env_file=None))
    alone = build_rate_limiter(load_settings(data_dir=tmp_path, _env_file=None))
    assert isinstance(shared, RedisRateLimiter) and isinstance(alone, RateLimiter)
