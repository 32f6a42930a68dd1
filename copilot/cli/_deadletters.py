"""``copilot deadletters list|show|replay``: inputs a channel could not process, with the reason, and their replay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.composition import Root
    from copilot.state.deadletters import DeadLetter

app = typer.Typer(
    help="Dead letters: what a channel parked (unreadable, or failing after its retries), and replaying them.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")
#: Channels whose letters ``replay`` can run again.
REPLAYABLE = ("email", "webhook")


def _row(letter: DeadLetter) -> dict[str, Any]:
    return letter.model_dump(mode="json")


@app.command("list")
def list_letters(
    channel: str | None = typer.Option(None, help="Only this channel (email, slack, webhook)."),
    all_: bool = typer.Option(False, "--all", help="Include replayed and resolved letters, not only parked ones."),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, newest first."),
    json: bool = JSON,
) -> None:
    """Parked inputs, newest first: channel, what it was, why it failed, how often."""
    with command_root() as root:
        letters = root.deadletters.list(channel=channel, status=None if all_ else "parked", limit=limit)
    if json:
        return print_json([_row(x) for x in letters])
    if not letters:
        err_console.print("no dead letters" + ("" if all_ else " parked"))
        return
    table = Table("id", "channel", "status", "attempts", "last seen", "input", "reason")
    for x in letters:
        table.add_row(
            str(x.id),
            x.channel,
            x.status,
            str(x.attempts),
            f"{x.last_seen:%Y-%m-%d %H:%M}",
            escape(x.summary or x.key),
            escape(x.reason[:160]),
        )
    console.print(table)


@app.command("show")
def show(
    letter_id: int = typer.Argument(..., metavar="ID", help="The letter's id (copilot deadletters list)."),
    payload: bool = typer.Option(False, "--payload", help="Also print the stored input (as text)."),
    json: bool = JSON,
) -> None:
    """One letter: its key, reason, error type, attempts and dates (and its payload with --payload)."""
    with command_root() as root:
        letter = root.deadletters.get(letter_id)
    if letter is None:
        raise typer.BadParameter(f"no dead letter {letter_id}", param_hint="ID")
    if json:
        data = _row(letter)
        if payload:
            data["payload_text"] = letter.text
        return print_json(data)
    for label, value in (
        ("id", letter.id),
        ("channel", letter.channel),
        ("key", letter.key),
        ("input", letter.summary or "-"),
        ("status", letter.status),
        ("error", letter.error_type),
        ("reason", letter.reason),
        ("attempts", letter.attempts),
        ("first seen", f"{letter.first_seen:%Y-%m-%d %H:%M:%S %Z}"),
        ("last seen", f"{letter.last_seen:%Y-%m-%d %H:%M:%S %Z}"),
        ("replayed", f"{letter.replayed_at:%Y-%m-%d %H:%M:%S %Z}" if letter.replayed_at else "-"),
        ("size", f"{letter.size} bytes"),
    ):
        console.print(f"[bold]{label:>10}[/] {escape(str(value))}", highlight=False)
    if payload:
        console.rule("payload")
        console.print(letter.text, markup=False, highlight=False)


@app.command("replay")
def replay(
    letter_id: int | None = typer.Argument(None, metavar="[ID]", help="The letter to replay."),
    all_: bool = typer.Option(False, "--all", help="Replay every parked letter of the replayable channels."),
    json: bool = JSON,
) -> None:
    """Run a parked input's original processing again from its stored payload; on success it is marked replayed."""
    if (letter_id is None) == (not all_):
        raise typer.BadParameter("give one ID or --all", param_hint="ID")
    with command_root() as root:
        _replay(root, letter_id, all_=all_, json=json)


def _replay(root: Root, letter_id: int | None, *, all_: bool, json: bool) -> None:
    """Replay the letter ``letter_id`` (or every replayable parked one) with the root's stores and copilot."""
    store = root.deadletters
    if all_:
        letters = [x for x in store.list(status="parked", limit=10_000) if x.channel in REPLAYABLE]
    else:
        found = store.get(letter_id or 0)
        if found is None:
            raise typer.BadParameter(f"no dead letter {letter_id}", param_hint="ID")
        if found.channel not in REPLAYABLE:
            raise typer.BadParameter(f"letters of channel {found.channel!r} cannot be replayed yet", param_hint="ID")
        if found.status != "parked":
            raise typer.BadParameter(f"dead letter {letter_id} is {found.status}, not parked", param_hint="ID")
        letters = [found]
    if not letters:
        err_console.print("nothing to replay")
        return
    results: list[dict[str, Any]] = []
    emails = [x for x in letters if x.channel == "email"]
    if emails:
        from copilot.cli._mail import mail_worker

        with mail_worker(root) as worker:
            for letter in emails:
                try:
                    outcome = worker.replay(letter.id)
                except (CopilotError, ValueError, KeyError) as exc:
                    results.append({"id": letter.id, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
                else:
                    results.append({"id": letter.id, "ok": True, "kind": outcome.kind, "detail": outcome.detail})
    hooks = [x for x in letters if x.channel == "webhook"]
    if hooks:
        results.extend(_replay_webhooks(root, hooks))
    if json:
        print_json(results)
    else:
        for r in results:
            if r["ok"]:
                console.print(f"[green]replayed[/] {r['id']}: {escape(r['detail'])}", highlight=False)
            else:
                console.print(f"[red]still failing[/] {r['id']}: {escape(r['error'])}", highlight=False)
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


def _replay_webhooks(root: Root, letters: list[Any]) -> list[dict[str, Any]]:
    """Re-validate each parked webhook body and run its event again through the facade."""
    from pydantic import ValidationError

    from channels.http.routes.webhooks import EVENT_ADAPTER, run_event
    from copilot.service import open_copilot

    results: list[dict[str, Any]] = []
    store = root.deadletters
    with open_copilot(root.settings, root=root) as copilot:
        for letter in letters:
            source = letter.key.split(":", 1)[0]
            full = store.get(letter.id)  # listed letters come without their payload
            try:
                event = EVENT_ADAPTER.validate_json((full.payload if full else None) or b"")
                run_event(copilot, source, event)
            except (CopilotError, ValidationError, ValueError) as exc:
                results.append({"id": letter.id, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
                continue
            store.mark_replayed(letter.id)
            results.append({"id": letter.id, "ok": True, "kind": event.type, "detail": f"{source} {event.type}"})
    return results
