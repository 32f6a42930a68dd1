"""A throwaway Redis on 127.0.0.1 for tests, from Debian's binary (``apt-get install redis-server``).

``RedisServer().start()`` runs ``redis-server`` on a free loopback port with no persistence (no RDB
snapshots, no AOF) in a temp dir, and waits until it answers ``PING``; ``url(n)`` is the URL of database
``n``; ``flush()`` empties every database between tests. ``stop()`` shuts it down and removes its folder.
``redis_binary()`` is None when redis-server is not installed.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.dovecot import free_port

__all__ = ["RedisServer", "redis_binary"]

#: Where redis-server is looked for besides PATH (Debian installs it in /usr/bin).
SEARCH_PATH = "/usr/bin:/usr/sbin:/usr/local/bin"


def redis_binary() -> str | None:
    """The path of ``redis-server``, or None."""
    return shutil.which("redis-server") or shutil.which("redis-server", path=SEARCH_PATH)


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """Redis listening on ``127.0.0.1:port``; use as a context manager."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-redis-")))
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start the server (waits until it answers PING, at most 10 s)."""
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        command = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.root),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.root / "log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while not _ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: {log}")
            time.sleep(0.05)
        return self

    def url(self, database: int = 0) -> str:
        """The ``redis://`` URL of database ``database`` on this server."""
        return f"redis://127.0.0.1:{self.port}/{database}"

    def flush(self) -> None:
        """Empty every database (between tests)."""
        import redis

        with contextlib.closing(redis.Redis.from_url(self.url())) as client:
            client.flushall()

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
