"""``copilot serve`` with the shared mailbox, as a real process on a real IMAP server, stopped by SIGTERM mid-work.

Nothing delivered is lost and nothing is processed twice: after a SIGTERM while the mailbox is being worked
through, every message is either done (flagged and in the outbox) or still unread, and a second run finishes
the rest without repeating any.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from channels.email import Outbox
from copilot.config import Settings, load_settings
from tests.integration.conftest import deliver, flags
from tests.integration.test_serve_process import COPILOT
from tests.servers.dovecot import DovecotServer
from tests.servers.output import ProcessOutput

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
DONE = b"$CopilotDone"


def _mailbox_settings(dovecot: DovecotServer, data_dir: Path) -> Settings:
    user = dovecot.new_user()
    return load_settings(
        data_dir=data_dir,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_tls="none",
        imap_user=user.login,
        imap_password=user.password,
        internal_domains="yourcompany.example.com",
        rate_limit_per_minute=10_000,
    )


def _env(settings: Settings, home: Path) -> dict[str, str]:
    assert settings.imap_password is not None
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "COPILOT_DATA_DIR": str(settings.data_dir),
        "COPILOT_IMAP_HOST": settings.imap_host or "",
        "COPILOT_IMAP_PORT": str(settings.imap_port),
        "COPILOT_IMAP_TLS": "none",
        "COPILOT_IMAP_USER": settings.imap_user or "",
        "COPILOT_IMAP_PASSWORD": settings.imap_password.get_secret_value(),
        "COPILOT_INTERNAL_DOMAINS": settings.internal_domains or "",
        "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
    }


def _serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], ProcessOutput]:
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(COPILOT), "serve", "--port", "0"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, ProcessOutput(process.stderr)


def _done(settings: Settings) -> set[int]:
    return {uid for uid, f in flags(settings).items() if DONE in f}


def _wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout} s")


def _stop(process: subprocess.Popen[str], stderr: ProcessOutput) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = stderr.join()
    assert code == 0, log
    return log


@pytest.mark.skipif(not COPILOT.exists(), reason="the copilot command is not installed next to this Python")
def test_sigterm_mid_mailbox_loses_nothing_and_a_restart_repeats_nothing(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    settings = _mailbox_settings(dovecot, tmp_path / "data")
    raws = [p.read_bytes() for p in sorted(FIXTURES.glob("[0-9]*.eml")) if "question" not in p.name]
    batch = [r.replace(b"Message-ID: <", f"Message-ID: <serve{i}.".encode(), 1) for i, r in enumerate(raws * 6)]
    uids = deliver(settings, *batch)
    env = _env(settings, tmp_path)

    process, stderr = _serve(env, tmp_path)
    try:
        stderr.wait_for(r"HTTP API ready", 90)
        _wait(lambda: len(_done(settings)) >= 2, 90)  # the worker is in the middle of the mailbox
    except BaseException:
        process.kill()
        raise
    log = _stop(process, stderr)
    assert "Traceback" not in log

    first_done = _done(settings)
    assert 0 < len(first_done) < len(uids), "SIGTERM came too late to stop mid-mailbox"
    after_stop = flags(settings)
    for uid in set(uids) - first_done:  # not done: left unread for the next run, never half-marked
        assert b"\\Seen" not in after_stop[uid]
    outbox = Outbox.from_settings(settings)
    try:
        assert len(outbox.entries(kind="supplier_summary")) == len(first_done)  # each done email was delivered
    finally:
        outbox.close()

    process, stderr = _serve(env, tmp_path)
    try:
        stderr.wait_for(r"HTTP API ready", 90)
        _wait(lambda: _done(settings) == set(uids), 120)
    except BaseException:
        process.kill()
        raise
    _stop(process, stderr)

    outbox = Outbox.from_settings(settings)
    try:
        delivered = outbox.entries(kind="supplier_summary")
    finally:
        outbox.close()
    assert len(delivered) == len(uids)  # every email summarized exactly once over both runs
