"""Child processes of a run: each in its own process group, its output in a log file, always stopped.

``Proc.start()`` runs a command with ``start_new_session`` so a stop or a kill reaches its children too
(Celery's pool processes, uvicorn). ``Processes`` keeps every process it started and stops them all on
exit, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Proc", "Processes", "wait_for", "wait_http", "wait_port"]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, every: float = 0.1) -> None:
    """Poll ``condition`` until it holds; ``TimeoutError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def wait_port(port: int, timeout: float, what: str) -> None:
    """Wait until something accepts TCP connections on ``127.0.0.1:port``."""

    def accepts() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_for(accepts, timeout, what)


def wait_http(url: str, timeout: float, what: str, *, proc: Proc | None = None) -> None:
    """Wait until ``url`` answers 200 (and fail early when ``proc`` died)."""

    def ok() -> bool:
        if proc is not None and not proc.alive:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    wait_for(ok, timeout, what, every=0.2)


@dataclass
class Proc:
    """One child process and its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        """Start it in a new session (its own process group); output appended to ``log``."""
        with self.log.open("ab") as out:
            out.write(f"\n--- start {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own commands
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit code, or None while it runs."""
        return None if self.process is None else self.process.poll()

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to its whole process group."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash: nothing is given a chance to finish)."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)

    def children(self) -> list[int]:
        """The process's direct children (e.g. a Celery worker's pool processes)."""
        if self.process is None:
            return []
        found: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError, ValueError):
                found += [int(pid) for pid in task.read_text().split()]
        return found

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the group, SIGKILL after ``timeout`` s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        self.signal_group(signal.SIGKILL)  # stragglers of the group (pool children)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def log_since_start(self) -> str:
        """Its log since its last start."""
        if not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace").rsplit("\n--- start ", 1)[-1]

    def tail(self, lines: int = 30) -> str:
        """The end of its log."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass
class Processes:
    """Every process of a run, stopped on exit (in reverse order of start)."""

    started: list[Proc] = field(default_factory=list)

    def start(self, proc: Proc) -> Proc:
        """Start ``proc`` and keep it for the final stop."""
        self.started.append(proc)
        return proc.start()

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        for proc in reversed(self.started):
            with contextlib.suppress(Exception):
                proc.stop(timeout=10)

    @contextlib.contextmanager
    def running(self) -> Iterator[Processes]:
        """Stop everything on exit, also on errors and Ctrl-C."""
        try:
            yield self
        finally:
            self.stop_all()
