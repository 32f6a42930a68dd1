"""``TaskQueue``: how a ``copilot serve`` replica hands work to the workers (by task name: no task code here)."""

from __future__ import annotations

import base64
import time
from typing import Any

from channels.worker.names import EMAIL_TASK, EXECUTOR_TASK, SLACK_TASK, URGENT, WEBHOOK_TASK
from copilot.config import Settings
from copilot.observability.queues import QUEUED_AT_HEADER

__all__ = ["TaskQueue", "decode", "encode"]

#: Publishing gives up within about a second when Redis is away (the caller answers 503, the sender retries).
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.0, "interval_step": 0.3, "interval_max": 0.5}


def encode(data: bytes) -> str:
    """Bytes as text for a JSON task argument (base64)."""
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    """The bytes ``encode`` turned into text."""
    return base64.b64decode(text.encode("ascii"), validate=True)


class TaskQueue:
    """Sends tasks to the ``urgent`` queue on the configured Redis (the workers run them)."""

    def __init__(self, settings: Settings, celery: Any | None = None) -> None:
        if celery is None:
            from channels.worker.celery_app import create_celery

            celery = create_celery(settings)
        self.celery = celery

    def _send(self, name: str, *args: Any, shown: str, queue: str = URGENT) -> str:
        """Publish; ``shown`` is what monitors and logs see of the arguments (Celery's own repr would carry the
        message's content, and costs a walk over it on every publish)."""
        result = self.celery.send_task(
            name,
            args=list(args),
            queue=queue,
            retry=True,
            retry_policy=RETRY_POLICY,
            argsrepr=shown,
            kwargsrepr="{}",
            headers={QUEUED_AT_HEADER: round(time.time(), 3)},  # the age of the oldest waiting task (/metrics)
        )
        return str(result.id)

    def webhook(self, source: str, event_id: str, body: bytes) -> str:
        """Run a claimed webhook event (the ledger already holds it as ``accepted``); returns the task id."""
        shown = f"({source!r}, {event_id!r}, <{len(body)} bytes>)"
        return self._send(WEBHOOK_TASK, source, event_id, encode(body), shown=shown)

    def email(self, raw: bytes, *, uid: int = 0, uidvalidity: int = 0, folder: str | None = None) -> str:
        """Process one raw inbound email (exactly once, by the email ledger's claim)."""
        shown = f"(<email of {len(raw)} bytes>, {uid}, {uidvalidity}, {folder!r})"
        return self._send(EMAIL_TASK, encode(raw), uid, uidvalidity, folder, shown=shown)

    def slack(self, kind: str, body: dict[str, Any]) -> str:
        """Answer one acknowledged Slack event (``mention`` or ``direct_message``)."""
        shown = f"({kind!r}, <Slack event {str(body.get('event_id') or '?')[:64]}>)"
        return self._send(SLACK_TASK, kind, body, shown=shown)

    def wake_executor(self) -> bool:
        """Ask a worker to run the approval executor now (an approval was granted)."""
        self._send(EXECUTOR_TASK, shown="()", queue=URGENT)
        return True

    def ping(self) -> None:
        """Reach the broker (a readiness check); raises when Redis is away."""
        with self.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)

    def close(self) -> None:
        """Release the broker connections."""
        self.celery.close()
