"""The tasks' names and queues: shared by the producer (``copilot serve``) and the workers, no Celery import."""

from __future__ import annotations

__all__ = [
    "BATCH",
    "CONTROL_TASK",
    "EMAIL_TASK",
    "EXECUTOR_TASK",
    "MAIL_POLL_TASK",
    "QUEUES",
    "REINDEX_TASK",
    "SLACK_TASK",
    "URGENT",
    "WEBHOOK_TASK",
]

#: Events someone waits for: webhook events, Slack events, executor wake-ups, each inbound email.
URGENT = "urgent"
#: Work that may wait: mailbox polls, re-indexing the knowledge base, scheduled controls.
BATCH = "batch"
QUEUES = (URGENT, BATCH)

EMAIL_TASK = "copilot.email.process"
WEBHOOK_TASK = "copilot.webhook.process"
SLACK_TASK = "copilot.slack.event"
EXECUTOR_TASK = "copilot.executor.run"
MAIL_POLL_TASK = "copilot.mail.poll"
REINDEX_TASK = "copilot.kb.reindex"
CONTROL_TASK = "copilot.controls.run"
