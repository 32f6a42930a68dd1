"""The Slack task's work: answer an event a replica acknowledged, with the process's own ``SlackChannel``.

The replica's dedupe (``slack_seen``, shared on PostgreSQL) queues each Slack delivery once; the worker
records ``answered:<event id>`` once the answer is posted, so a redelivered task (its worker died after
posting) does not answer twice.
"""

from __future__ import annotations

from typing import Any

from channels.worker.runtime import WorkerRuntime

__all__ = ["answer_event"]


def _channel(runtime: WorkerRuntime) -> Any:
    channel = getattr(runtime, "slack_channel", None)
    if channel is None:
        from channels.slack.app import SlackChannel

        settings = runtime.settings
        channel = SlackChannel(
            settings,
            lambda: runtime.copilot,
            db=runtime.db,
            deadletters=runtime.deadletters,
            workers=1,
            socket_mode=settings.slack_signing_secret is None,  # a worker verifies no request: the replica did
        )
        runtime.slack_channel = channel  # type: ignore[attr-defined]
    return channel


def answer_event(runtime: WorkerRuntime, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answer one queued Slack event once; returns what happened."""
    channel = _channel(runtime)
    event_id = str(body.get("event_id") or "")
    done = f"answered:{event_id}"
    if event_id and channel.state.seen(done):
        return {"status": "duplicate", "event_id": event_id}
    channel.answer(kind, body)
    if event_id:
        channel.state.first_time(done, handed=True)
    return {"status": "done", "event_id": event_id}
