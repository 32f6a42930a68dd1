"""The process assembly of ``copilot serve`` and ``copilot mail``: the one module that imports every channel.

The channels never import each other (an import-linter contract): the HTTP channel serves the API and
webhooks, the Slack channel its Bolt app, the email channel the shared mailbox, and the email channel
delivers results through a ``copilot.application.ResultNotifier`` port. This module wires them: it builds the
HTTP app with the Slack route mounted (when configured) and the mailbox worker hosted, and injects the Slack
channel's notifier (with the mounted Slack app's Web API client) into the mailbox worker. It lives under
``channels`` because it is the channels' composition, and it is the only module a contract lets import all
three; the application's own composition root (Odoo session, database, stores) is ``copilot.composition``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from channels.email.worker import MailWorker
from channels.http.main import create_app as create_http_app
from channels.http.workers import Worker, build_workers
from channels.slack.notify import SlackNotifier
from copilot.application import Outbox, ResultNotifier
from copilot.composition import Root
from copilot.config import Settings, get_settings
from copilot.service import Copilot

__all__ = ["create_app", "mail_worker", "mount_slack_if_configured", "plug_slack_digest", "serve_workers"]

log = logging.getLogger("channels.http")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ``copilot serve`` application: the HTTP API, ``/slack/events`` when configured, and the workers."""
    settings = settings or get_settings()
    return create_http_app(settings, mounts=[mount_slack_if_configured], workers=serve_workers)


def mount_slack_if_configured(app: FastAPI, settings: Settings) -> None:
    """``/slack/events`` when the Slack app is configured (signing secret and bot token)."""
    if settings.slack_signing_secret is None or settings.slack_bot_token is None:
        return
    from channels.slack.mount import mount_slack

    mount_slack(app, settings, db=app.state.db)


def serve_workers(app: FastAPI, settings: Settings, copilot: Copilot) -> list[Worker]:
    """The mailbox worker (with ``COPILOT_IMAP_HOST``) first, then the HTTP channel's own (the executor, the
    controls' scheduler)."""
    workers: list[Worker] = []
    slack = getattr(app.state, "slack", None)
    plug_slack_digest(copilot, settings, client=getattr(slack, "client", None))
    if settings.imap_host:
        workers.append(mail_worker(settings, copilot, slack_client=getattr(slack, "client", None)))
    return [*workers, *build_workers(settings, metrics=getattr(app.state, "metrics", None), copilot=copilot)]


def mail_worker(settings: Settings, copilot: Copilot, *, slack_client: Any | None = None, **options: Any) -> MailWorker:
    """A mailbox worker whose results go to Slack (bot token or ``slack_client``) or the outbox."""

    def notifier(outbox: Outbox) -> ResultNotifier:
        return SlackNotifier(settings, outbox, slack_client=slack_client)

    return MailWorker(settings, copilot, notifier=notifier, **options)


def plug_slack_digest(copilot: Copilot, settings: Settings, *, client: Any | None = None) -> None:
    """Send the controls' new and worsened exceptions to Slack as a digest per owner, when Slack is configured
    (a bot token): one more sink of this process's composition root, next to Odoo's Exceptions menu."""
    if settings.slack_bot_token is None:
        return
    from channels.slack.sink import SlackDigestSink, slack_digest_sink

    root = copilot.components
    if not isinstance(root, Root):  # a facade on bare components (tests): no controls engine to feed
        return
    sinks = root.control_sinks
    if any(isinstance(sink, SlackDigestSink) for sink in sinks):
        return
    sinks.append(slack_digest_sink(settings, client, db=root.db, deadletters=root.deadletters))
