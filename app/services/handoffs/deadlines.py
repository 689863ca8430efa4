"""Hand-off deadlines: overdue flags for the lists, and the scheduled expiry.

A hand-off still ``sent`` is *overdue* after ``HANDOFF_OVERDUE_DAYS`` (10 by default) and
*expires* after ``HANDOFF_EXPIRY_DAYS`` (30), in periods of 24 hours from ``sent_at`` (the
rule is ``app.domain.deadlines``). To expire one, the system applies ``HandoffEvent.EXPIRE``
through ``app.services.handoffs.apply_event``, so the expiry is recorded, audited and
announced like any other transition. ``flask --app app handoffs expire`` runs it (cron).

Expiring is idempotent (an expired hand-off is no longer ``sent``). A hand-off answered while
the job runs makes ``apply_event`` raise ``Conflict``: that hand-off is skipped and counted,
and only its savepoint is rolled back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from app.domain.deadlines import deadline_cutoff, is_past_deadline
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.models import Handoff
from app.services.errors import Conflict
from app.services.handoffs import apply_event
from app.services.security.vault import Vault

BATCH_SIZE = 100


def is_overdue(handoff: Handoff, now: datetime, overdue_days: int) -> bool:
    """Whether ``handoff`` has waited more than ``overdue_days`` for an answer."""
    return handoff.status is HandoffStatus.SENT and is_past_deadline(
        handoff.sent_at, now, overdue_days
    )


def waiting_since(now: datetime, days: int) -> ColumnElement[bool]:
    """SQL condition: still ``sent``, sent more than ``days`` ago (for lists and filters)."""
    return and_(Handoff.status == HandoffStatus.SENT, Handoff.sent_at < deadline_cutoff(now, days))


def due_for_expiry(now: datetime, expiry_days: int) -> Select[Handoff]:
    """The hand-offs to expire at ``now``, oldest first."""
    return (
        select(Handoff).where(waiting_since(now, expiry_days)).order_by(Handoff.sent_at, Handoff.id)
    )


def count_due_for_expiry(session: Session, *, now: datetime, expiry_days: int) -> int:
    count = session.scalar(
        select(func.count()).select_from(Handoff).where(waiting_since(now, expiry_days))
    )
    return count or 0


@dataclass
class ExpiryReport:
    expired: int = 0
    skipped: int = 0  # answered by someone else while the job ran

    @property
    def handled(self) -> int:
        return self.expired + self.skipped


def expire_handoffs(
    session: Session,
    vault: Vault,
    *,
    now: datetime,
    expiry_days: int,
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
) -> ExpiryReport:
    """Expire the hand-offs due at ``now`` (at most ``limit``), ``batch_size`` at a time.

    Each expiry runs in a savepoint, so a ``Conflict`` loses only that one. Flushes, never
    commits: the caller commits (``limit`` lets it commit between rounds).
    """
    report = ExpiryReport()
    skipped: set[uuid.UUID] = set()
    while limit is None or report.handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - report.handled)
        query = due_for_expiry(now, expiry_days)
        if skipped:
            query = query.where(Handoff.id.not_in(skipped))
        batch = session.scalars(query.limit(size)).all()
        if not batch:
            break
        for handoff in batch:
            try:
                with session.begin_nested():
                    apply_event(session, vault, None, handoff, HandoffEvent.EXPIRE, now=now)
            except Conflict:
                skipped.add(handoff.id)
                report.skipped += 1
                continue
            report.expired += 1
    return report
