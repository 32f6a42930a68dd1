"""Socket Mode: the same Slack app over a WebSocket Slack opens to us (no public URL), for on-premise installs.

Slack authenticates the connection with the app-level token (``xapp-...``, ``COPILOT_SLACK_APP_TOKEN``),
so there is no request signature to verify; listeners, dedupe and rendering are those of HTTP mode.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from channels.slack.app import SlackChannel
from copilot.config import Settings
from copilot.errors import ConfigError

if TYPE_CHECKING:
    from copilot.composition import Root

__all__ = ["run_socket_mode"]

log = logging.getLogger("channels.slack")


def run_socket_mode(settings: Settings, *, root: Root | None = None) -> None:
    """Connect to Slack over Socket Mode and serve until interrupted (Ctrl-C or SIGTERM), on ``root``'s parts
    (its Odoo, database and models; a root of the settings, opened here, when not given)."""
    if settings.slack_app_token is None or settings.slack_bot_token is None:
        raise ConfigError("COPILOT_SLACK_APP_TOKEN: Socket Mode needs the app-level token and COPILOT_SLACK_BOT_TOKEN")
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from copilot.service import open_copilot

    with open_copilot(settings, root=root) as copilot:
        channel = SlackChannel(settings, lambda: copilot, db=copilot.db, socket_mode=True)
        handler = SocketModeHandler(
            channel.bolt, settings.slack_app_token.get_secret_value(), web_client=channel.client
        )
        log.info("Slack Socket Mode: connecting")
        try:
            handler.start()  # blocks until the process is interrupted
        finally:
            handler.close()
            channel.close()
