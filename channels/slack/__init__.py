"""The Slack channel: a Bolt app mounted on the FastAPI service at ``/slack/events`` (Socket Mode optional).

``mount_slack(app, settings)`` adds the route; ``blocks`` renders the skills' results as Block Kit.
"""

from channels.slack.app import SlackChannel
from channels.slack.mount import EVENTS_PATH, mount_slack

__all__ = ["EVENTS_PATH", "SlackChannel", "mount_slack"]
