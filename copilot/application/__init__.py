"""The application layer: who asks (principals), what they may run (authorization by principal and use case),
what the use cases return, and the ports channels implement. The facade is ``copilot.service.Copilot``."""

from copilot.application.authorization import MAILBOX_USE_CASES, authorize, believes_mail_server
from copilot.application.outbox import Delivery, Outbox, OutboxNotifier
from copilot.application.outcomes import SenderKind, SenderRoles, SupplierEmailOutcome
from copilot.application.ports import NotifierUnavailable, ResultNotifier
from copilot.application.principals import (
    USE_CASES,
    Person,
    Principal,
    ServiceClient,
    SharedMailbox,
    UseCase,
)

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
