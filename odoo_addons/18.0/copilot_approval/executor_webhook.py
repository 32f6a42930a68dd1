# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Tell the copilot's executor that a request was approved (a signed HTTP POST, after commit).

Pure Python (no Odoo import) so that the copilot's own tests can check that both sides sign alike.
The wire format is the executor's (``copilot/approvals/webhook.py``)::

    POST <copilot_approval.executor_webhook_url>
    Content-Type: application/json
    X-Copilot-Timestamp: <unix seconds>
    X-Copilot-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>

    {"event_id": "<uuid>", "request_id": 12, "state": "approved", "db": "demo"}

The notification is only a nudge: the executor polls anyway, so a failure here is logged as a
warning and never affects the approval.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid

import requests

_logger = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Copilot-Timestamp"
SIGNATURE_HEADER = "X-Copilot-Signature"
#: Seconds to wait for the executor (connect and read); the approver's request waits at most this long.
TIMEOUT = 3


def sign(secret, timestamp, body):
    """``"sha256=" + hex(HMAC-SHA256(secret, b"<timestamp>." + body))``: the signature header's value."""
    key = secret.encode() if isinstance(secret, str) else secret
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def event_body(request_id, state, db, event_id=None):
    """The JSON body (bytes) of one notification; a fresh event id unless one is given."""
    event = {"event_id": event_id or str(uuid.uuid4()), "request_id": request_id, "state": state, "db": db}
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def post_event(url, secret, body, timeout=TIMEOUT):
    """Sign ``body`` now and POST it to ``url``; True when the executor accepted it. Never raises."""
    event = json.loads(body)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except Exception as exc:  # a notification must never break the committed approval
        _logger.warning(
            "copilot executor webhook: event %s (request %s) not delivered: %s",
            event.get("event_id"),
            event.get("request_id"),
            exc,
        )
        return False
    if response.status_code != 202:
        _logger.warning(
            "copilot executor webhook: event %s (request %s) answered HTTP %s; the executor's polling will pick it up",
            event.get("event_id"),
            event.get("request_id"),
            response.status_code,
        )
        return False
    _logger.info("copilot executor webhook: event %s (request %s) delivered", event["event_id"], event["request_id"])
    return True
