"""The Slack channel: a Bolt app mounted on the FastAPI service at ``/slack/events`` (Socket Mode optional).

``mount_slack(app, settings)`` adds the route; ``blocks`` renders the skills' results as Block Kit;
``slack_digest_sink(settings, client, db=...)`` is the controls' sink posting exception digests.
"""

from channels.slack.app import SlackChannel
from channels.slack.mount import EVENTS_PATH, mount_slack
from channels.slack.sink import SlackDigestSink, slack_digest_sink

__all__ = ["EVENTS_PATH", "SlackChannel", "SlackDigestSink", "mount_slack", "slack_digest_sink"]
