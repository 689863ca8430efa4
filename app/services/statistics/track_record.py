"""A partner's track record, shown beside it when a caseworker chooses where to send someone.

For each receiving structure, over the hand-offs it was sent in the last ``WINDOW_DAYS`` days
that it answered (``answered_on`` set: accepted, declined or redirected):

- the **median time to answer**: whole days from the (UTC) day of sending to the day of the
  answer (its effective date);
- the **acceptance rate**: the share of those answers that were not a decline or a redirect.

Both are shown to partner structures: publication view, each hidden (``None``) when fewer than
k answered hand-offs are behind it. All the partners of a form are read in one grouped query.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.domain.handoffs import HandoffStatus
from app.models import Handoff
from app.services.statistics.sql import days_between, uses_percentile, utc_date

WINDOW_DAYS = 365  # the last 12 months


@dataclass(frozen=True)
class TrackRecord:
    """A partner's published figures (``None``: fewer than k answers behind them)."""

    median_days_to_answer: float | None
    acceptance_rate: float | None

    @property
    def shown(self) -> bool:
        return self.median_days_to_answer is not None


HIDDEN = TrackRecord(None, None)


def track_record_query(
    structure_ids: Collection[int], since: datetime, *, percentile: bool
) -> Select[Any]:
    """(receiver, median days to answer, answered hand-offs, accepted ones) per receiver."""
    sent = utc_date(Handoff.sent_at)
    days = days_between(sent, Handoff.answered_on)
    accepted = case(
        (Handoff.status.in_((HandoffStatus.DECLINED, HandoffStatus.REDIRECTED)), 0), else_=1
    )
    conditions = (
        Handoff.to_structure_id.in_(list(structure_ids)),
        Handoff.sent_at >= since,
        Handoff.answered_on.is_not(None),
    )
    receiver = Handoff.to_structure_id
    if percentile:
        return (
            select(
                receiver,
                func.percentile_cont(0.5).within_group(days),
                func.count(),
                func.sum(accepted),
            )
            .where(*conditions)
            .group_by(receiver)
        )
    # SQLite has no percentile aggregate: rank each receiver's delays, keep the middle ones.
    ranked = (
        select(
            receiver.label("receiver"),
            days.label("days"),
            func.row_number().over(partition_by=receiver, order_by=days).label("rank"),
            func.count().over(partition_by=receiver).label("n"),
            func.sum(accepted).over(partition_by=receiver).label("accepted"),
        )
        .where(*conditions)
        .subquery()
    )
    return (
        select(
            ranked.c.receiver,
            func.avg(ranked.c.days),
            func.max(ranked.c.n),
            func.max(ranked.c.accepted),
        )
        .where(ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.receiver)
    )


def track_records(
    session: Session, structure_ids: Collection[int], *, now: datetime, k: int
) -> dict[int, TrackRecord]:
    """The published track record of each structure of ``structure_ids`` (one query);
    ``HIDDEN`` for those with fewer than k answered hand-offs in the last 12 months."""
    records = dict.fromkeys(structure_ids, HIDDEN)
    if not structure_ids:
        return records
    since = now - timedelta(days=WINDOW_DAYS)
    query = track_record_query(structure_ids, since, percentile=uses_percentile(session))
    for receiver, median, answered, accepted in session.execute(query):
        if statistic_is_safe(int(answered), k):
            records[receiver] = TrackRecord(
                median_days_to_answer=float(median),
                acceptance_rate=int(accepted or 0) / int(answered),
            )
    return records
