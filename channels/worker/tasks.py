"""The tasks: each translates a queued message into a call of the facade (through the channel's own code).

``register_tasks(app)`` adds them to a Celery app built by ``create_celery``. Every task is idempotent by a
claim in the shared database: the email ledger (``process_email``), the webhook event ledger
(``process_webhook``), Odoo's own state machine for the executor. A failure worth retrying (Odoo, Slack or
SMTP away) is retried with exponential backoff a bounded number of times, then parked in the dead letters
with its reason; any other failure is parked at once.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from fastapi.encoders import jsonable_encoder

from channels.email.worker import TRANSIENT
from channels.worker.celery_app import create_celery
from channels.worker.enqueue import decode
from channels.worker.names import (
    CONTROL_TASK,
    EMAIL_TASK,
    EXECUTOR_TASK,
    MAIL_POLL_TASK,
    REINDEX_TASK,
    SLACK_TASK,
    WEBHOOK_TASK,
)
from channels.worker.runtime import WorkerRuntime, runtime_for
from copilot.config import Settings
from copilot.errors import CopilotError

__all__ = ["MAX_RETRIES", "backoff", "register_tasks", "worker_app"]

log = logging.getLogger("channels.worker")

#: Retries of a task that failed for a transient reason, before it is parked.
MAX_RETRIES = 4
#: How long a poll's mark "this UID is queued" lasts (a lost task is queued again after it).
QUEUED_MARK_SECONDS = 600


def backoff(retries: int, *, base: float = 5.0, cap: float = 300.0) -> float:
    """Seconds before retry number ``retries + 1``: 5, 10, 20, 40 ... at most ``cap``."""
    return float(min(cap, base * (2**retries)))


def _runtime(task: Task) -> WorkerRuntime:
    return runtime_for(task.app)


def _retry_in(task: Task, runtime: WorkerRuntime) -> float:
    """The next backoff, never longer than a task may run: Redis would hand a task held longer to another worker."""
    return backoff(task.request.retries, cap=min(300.0, float(runtime.settings.task_time_limit)))


def process_email(
    task: Task, raw: str, uid: int = 0, uidvalidity: int = 0, folder: str | None = None
) -> dict[str, Any]:
    """Process one inbound email exactly once (the email ledger's claim, owned by this task's id)."""
    runtime = _runtime(task)
    result = runtime.mail.process(decode(raw), uid=uid, uidvalidity=uidvalidity, folder=folder, owner=task.request.id)
    if result.status == "retry":  # transient: the ledger counts the attempts and parks past its bound
        raise task.retry(countdown=_retry_in(task, runtime), max_retries=MAX_RETRIES + 1)
    if result.status == "deferred" and result.retry_after:  # rate limited: later, not a failed attempt
        raise task.retry(countdown=result.retry_after, max_retries=MAX_RETRIES * 5)
    if folder is not None:
        runtime.mail.mark_on_server(result, uidvalidity=uidvalidity, folder=folder)
    return {"status": result.status, "key": result.key, "kind": result.kind}


def process_webhook(task: Task, source: str, event_id: str, body: str) -> dict[str, Any]:
    """Run one accepted webhook event exactly once (the event ledger's claim, owned by this task's id)."""
    from channels.http.routes.webhooks import EVENT_ADAPTER, run_event

    runtime = _runtime(task)
    started = runtime.events.start(source, event_id, owner=task.request.id, lease=runtime.lease)
    if started != "claimed":
        log.info("webhook %s event %s: %s, not run again", source, event_id, started)
        return {"status": started}
    raw = decode(body)
    type_ = "?"
    try:
        event = EVENT_ADAPTER.validate_json(raw)  # the replica validated it; a bad one is parked, never stuck
        type_ = event.type
        result = jsonable_encoder(run_event(runtime.copilot, source, event, wake=runtime.queue.wake_executor))
    except TRANSIENT as exc:
        if task.request.retries < MAX_RETRIES:
            log.warning("webhook %s event %s failed (%s); retrying", source, event_id, type(exc).__name__)
            raise task.retry(countdown=_retry_in(task, runtime), max_retries=MAX_RETRIES) from exc
        _fail_webhook(runtime, source, event_id, type_, raw, exc, attempts=task.request.retries + 1)
        return {"status": "parked"}
    except Exception as exc:
        if not isinstance(exc, CopilotError):
            log.exception("webhook %s event %s (%s) failed", source, event_id, type_)
        _fail_webhook(runtime, source, event_id, type_, raw, exc, attempts=task.request.retries + 1)
        return {"status": "parked"}
    runtime.events.finish(source, event_id, result=result)
    runtime.metrics.webhook(source, type_, "done")
    log.info("webhook %s event %s (%s) done", source, event_id, type_)
    return {"status": "done"}


def _fail_webhook(
    runtime: WorkerRuntime, source: str, event_id: str, type_: str, raw: bytes, exc: Exception, *, attempts: int
) -> None:
    reason = f"{type(exc).__name__}: {exc}"
    # Parked first: once the ledger says failed, its dead letter is there to replay (never a failed event without one).
    runtime.deadletters.park(
        channel="webhook",
        key=f"{source}:{event_id}"[:500],
        reason=reason,
        error_type=type(exc).__name__,
        payload=raw,
        summary=f"{source} {type_}",
        attempts=attempts,
    )
    runtime.events.finish(source, event_id, error=reason)
    runtime.metrics.webhook(source, type_, "parked")


def poll_mailbox(task: Task) -> dict[str, int]:
    """Queue each new message of the shared mailbox as its own urgent task; flag those already finished."""
    runtime = _runtime(task)
    mail = runtime.mail
    mailbox = mail.mailbox
    counts = {"queued": 0, "flagged": 0, "already_queued": 0}
    with mail._poll_lock:
        if not mailbox.connected:
            mailbox.connect()
        validity = mailbox.uidvalidity or 0
        for uid in mailbox.pending_uids():
            known = mail.ledger.uid_status(mailbox.folder, validity, uid)
            if known in ("done", "parked"):  # processed by a worker: now flagged on the server
                (mailbox.mark_parked if known == "parked" else mailbox.mark_done)(uid)
                counts["flagged"] += 1
                continue
            mark = f"copilot:mail:queued:{mailbox.folder}:{validity}:{uid}"
            if not runtime.redis.set(mark, task.request.id or "1", nx=True, ex=QUEUED_MARK_SECONDS):
                counts["already_queued"] += 1
                continue
            raw = mailbox.fetch(uid)
            if raw is None:
                continue
            runtime.queue.email(raw, uid=uid, uidvalidity=validity, folder=mailbox.folder)
            counts["queued"] += 1
    if counts["queued"] or counts["flagged"]:
        log.info("mail poll: %s", counts)
    return counts


def run_executor(task: Task) -> dict[str, Any]:
    """One pass of the approval executor (Odoo's request states make concurrent passes safe)."""
    runtime = _runtime(task)
    if runtime.settings.executor_password is None or runtime.settings.sandbox:
        return {"status": "not configured"}
    report = runtime.executor.run_once()
    return jsonable_encoder(report)


def reindex(task: Task, folder: str | None = None, corpus: str | None = None) -> dict[str, Any]:
    """Re-index a folder of documents into the knowledge base (default: the sample one)."""
    from pathlib import Path

    from copilot.retrieval import KnowledgeBase, VectorStore, index_folder, sample_kb_path

    runtime = _runtime(task)
    store = VectorStore.from_settings(runtime.settings, embedder=runtime.copilot.components.embedder)
    summary = index_folder(Path(folder) if folder else sample_kb_path(), KnowledgeBase(store), corpus=corpus)
    return jsonable_encoder(summary)


def run_control(task: Task, name: str) -> dict[str, Any]:
    """A scheduled control, run through the facade as the scheduler (new and worsened exceptions are sent)."""
    from copilot.application.principals import ServiceClient

    runtime = _runtime(task)
    result = runtime.copilot.run_control(ServiceClient.scheduler(), name)
    changes = [d.change for d in result.deliveries]
    return {
        "status": "done",
        "control": name,
        "findings": len(result.findings),
        "new": changes.count("new"),
        "worsened": changes.count("worsened"),
        "closed": len(result.closed),
    }


def answer_slack(task: Task, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answer one Slack event a replica acknowledged (a mention, a direct message) in its thread."""
    from channels.worker.slack import answer_event

    return answer_event(_runtime(task), kind, body)


def register_tasks(app: Celery) -> None:
    """Add the copilot's tasks to ``app`` (names and default queues in ``channels.worker.names``)."""
    common: dict[str, Any] = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}
    app.task(name=EMAIL_TASK, max_retries=MAX_RETRIES + 1, **common)(process_email)
    app.task(name=WEBHOOK_TASK, max_retries=MAX_RETRIES, **common)(process_webhook)
    app.task(name=SLACK_TASK, max_retries=0, **common)(answer_slack)
    app.task(name=MAIL_POLL_TASK, max_retries=0, **common)(poll_mailbox)
    app.task(name=EXECUTOR_TASK, max_retries=0, **common)(run_executor)
    app.task(name=REINDEX_TASK, max_retries=0, **common)(reindex)
    app.task(name=CONTROL_TASK, max_retries=0, **common)(run_control)


def worker_app(settings: Settings) -> Celery:
    """The Celery app of ``copilot worker``: ``create_celery``'s configuration with the copilot's tasks."""
    app = create_celery(settings)
    register_tasks(app)
    return app
