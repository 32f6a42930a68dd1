"""Real servers on loopback for integration tests: Dovecot (IMAP) and aiosmtpd (SMTP)."""
