"""Load and fault test of the scaled-out service: replicas behind a proxy, Celery workers, PostgreSQL, Redis.

Run: ``python -m benchmarks.load [--webhooks 2000] [--emails 500] [--slack 200] [--quick] [--json]``.
Everything runs on loopback and is bounded by timeouts: a throwaway PostgreSQL cluster and Redis server,
a Dovecot mailbox, the Odoo sandbox (``copilot sandbox``), a local stand-in for Slack's Web API, two
``copilot serve`` replicas behind a small TCP proxy and ``copilot worker`` processes. It sends signed
webhooks and Slack events, delivers emails to the mailbox, kills a worker (SIGKILL) and restarts a
replica mid-run, then compares every input with the ledgers in PostgreSQL and prints the figures.
"""
