"""What an approval binds to: the canonical hash of (action, target, payload).

The request stores this hash when it is created; the executor recomputes it from what it is about
to run and refuses a request whose hash differs. The same definition lives, in plain Python, in the
Odoo addon (``odoo_addons/copilot_approval/payload_binding.py``); a unit test keeps both equal.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "payload_hash"]


def canonical_json(action: str, model: str, res_id: int, payload: Any) -> str:
    """Sorted-key, compact, UTF-8 JSON of ``{"action", "target": {"model", "id"}, "payload"}``."""
    document = {"action": action, "target": {"model": model, "id": int(res_id)}, "payload": payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(action: str, model: str, res_id: int, payload: Any) -> str:
    """The hex SHA-256 of ``canonical_json``: what a person approves and the executor must run."""
    return hashlib.sha256(canonical_json(action, model, res_id, payload).encode("utf-8")).hexdigest()
