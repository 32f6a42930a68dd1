"""Outbound mail (smtplib): the copilot's answers to questions emailed by staff, threaded under the question."""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from email.message import EmailMessage

from copilot.config import Settings
from copilot.errors import CopilotError
from copilot.guardrails.subject import NEUTRAL_SUBJECT, reply_subject

__all__ = ["NEUTRAL_SUBJECT", "SmtpSender", "SmtpUnavailable", "build_reply", "reply_subject"]


class SmtpUnavailable(CopilotError):
    """The SMTP server could not be reached or refused the message for now."""


def build_reply(
    *,
    to: str,
    from_addr: str,
    subject: str,
    body: str,
    message_id: str | None,
    references: str | None,
) -> EmailMessage:
    """A plain-text reply threaded under the original (``In-Reply-To``, ``References``), marked auto-replied;
    its subject repeats the original's only in a safe form (``channels.email.subject``)."""
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to
    msg["Subject"] = reply_subject(subject)
    msg["Date"] = email.utils.formatdate(localtime=False)
    domain = from_addr.rsplit("@", 1)[-1].strip(">") if "@" in from_addr else None
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    if message_id:
        msg["In-Reply-To"] = message_id
        chain = " ".join((references or "").split())
        msg["References"] = f"{chain} {message_id}".strip() if message_id not in chain.split() else chain
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots do not answer it
    msg.set_content(body)
    return msg


class SmtpSender:
    """Sends one message per connection with the configured TLS mode and login."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpSender needs COPILOT_SMTP_HOST")
        self.settings = settings
        self.timeout = timeout
        self._ssl_context = ssl_context

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; ``SmtpUnavailable`` when the server is away or answers with a 4xx (retry later)."""
        s = self.settings
        context = self._ssl_context or ssl.create_default_context()
        try:
            if s.smtp_tls == "ssl":
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host or "", s.smtp_port, timeout=self.timeout, context=context
                )
            else:
                server = smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=self.timeout)
            with server:
                if s.smtp_tls == "starttls":
                    server.starttls(context=context)
                if s.smtp_user:
                    server.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
                server.send_message(message)
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise SmtpUnavailable(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            raise SmtpUnavailable(f"SMTP server {s.smtp_host}:{s.smtp_port} unavailable: {exc}") from exc
