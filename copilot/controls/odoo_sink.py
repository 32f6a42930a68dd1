"""Odoo's Copilot > Exceptions as an exception sink: the copilot upserts, people acknowledge in Odoo.

The addon's ``copilot.exception.copilot_sync`` is the copilot's only write on that model (the allow-list lets
nothing else through): an upsert by control and key of whitelisted fields. ``OdooExceptionSink.deliver`` sends
the new and worsened exceptions; ``push_closed`` closes the ones a run no longer found; and
``pull_acknowledgements`` reads the ones people acknowledged in Odoo, for the exception store to mark them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from copilot.citations import Citation, record_url
from copilot.controls.model import Delivery, TrackedException
from copilot.odoo.allowlist import EXCEPTION_MODEL, EXCEPTION_SYNC_METHOD
from copilot.tools._values import odoo_datetime

if TYPE_CHECKING:
    from copilot.odoo import OdooClient

__all__ = [
    "ODOO_DATETIME",
    "SYNC_BATCH",
    "OdooAcknowledgement",
    "OdooExceptionSink",
    "exception_values",
    "pull_acknowledgements",
    "push_closed",
]

#: How Odoo writes and reads datetimes over RPC (UTC, no zone).
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
#: Exceptions per ``copilot_sync`` call (the addon takes at most 1000).
SYNC_BATCH = 200
_ACK_FIELDS = ("control", "key", "acknowledged_by", "acknowledged_at")


class OdooAcknowledgement(BaseModel):
    """One exception a person acknowledged in Odoo."""

    control: str
    key: str
    acknowledged_at: datetime = Field(description="When, in UTC")
    acknowledged_by: str | None = Field(default=None, description="The user's name as Odoo shows it")
    acknowledged_by_id: int | None = None


def _odoo_datetime(value: datetime | None) -> str | bool:
    """``value`` in UTC as Odoo writes it (a naive datetime is taken as UTC); False for None."""
    return False if value is None else odoo_datetime(value)


def _citation(citation: Citation, odoo_url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = citation.model_dump()
    url = record_url(odoo_url, citation.model, citation.id)
    if url:
        out["url"] = url
    return out


def exception_values(
    tracked: TrackedException, *, owner: str | None = None, odoo_url: str | None = None
) -> dict[str, Any]:
    """The ``copilot_sync`` values of one tracked exception (the addon's whitelisted fields only).

    The state is sent only when the copilot may set it (open, snoozed, closed): an acknowledgement is a person's,
    made in Odoo or in Slack, and never written by the copilot.
    """
    finding = tracked.finding
    values: dict[str, Any] = {
        "key": finding.key,
        "control": finding.control,
        "severity": finding.severity,
        "score": finding.score,
        "title": finding.title,
        "reason": finding.reason,
        "evidence": [_citation(c, odoo_url) for c in finding.evidence],
        "factors": [f.model_dump() for f in finding.factors],
        "first_seen": _odoo_datetime(tracked.first_seen),
        "last_seen": _odoo_datetime(tracked.last_seen),
    }
    if tracked.state != "acknowledged":
        values["state"] = tracked.state
    if tracked.state == "snoozed":
        values["snoozed_until"] = _odoo_datetime(tracked.snoozed_until)
    if owner:
        values["owner"] = owner
    record = finding.record
    if record is not None:
        values.update(record_model=record.model, record_id=record.id, record_name=record.display_name)
        url = record_url(odoo_url, record.model, record.id)
        if url:
            values["record_url"] = url
    return values


def _sync(client: OdooClient, values: list[dict[str, Any]], batch: int) -> list[int | bool]:
    ids: list[int | bool] = []
    for start in range(0, len(values), batch):
        ids.extend(client.execute(EXCEPTION_MODEL, EXCEPTION_SYNC_METHOD, values[start : start + batch]) or [])
    return ids


class OdooExceptionSink:
    """An ``ExceptionSink`` that upserts each delivered exception into Odoo's Copilot > Exceptions."""

    name = "odoo"

    def __init__(self, client: OdooClient, *, odoo_url: str | None = None, batch: int = SYNC_BATCH) -> None:
        self._client = client
        self._odoo_url = odoo_url
        self._batch = max(1, batch)

    def deliver(self, owner: str, deliveries: list[Delivery]) -> None:
        """Upsert one owner's new and worsened exceptions (one call per ``batch`` exceptions)."""
        values = [exception_values(d.exception, owner=owner, odoo_url=self._odoo_url) for d in deliveries]
        if values:
            _sync(self._client, values, self._batch)

    # -- the engine's mirror (``copilot.controls.model.ExceptionMirror``) ----------------------------------
    def acknowledged(self, control: str, since: datetime | None) -> list[OdooAcknowledgement]:
        """What people acknowledged in Odoo's Exceptions menu for ``control`` since ``since``."""
        return pull_acknowledgements(self._client, since=since, control=control)

    def closed(self, control: str, keys: Sequence[str]) -> None:
        """Close in Odoo what a run of ``control`` no longer found."""
        if keys:
            push_closed(self._client, control, keys, batch=self._batch)


def push_closed(client: OdooClient, control: str, keys: Iterable[str], *, batch: int = SYNC_BATCH) -> int:
    """Close in Odoo the exceptions of ``control`` a run no longer found; how many Odoo had (and closed)."""
    values = [{"control": control, "key": key, "state": "closed"} for key in dict.fromkeys(keys)]
    return sum(1 for rid in _sync(client, values, max(1, batch)) if rid)


def _parse_odoo_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value[:19], ODOO_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def pull_acknowledgements(
    client: OdooClient, *, since: datetime | None = None, control: str | None = None, limit: int = 1000
) -> list[OdooAcknowledgement]:
    """The exceptions people acknowledged in Odoo (from ``since`` on, of ``control`` when given), oldest first.

    Odoo keeps whole seconds: the ones acknowledged in the second of ``since`` come again (marking one twice is
    harmless; missing one is not).
    """
    domain: list[Any] = [("state", "=", "acknowledged")]
    if since is not None:
        domain.append(("acknowledged_at", ">=", _odoo_datetime(since)))
    if control is not None:
        domain.append(("control", "=", control))
    rows = client.search_read(EXCEPTION_MODEL, domain, _ACK_FIELDS, limit=limit, order="acknowledged_at, id")
    out: list[OdooAcknowledgement] = []
    for row in rows:
        when = _parse_odoo_datetime(row.get("acknowledged_at"))
        if when is None or not row.get("control") or not row.get("key"):
            continue
        who = row.get("acknowledged_by")
        user_id, user_name = (who[0], who[1]) if isinstance(who, list | tuple) and len(who) == 2 else (None, None)
        out.append(
            OdooAcknowledgement(
                control=str(row["control"]),
                key=str(row["key"]),
                acknowledged_at=when,
                acknowledged_by=user_name,
                acknowledged_by_id=user_id,
            )
        )
    return out
