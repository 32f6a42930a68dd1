"""The email channel: the shared mailbox over IMAP in, answers over SMTP out, results to Slack or the outbox.

``MailWorker`` polls (IDLE where supported) and processes each message exactly once; ``EmailRouter`` decides
whether an email is a staff question, a supplier's email or a customer's; failures end in the dead-letter
store (``copilot.state.deadletters``) with their reason.
"""

from channels.email.ledger import EmailLedger, message_key
from channels.email.mailbox import Mailbox, MailboxUnavailable
from channels.email.notify import Outbox, OutboxNotifier
from channels.email.router import EmailRouter, Outcome
from channels.email.smtp import SmtpSender, SmtpUnavailable, build_reply
from channels.email.worker import MailWorker, MessageResult, PollReport

__all__ = [
    "EmailLedger",
    "EmailRouter",
    "MailWorker",
    "Mailbox",
    "MailboxUnavailable",
    "MessageResult",
    "Outbox",
    "OutboxNotifier",
    "Outcome",
    "PollReport",
    "SmtpSender",
    "SmtpUnavailable",
    "build_reply",
    "message_key",
]
