"""Skills over HTTP run off the event loop, a bounded number at a time, under a time budget.

A skill is CPU and I/O work of unbounded length (Odoo calls, the embedding model, an LLM, the rules on an
attacker's email): it runs in this runner's own threads, never on the event loop, so ``/healthz`` and the
other routes keep answering. Past ``COPILOT_HTTP_SKILL_TIMEOUT`` the caller gets 504 with the reason; a
thread cannot be killed, so the late skill finishes in the background and keeps its slot until then, and
past ``COPILOT_HTTP_MAX_CONCURRENT_SKILLS`` running skills a new call gets 503 with ``Retry-After`` rather
than queueing without end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from copilot.errors import CopilotError

__all__ = ["SkillBusy", "SkillRunner", "SkillTimeout"]

log = logging.getLogger("channels.http.budget")

T = TypeVar("T")

#: Seconds a caller refused for lack of a free slot is asked to wait.
RETRY_AFTER = 5


class SkillTimeout(CopilotError):
    """A skill took longer than its budget (HTTP 504); the work may still finish in the background."""


class SkillBusy(CopilotError):
    """Every skill slot is taken (HTTP 503 with Retry-After)."""


class SkillRunner:
    """Runs skill calls in a dedicated thread pool, each under ``timeout`` seconds."""

    def __init__(self, timeout: float, max_concurrent: int) -> None:
        self.timeout = timeout
        self.max_concurrent = max_concurrent
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="skill")
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @classmethod
    def from_settings(cls, settings: Any) -> SkillRunner:
        """The runner for ``COPILOT_HTTP_SKILL_TIMEOUT`` and ``COPILOT_HTTP_MAX_CONCURRENT_SKILLS``."""
        return cls(settings.http_skill_timeout, settings.http_max_concurrent_skills)

    def _submit(self, what: str, fn: Callable[..., T], *args: Any, wait: bool) -> concurrent.futures.Future[T]:
        if not self._slots.acquire(blocking=wait, timeout=self.timeout if wait else None):
            raise SkillBusy(f"{what}: {self.max_concurrent} skills are already running; retry in {RETRY_AFTER} s")
        context = contextvars.copy_context()
        try:
            future = self._pool.submit(context.run, fn, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())  # a late skill holds its slot until it ends
        return future

    def _timed_out(self, what: str) -> SkillTimeout:
        log.warning("%s took over %.0f s: answered with a timeout; it finishes in the background", what, self.timeout)
        return SkillTimeout(f"{what} took over {self.timeout:g} s (COPILOT_HTTP_SKILL_TIMEOUT)")

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` off the event loop; ``SkillBusy`` at once when no slot is free, ``SkillTimeout`` late."""
        future = self._submit(what, fn, *args, wait=False)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except TimeoutError:
            raise self._timed_out(what) from None

    def call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` from a worker thread (a background task): waits for a slot, then the same budget."""
        future = self._submit(what, fn, *args, wait=True)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise self._timed_out(what) from None

    def close(self) -> None:
        """Stop taking work; skills still running finish in their threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
