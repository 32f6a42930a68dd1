"""Scale-out: the copilot's background work as Celery tasks on Redis (``copilot worker``, ``copilot beat``).

``create_celery(settings)`` builds the Celery application (broker ``COPILOT_REDIS_URL``, queues ``urgent``
and ``batch``, late acknowledgement); ``TaskQueue`` is the producer side a ``copilot serve`` replica uses
to hand webhook events, Slack events and mail to the workers. See docs/scale-out.md.
"""

from __future__ import annotations

from copilot._lazy import lazy_exports

__all__ = ["BATCH", "URGENT", "TaskQueue", "create_celery"]

__getattr__ = lazy_exports(
    __name__,
    {"BATCH": "celery_app", "URGENT": "celery_app", "create_celery": "celery_app", "TaskQueue": "enqueue"},
)
