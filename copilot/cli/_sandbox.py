"""``copilot sandbox``: the Odoo sandbox on a port, for manual use and other clients; ``sandbox reset``."""

from __future__ import annotations

from typing import Literal

import typer

from copilot.config import get_settings

app = typer.Typer(
    help="Serve the seeded Odoo sandbox over JSON-RPC until Ctrl-C (users: copilot/copilot, admin/admin, ...); "
    "`copilot sandbox reset` restores the recording.",
    invoke_without_command=True,
)


@app.callback()
def sandbox(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (keep it on loopback)."),
    port: int = typer.Option(8069, min=0, max=65535, help="Port (Odoo's default is 8069; 0 picks a free one)."),
    helpdesk: Literal["oca", "enterprise", "none"] = typer.Option(
        "oca",
        help="Helpdesk app to serve: oca (recorded OCA helpdesk_mgmt), enterprise (the same tickets shaped like "
        "Odoo Enterprise helpdesk) or none (no Helpdesk app).",
    ),
    odoo: Literal["odoo18", "odoo19"] = typer.Option(
        "odoo18",
        help="Odoo version to serve: odoo18 (recorded Odoo 18, JSON-RPC) or odoo19 (recorded Odoo 19: JSON-RPC "
        "and the JSON-2 API, API keys sandbox-<login>-api-key).",
    ),
    latency_ms: float = typer.Option(
        0.0,
        "--latency-ms",
        min=0.0,
        max=60000.0,
        help="Answer each RPC this many milliseconds later, as an Odoo on another host would (a real Odoo 18 "
        "answers the copilot's reads in about 10 ms on loopback; the sandbox in about 1 ms). For load tests.",
    ),
) -> None:
    """Serve the seeded Odoo sandbox over JSON-RPC until Ctrl-C (users: copilot/copilot, admin/admin, ...).

    Its writes are kept with the embedded sandbox's (in COPILOT_DATA_DIR/sandbox/) unless
    COPILOT_SANDBOX_KEEP_WRITES=false; `copilot sandbox reset` restores the recording.
    """
    if ctx.invoked_subcommand is not None:
        return
    from odoo_sandbox import serve_forever

    settings = get_settings().model_copy(update={"sandbox_helpdesk": helpdesk, "sandbox_odoo": odoo})
    state_file = settings.sandbox_writes_file if settings.sandbox_keep_writes else None
    serve_forever(host, port, helpdesk=helpdesk, state_file=state_file, odoo=odoo, latency=latency_ms / 1000)


@app.command("reset")
def reset(json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Forget every write the sandbox kept (requests, decisions, executed changes): back to the recording."""
    from copilot.cli._output import console, print_json
    from odoo_sandbox import APPROVAL_MODEL, clear_journal

    folder = get_settings().sandbox_writes_file.parent
    removed: dict[str, int] = {}
    paths = []
    for path in sorted(folder.glob("writes*.sqlite")):  # every Helpdesk flavour's
        counts = clear_journal(path)
        if counts:
            paths.append(str(path))
        for model, n in counts.items():
            removed[model] = removed.get(model, 0) + n
    if json:
        return print_json({"folder": str(folder), "files": paths, "removed": removed})
    if not removed:
        console.print(
            f"nothing to remove: the sandbox serves the recording (no writes kept in {folder})", soft_wrap=True
        )
        return
    labels = _labels()
    ordered = sorted(removed.items(), key=lambda item: (item[0] not in labels, item[0] != APPROVAL_MODEL, item[0]))
    parts = ", ".join(f"{n} {_label(model, n)}" for model, n in ordered)
    console.print(f"removed {parts} from {', '.join(paths)}; the sandbox serves the recording again", soft_wrap=True)


def _labels() -> dict[str, tuple[str, str]]:
    from odoo_sandbox import APPROVAL_MODEL, DECISION_MODEL, UNREADABLE

    return {
        APPROVAL_MODEL: ("approval request", "approval requests"),
        UNREADABLE: ("unreadable writes file (deleted)", "unreadable writes files (deleted)"),
        DECISION_MODEL: ("decision", "decisions"),
    }


def _label(model: str, n: int) -> str:
    one, many = _labels().get(model, (f"{model} record", f"{model} records"))
    return one if n == 1 else many
