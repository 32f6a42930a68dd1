"""``copilot slack``: the Slack app over Socket Mode, for installs without a public URL."""

from __future__ import annotations

import typer

from copilot.cli._root import command_root

app = typer.Typer(help="The Slack app (HTTP mode runs inside `copilot serve`; Socket Mode here).", no_args_is_help=True)


@app.command("socket")
def socket() -> None:
    """Connect to Slack over Socket Mode (COPILOT_SLACK_APP_TOKEN and COPILOT_SLACK_BOT_TOKEN) until Ctrl-C."""
    from channels.slack.socket import run_socket_mode

    with command_root() as root:
        run_socket_mode(root.settings, root=root)
