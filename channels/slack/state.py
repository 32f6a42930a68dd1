"""The Slack channel's own state: deliveries already seen (retries dedupe) and proposals behind buttons.

``slack_seen`` holds one row per event id, trigger id or command fingerprint for a few hours: Slack
retries an event it thinks was missed (``X-Slack-Retry-Num``) with the same ``event_id``, and a second
row for the same key is refused by the primary key (``INSERT ... ON CONFLICT DO NOTHING``, and an expired key
is taken back by one conditional update), so two concurrent deliveries, in one process or in several
replicas, cannot both win. ``handed_at`` says the delivery was queued (or started in the replica that
received it); a delivery to queue is claimed, queued and marked handed over in one transaction
(``first_time(..., hand_over=...)``), so it is never seen without being handed over. A retry of a delivery
still not handed over ``HANDOVER_GRACE`` after it was seen (a replica answering it itself died before
acking it) takes it over, again for one taker only.
``slack_proposals`` keeps the proposals a message offers, keyed by their idempotency key, because a
button's value holds at most 2000 characters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from copilot.approvals import Proposal
from copilot.state.claims import insert_if_absent
from copilot.state.database import Database, Store
from copilot.state.tables import SeenRow, StashedProposalRow

__all__ = ["HANDOVER_GRACE", "SeenRow", "SlackState", "StashedProposalRow"]

#: How long a delivery is remembered (Slack retries within minutes) and a proposal stays clickable.
SEEN_TTL = timedelta(hours=6)
PROPOSAL_TTL = timedelta(days=14)
#: How long a seen delivery may still be on its way to the queue (publishing gives up within about a second);
#: a retry of one not handed over after this long takes it over.
HANDOVER_GRACE = timedelta(seconds=10)
#: Expired rows are deleted every this many new keys.
PURGE_EVERY = 200


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SlackState(Store):
    """Dedupe keys and stashed proposals in the project's database."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._writes = 0

    def first_time(
        self,
        key: str,
        *,
        now: datetime | None = None,
        handed: bool = False,
        hand_over: Callable[[], Any] | None = None,
    ) -> bool:
        """Record ``key``; True the first time within the TTL (or to take over one never handed over), else False.

        ``handed``: the caller does the work at once (a marker, not a delivery to queue).
        ``hand_over``: queue the delivery inside the claim's transaction, once the claim is won: the row is
        committed as handed over together with it (one transaction for the whole hand-over); when it raises,
        nothing is recorded (the transaction is rolled back) and the exception propagates.
        """
        now = now or datetime.now(UTC)
        key = key[:300]
        values = {"key": key, "seen_at": now, "handed_at": now if handed or hand_over is not None else None}
        with self.db.session() as session, session.begin():
            fresh = insert_if_absent(session, SeenRow.__table__, values)  # type: ignore[arg-type]
            if not fresh:  # seen before: new again past the TTL, or never handed over; for one taker only
                expired = SeenRow.seen_at < now - SEEN_TTL
                abandoned = and_(SeenRow.handed_at.is_(None), SeenRow.seen_at < now - HANDOVER_GRACE)
                fresh = bool(
                    session.execute(
                        update(SeenRow)
                        .where(SeenRow.key == key, or_(expired, abandoned))
                        .values(seen_at=now, handed_at=values["handed_at"])
                    ).rowcount
                )
            if fresh and hand_over is not None:  # a concurrent delivery waits on this row until the commit
                hand_over()
        if not fresh:
            return False
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self.purge(now=now)
        return True

    def handed(self, key: str, *, now: datetime | None = None) -> None:
        """Record that the delivery ``key`` was queued or started: a retry of it is a duplicate from now on."""
        now = now or datetime.now(UTC)
        with self.db.session() as session, session.begin():
            session.execute(update(SeenRow).where(SeenRow.key == key[:300]).values(handed_at=now))

    def seen(self, key: str, *, now: datetime | None = None) -> bool:
        """True when ``key`` was recorded within the TTL (read only; ``first_time`` records)."""
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(SeenRow, key[:300])
            return row is not None and now - _aware(row.seen_at) < SEEN_TTL

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete dedupe keys past their TTL and proposals past theirs; returns how many rows went."""
        now = now or datetime.now(UTC)
        with self.db.session() as session, session.begin():
            gone = session.execute(delete(SeenRow).where(SeenRow.seen_at < now - SEEN_TTL)).rowcount or 0
            gone += (
                session.execute(
                    delete(StashedProposalRow).where(StashedProposalRow.created_at < now - PROPOSAL_TTL)
                ).rowcount
                or 0
            )
        return int(gone)

    def stash(self, proposals: list[Proposal]) -> None:
        """Keep proposals a message offers, so that a button click can find them by idempotency key."""
        now = datetime.now(UTC)
        with self.db.session() as session, session.begin():
            for proposal in proposals:
                data = proposal.model_dump(mode="json", exclude={"idempotency_key"})
                session.merge(StashedProposalRow(key=proposal.idempotency_key, proposal=data, created_at=now))

    def proposal(self, key: str) -> Proposal | None:
        """The stashed proposal with idempotency key ``key``, if still kept."""
        with self.db.session() as session:
            row = session.scalars(select(StashedProposalRow).where(StashedProposalRow.key == key)).first()
            return Proposal.model_validate(row.proposal) if row is not None else None
