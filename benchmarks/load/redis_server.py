"""A throwaway Redis server on a free loopback port (Debian's ``redis-server``), no persistence."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from benchmarks.load.procs import Proc, wait_for

__all__ = ["redis_binary", "redis_ping", "redis_proc", "wait_redis"]


def redis_binary() -> str | None:
    """The ``redis-server`` executable, or None."""
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def redis_ping(port: int) -> bool:
    """True when Redis on ``127.0.0.1:port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_proc(port: int, folder: Path, env: dict[str, str]) -> Proc:
    """The ``redis-server`` process for ``127.0.0.1:port`` (start it with ``Processes.start``)."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        binary,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        "--protected-mode", "yes",
    ]  # fmt: skip
    return Proc("redis", argv, env, folder / "redis.log")


def wait_redis(port: int, timeout: float = 15.0) -> None:
    """Wait until Redis answers PING."""
    wait_for(lambda: redis_ping(port), timeout, f"redis on port {port}")
