"""A throwaway real Odoo (18 or 19) on a free loopback port, with the copilot_approval addon installed.

Odoo is on no package registry: it runs when the machine has an Odoo source tree, named like ``make odoo-test``
names it (``.ci/run``): ``ODOO18_BIN`` / ``ODOO19_BIN`` (its ``odoo-bin``), ``ODOO18_PY`` / ``ODOO19_PY`` (a Python
with its requirements, default ``python3``), ``ODOO_ARGS`` (database options shared by both, e.g.
``--db_host=127.0.0.1 --db_user=odoo``) and ``ODOO18_ADDONS_PATH`` / ``ODOO19_ADDONS_PATH`` (Odoo's own addons
folders; default beside ``odoo-bin``). ``ODOO_ADDON_TREES`` (a folder holding ``18.0/`` and ``19.0/``, like
the repository's ``odoo_addons``) replaces the repository's tree, e.g. to test another checkout's addon.

``OdooServer(install).start()`` creates its own database (``copilot_browser_<series>_<random>``: ``-i
copilot_approval``, no demo data), serves it on ``127.0.0.1:<free port>`` (threaded, no cron) with its own data
folder, and ``stop()`` stops Odoo and drops the database (``odoo-bin db drop``).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scripts.odoo_test import FATAL, default_addons_path
from scripts.sync_odoo_addons import ADDON, VERSIONS, addon_dir
from tests.servers.dovecot import free_port

__all__ = ["ADMIN_PASSWORD", "OdooInstall", "OdooRpc", "OdooServer", "odoo_installs"]

#: The administrator's password in a database that ``odoo-bin -i`` created (Odoo's default).
ADMIN_PASSWORD = "admin"  # Odoo's own default, on a throwaway database


@dataclass(frozen=True)
class OdooInstall:
    """Where one Odoo series is on this machine and how to run it."""

    series: str
    odoo_bin: Path
    python: str = "python3"
    addons_path: str = ""
    extra_args: tuple[str, ...] = ()
    copilot_addons: Path | None = None

    @property
    def full_addons_path(self) -> str:
        """Odoo's own addons folders, then the folder holding this series' copilot_approval."""
        own = self.addons_path or default_addons_path(self.odoo_bin)
        return ",".join(part for part in (own, str(self.addon_folder())) if part)

    def addon_folder(self) -> Path:
        """The folder that holds ``copilot_approval`` for this series (ODOO_ADDON_TREES, else the repo's)."""
        if self.copilot_addons is None:
            return addon_dir(self.series).parent
        return self.copilot_addons / self.series

    def command(self, *args: str) -> list[str]:
        """``odoo-bin`` with the database options and ``args``."""
        return [self.python, str(self.odoo_bin), *args]


def odoo_installs(environ: dict[str, str] | None = None) -> list[OdooInstall]:
    """The Odoo series this machine provides (``ODOO18_BIN``, ``ODOO19_BIN``), oldest first."""
    env = os.environ if environ is None else environ
    override = env.get("ODOO_ADDON_TREES", "").strip()
    installs = []
    for series in VERSIONS:
        major = series.split(".")[0]
        odoo_bin = env.get(f"ODOO{major}_BIN", "").strip()
        if not odoo_bin:
            continue
        installs.append(
            OdooInstall(
                series=series,
                odoo_bin=Path(odoo_bin),
                python=env.get(f"ODOO{major}_PY", "").strip() or "python3",
                addons_path=env.get(f"ODOO{major}_ADDONS_PATH", "").strip(),
                extra_args=tuple(shlex.split(env.get("ODOO_ARGS", ""))),
                copilot_addons=Path(override) if override else None,
            )
        )
    return installs


@dataclass
class OdooRpc:
    """JSON-RPC (``/jsonrpc``, both series) as one user: ``call(model, method, *args, **kwargs)``."""

    url: str
    db: str
    login: str
    password: str
    uid: int = 0

    def _post(self, service: str, method: str, *args: Any) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}}
        response = httpx.post(f"{self.url}/jsonrpc", json=payload, timeout=60)
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            error = body["error"]
            raise RuntimeError(f"{service}.{method}: {error.get('data', {}).get('message') or error}")
        return body["result"]

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``model.method(*args, **kwargs)`` as this user."""
        if not self.uid:
            self.uid = int(self._post("common", "login", self.db, self.login, self.password) or 0)
            if not self.uid:
                raise RuntimeError(f"Odoo refused the login {self.login!r} on {self.db}")
        return self._post("object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs)


@dataclass
class OdooServer:
    """One Odoo serving its own new database on ``127.0.0.1:port``; use as a context manager."""

    install: OdooInstall
    modules: tuple[str, ...] = (ADDON,)
    port: int = field(default_factory=free_port)
    db: str = field(default_factory=lambda: f"copilot_browser_{secrets.token_hex(4)}")
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-odoo-")))
    init_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = None
    _created: bool = False

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Odoo's log file (init and serve)."""
        return self.root / "odoo.log"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Odoo's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def _common_args(self) -> list[str]:
        args = [
            *self.install.extra_args,
            f"--addons-path={self.install.full_addons_path}",
            f"--data-dir={self.root / 'data'}",
            "-d",
            self.db,
            f"--db-filter=^{self.db}$",
            f"--logfile={self.log_path}",
        ]
        if self.install.series == "18.0":
            args.append("--without-demo=all")  # Odoo 19 installs no demo data unless --with-demo
        return args

    def create_database(self, timeout: float = 900.0) -> None:
        """Create the database with the modules installed (``-i``, ``--stop-after-init``)."""
        started = time.monotonic()
        self._created = True
        command = self.install.command(*self._common_args(), "-i", ",".join(self.modules), "--stop-after-init")
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        self.init_seconds = time.monotonic() - started
        log = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        if result.returncode != 0 or any(marker in log for marker in FATAL):
            raise RuntimeError(
                f"Odoo {self.install.series} could not create {self.db} with {self.modules} "
                f"(exit {result.returncode}): {result.stderr[-2000:]}\n{self.log_tail()}"
            )

    def start(self, timeout: float = 120.0) -> OdooServer:
        """Create the database, serve it and wait until ``/web/login`` answers."""
        self.create_database()
        command = self.install.command(
            *self._common_args(),
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            "--workers=0",
            "--max-cron-threads=0",
            "--no-database-list",
        )
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self._process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/web/login", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Odoo did not answer on port {self.port} within {timeout}s: {self.log_tail()}")

    def rpc(self, login: str = "admin", password: str = ADMIN_PASSWORD) -> OdooRpc:
        """A JSON-RPC client of this database as ``login``."""
        return OdooRpc(self.url, self.db, login, password)

    def stop(self) -> None:
        """Stop Odoo (SIGTERM, then SIGKILL after 10 s), drop its database and remove its folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self._created:
            self._created = False
            subprocess.run(  # noqa: S603 - the same Odoo, its own throwaway database
                self.install.command("db", *self.install.extra_args, "drop", self.db),
                capture_output=True,
                timeout=120,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OdooServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
