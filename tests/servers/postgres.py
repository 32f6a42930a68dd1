"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests, from Debian's binaries (``apt-get install postgresql``).

``PostgresServer().start()`` runs ``initdb`` in a temp dir (trust authentication, superuser ``postgres``,
no fsync) and ``pg_ctl start`` on a free loopback port; ``create_database()`` gives each test its own
empty database. PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres``
system user the package creates, and its commands run through ``runuser``. ``stop()`` removes it all.
``postgres_bin()`` is None when the binaries are not installed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.dovecot import free_port

__all__ = ["PostgresServer", "postgres_bin"]


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (the newest Debian cluster version first), or None."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if os.access(folder / "initdb", os.X_OK) and os.access(folder / "pg_ctl", os.X_OK):
            return folder
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found and shutil.which("pg_ctl") else None


@dataclass
class PostgresServer:
    """PostgreSQL listening on ``127.0.0.1:port``; use as a context manager."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-postgres-")))
    port: int = field(default_factory=free_port)
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _run(self, *args: str) -> None:
        """Run a PostgreSQL command, as the ``postgres`` user when this process is root."""
        folder = postgres_bin()
        if folder is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        command = [str(folder / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603 - our own arguments

    @property
    def data(self) -> Path:
        """The cluster's folder."""
        return self.root / "data"

    def start(self) -> PostgresServer:
        """Create the cluster and start the server (waits until it accepts connections)."""
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
