"""The application layer: who asks (principals), what they may run (authorization by principal and use case),
what the use cases return, and the ports channels implement. The facade is ``copilot.service.Copilot``.

The names are imported lazily: ``copilot --help`` and the CLI's principal never pull in the stores or skills.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.application.authorization import MAILBOX_USE_CASES, authorize, believes_mail_server
    from copilot.application.outbox import Delivery, Outbox, OutboxNotifier
    from copilot.application.outcomes import SenderKind, SenderRoles, SupplierEmailOutcome
    from copilot.application.ports import NotifierUnavailable, ResultNotifier
    from copilot.application.principals import USE_CASES, Person, Principal, ServiceClient, SharedMailbox, UseCase

__all__ = [
    "MAILBOX_USE_CASES",
    "USE_CASES",
    "Delivery",
    "NotifierUnavailable",
    "Outbox",
    "OutboxNotifier",
    "Person",
    "Principal",
    "ResultNotifier",
    "SenderKind",
    "SenderRoles",
    "ServiceClient",
    "SharedMailbox",
    "SupplierEmailOutcome",
    "UseCase",
    "authorize",
    "believes_mail_server",
]

__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(["MAILBOX_USE_CASES", "authorize", "believes_mail_server"], "authorization"),
        **dict.fromkeys(["Delivery", "Outbox", "OutboxNotifier"], "outbox"),
        **dict.fromkeys(["SenderKind", "SenderRoles", "SupplierEmailOutcome"], "outcomes"),
        **dict.fromkeys(["NotifierUnavailable", "ResultNotifier"], "ports"),
        **dict.fromkeys(
            ["USE_CASES", "Person", "Principal", "ServiceClient", "SharedMailbox", "UseCase"], "principals"
        ),
    },
)
