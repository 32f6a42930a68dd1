"""Adapters that only translate: Slack (Bolt), email (IMAP in, SMTP out), HTTP (FastAPI)."""
