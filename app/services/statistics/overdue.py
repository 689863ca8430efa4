"""The overdue hand-offs by receiving partner: an actionable list for the coordination.

A hand-off is overdue when it is still ``sent`` more than ``HANDOFF_OVERDUE_DAYS`` after its
sending (``app.services.handoffs.deadlines.waiting_since``, the rule of the work queue and of
the reminders). The list names pseudonyms, to open each pathway: it is not a statistic and
never leaves the coordination (the dashboard's exact view only: not in the publication view,
not printed, never exported). One query, capped at ``LIMIT`` hand-offs, oldest first within
each receiving partner; the counts and the oldest sending per partner cover all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.domain.deadlines import days_waiting
from app.models import Beneficiary, Handoff, Structure
from app.services.handoffs.deadlines import waiting_since
from app.services.statistics.scope import Scope, handoffs_in

LIMIT = 200


@dataclass(frozen=True)
class OverdueHandoff:
    pseudonym: str
    sender: Structure
    sent_at: datetime
    days: int  # whole days waiting


@dataclass
class OverdueReceiver:
    receiver: Structure
    count: int  # every overdue hand-off of this receiver, listed or not
    oldest_days: int
    handoffs: list[OverdueHandoff] = field(default_factory=list)

    @property
    def more(self) -> int:
        """Overdue hand-offs of this receiver left out of the list (the cap)."""
        return self.count - len(self.handoffs)


@dataclass(frozen=True)
class OverdueList:
    receivers: list[OverdueReceiver]  # most overdue hand-offs first
    total: int
    days: int  # the deadline

    @property
    def more(self) -> int:
        return self.total - sum(len(r.handoffs) for r in self.receivers)


def overdue_query(
    scope: Scope, *, now: datetime, days: int
) -> Select[int, int, str, datetime, int, datetime, int]:
    """(receiver, sender, pseudonym, sent at, overdue of the receiver, its oldest sending,
    overdue in all): the first ``LIMIT`` overdue hand-offs, by receiver then age."""
    conditions = [waiting_since(now, days), *handoffs_in(scope), Beneficiary.erased_at.is_(None)]
    per_receiver = func.count().over(partition_by=Handoff.to_structure_id)
    oldest = func.min(Handoff.sent_at).over(partition_by=Handoff.to_structure_id)
    return (
        select(
            Handoff.to_structure_id,
            Handoff.from_structure_id,
            Beneficiary.pseudonym,
            Handoff.sent_at,
            per_receiver,
            oldest,
            func.count().over(),
        )
        .join(Beneficiary, Beneficiary.id == Handoff.beneficiary_id)
        .where(*conditions)
        .order_by(per_receiver.desc(), oldest, Handoff.to_structure_id, Handoff.sent_at, Handoff.id)
        .limit(LIMIT)
    )


def overdue_handoffs(
    session: Session,
    scope: Scope,
    structures: Mapping[int, Structure],
    *,
    now: datetime,
    days: int,
) -> OverdueList:
    """The overdue hand-offs sent in the scope, grouped by receiving partner."""
    receivers: dict[int, OverdueReceiver] = {}
    total = 0
    query = overdue_query(scope, now=now, days=days)
    for to_id, from_id, pseudonym, sent_at, count, first, everything in session.execute(query):
        total = everything
        if to_id not in receivers:
            receivers[to_id] = OverdueReceiver(
                receiver=structures[to_id], count=count, oldest_days=days_waiting(first, now)
            )
        receivers[to_id].handoffs.append(
            OverdueHandoff(pseudonym, structures[from_id], sent_at, days_waiting(sent_at, now))
        )
    return OverdueList(receivers=list(receivers.values()), total=total, days=days)
