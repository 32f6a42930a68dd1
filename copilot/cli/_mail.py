"""``copilot mail poll``: the shared mailbox's worker from a terminal (one poll, or until Ctrl-C/SIGTERM)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.errors import ConfigError

if TYPE_CHECKING:
    from copilot.composition import Root

app = typer.Typer(help="The email channel: the shared mailbox (IMAP in, SMTP out).", no_args_is_help=True)

_STYLE = {"processed": "green", "skipped": "dim", "parked": "red", "retry": "yellow", "deferred": "yellow"}


@contextmanager
def mail_worker(root: Root) -> Iterator[Any]:
    """A ``MailWorker`` over a ``Copilot`` on the root's parts: its Odoo (the sandbox without a URL), its database."""
    from channels.serve import mail_worker as build_mail_worker
    from copilot.service import open_copilot

    with open_copilot(root.settings, root=root) as copilot:
        worker = build_mail_worker(root.settings, copilot, db=root.db)
        try:
            yield worker
        finally:
            worker.close()


@app.command("poll")
def poll(
    once: bool = typer.Option(False, "--once", help="Process what is waiting, print a summary and exit."),
    json: bool = typer.Option(False, "--json", help="With --once: print the poll's report as JSON."),
) -> None:
    """Process the shared mailbox: staff questions answered by email, supplier and customer mail to Slack.

    Without --once the worker waits for new mail (IDLE, or every COPILOT_IMAP_POLL_INTERVAL seconds) until
    Ctrl-C or SIGTERM; the message in flight is finished first.
    """
    with command_root() as root:
        _poll(root, once=once, json=json)


def _poll(root: Root, *, once: bool, json: bool) -> None:
    settings = root.settings
    if not settings.imap_host:
        raise ConfigError("COPILOT_IMAP_HOST: not set (the shared mailbox's IMAP server)")
    with mail_worker(root) as worker:
        if once:
            report = worker.run_once(progress=None if json else _print_result)
            if json:
                print_json(
                    {
                        "fetched": report.fetched,
                        "processed": report.processed,
                        "skipped_duplicates": report.skipped_duplicates,
                        "parked": report.parked,
                        "retried": report.retried,
                        "deferred": report.deferred,
                        "seconds": round(report.seconds, 3),
                        "results": [r.__dict__ for r in report.results],
                    }
                )
                return
            err_console.print(report.line(), highlight=False)
            if report.parked:
                err_console.print("[dim]parked messages: copilot deadletters list[/]")
            return
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        err_console.print(f"mail: watching {settings.imap_folder} on {settings.imap_host}; Ctrl-C stops")
        worker.start()
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            err_console.print("mail: stopping (finishing the message in flight)")
            worker.stop(30.0)
            signal.signal(signal.SIGTERM, previous)


def _print_result(result: Any) -> None:
    style = _STYLE.get(result.status, "")
    where = f"UID {result.uid}" if result.uid else "payload"
    console.print(f"[{style}]{result.status:>9}[/] {where}: {escape(result.detail)}", highlight=False)
