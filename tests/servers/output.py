"""A child process's output read on a thread (the pipe never fills up), for tests that wait on a log line."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

__all__ = ["ProcessOutput"]


class ProcessOutput:
    """The lines ``stream`` (a process's stdout or stderr, text mode) printed so far."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line matching ``pattern`` (``re.search``), waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + "\n".join(self.lines[-40:]))

    def count(self, text: str) -> int:
        """How many lines contain ``text``."""
        return sum(text in line for line in self.lines)

    def join(self) -> str:
        """Everything printed, once the stream closed (or after 5 s)."""
        self._thread.join(timeout=5)
        return "\n".join(self.lines)
