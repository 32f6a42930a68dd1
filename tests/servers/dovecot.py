"""A throwaway Dovecot IMAP server on 127.0.0.1 for tests: own config, users and maildirs in a temp dir.

``DovecotServer().start()`` writes ``dovecot.conf`` (plaintext auth on loopback, a passwd-file of
test users, maildir storage), runs ``dovecot -F -c dovecot.conf`` as a subprocess and waits for the IMAP
greeting. Running as root, mail and login processes use Dovecot's own unprivileged users, as packaged;
its folder is made under the system temp dir (not pytest's, which those users cannot enter) and removed
on ``stop()``.
``dovecot_binary()`` is None when Dovecot is not installed (``apt-get install dovecot-imapd``).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DovecotServer", "ImapUser", "dovecot_binary", "free_port"]

PASSWORD = "secret-test-password"


def dovecot_binary() -> str | None:
    """The ``dovecot`` executable, or None."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ImapUser:
    """A mailbox user of the test server."""

    login: str
    password: str = PASSWORD


@dataclass
class DovecotServer:
    """Dovecot listening on ``127.0.0.1:port``; use as a context manager."""

    users: int = 30
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-dovecot-")))
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None
    _next: int = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def new_user(self) -> ImapUser:
        """A user whose mailbox nobody used yet (each test gets its own)."""
        if self._next >= self.users:
            raise RuntimeError(f"all {self.users} test mailboxes are used: raise DovecotServer.users")
        self._next += 1
        return ImapUser(f"user{self._next}@mail.test")

    def _accounts(self) -> tuple[str, str, int, int]:
        """(login user, internal user, uid, gid) for the processes and the mail files."""
        if os.geteuid() == 0:
            mail = pwd.getpwnam("dovecot")
            login = "dovenull"
            return login, "dovecot", mail.pw_uid, mail.pw_gid
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid

    def write_config(self) -> Path:
        """Write the configuration, the passwd-file and the folders; returns the config path."""
        login_user, internal_user, uid, gid = self._accounts()
        group = grp.getgrgid(gid).gr_name
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        passwd = self.root / "passwd"
        passwd.write_text(
            "".join(f"user{i}@mail.test:{{PLAIN}}{PASSWORD}::::::\n" for i in range(1, self.users + 1)),
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            os.chown(self.root / "mail", uid, gid)
            os.chmod(self.root, 0o755)  # noqa: S103 - Dovecot's own user must reach the maildirs
        conf = self.root / "dovecot.conf"
        conf.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{self.root}/mail/%n
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""",
            encoding="utf-8",
        )
        return conf

    def start(self, timeout: float = 15.0) -> DovecotServer:
        """Start Dovecot and wait for its IMAP greeting."""
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        conf = self.write_config()
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary with our own config file
            [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                out = self._process.stdout.read().decode(errors="replace") if self._process.stdout else ""
                raise RuntimeError(f"dovecot exited with {self._process.returncode}: {out}{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port} within {timeout}s: {self.log()}")

    def log(self) -> str:
        """Dovecot's log so far."""
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop Dovecot (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
