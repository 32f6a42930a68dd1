"""Real servers on loopback for integration tests: Dovecot (IMAP), PostgreSQL, Redis and aiosmtpd (SMTP)."""
