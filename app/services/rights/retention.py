"""Retention: idle follow-ups end, and people no longer followed are erased after a notice.

The rule (``app.domain.rights``, ``docs/rights.md``), with ``RETENTION_MONTHS`` (24) and
``ERASURE_NOTICE_DAYS`` (30):

1. *Idle follow-ups end.* The activity of a follow-up - a structure accompanying a person - is
   the latest of: the day it started; the steps that structure recorded for the person (their
   start, end and recording dates); the barriers of the person that structure acts on or
   recorded (identified, closed, recorded); the transitions of the hand-offs of the person
   that structure sent or received. A follow-up whose activity is ``RETENTION_MONTHS`` old or
   older ends, dated at that activity (when the accompaniment actually stopped), with the end
   reason "lost contact"; the audit event records when the rule applied it.
2. *Notice.* A person with no open follow-up whose last follow-up ended ``RETENTION_MONTHS``
   ago or more is due for erasure. The run that finds them sets ``erasure_due_on`` to today
   plus ``ERASURE_NOTICE_DAYS``: until then, their last structure sees the pseudonym and the
   date on its caseload page. A notice is cancelled if the person is followed again.
3. *Erasure.* From ``erasure_due_on`` on, a person still due is erased as at their request
   (``app.services.rights.erasure``), with the cause ``retention``.

``plan_retention`` only reads (``--dry-run`` prints its counts); ``apply_retention`` carries a
plan out in the caller's transaction. Running again the same day changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.rights import ErasureCause, erasure_date, idle_cutoff
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    User,
)
from app.services.rights.erasure import RegisterFile, erase_person
from app.services.security import audit
from app.services.security.vault import Vault

CHUNK = 500
IDLE_END_REASON = "lost_contact"
T = TypeVar("T")


@dataclass(frozen=True)
class IdleFollowUp:
    follow_up_id: uuid.UUID
    beneficiary_id: uuid.UUID
    last_activity: date


@dataclass
class RetentionPlan:
    today: date
    erase_on: date  # the erasure day of the notices given today
    idle: list[IdleFollowUp] = field(default_factory=list)
    to_notice: list[uuid.UUID] = field(default_factory=list)
    to_cancel: list[uuid.UUID] = field(default_factory=list)
    to_erase: list[uuid.UUID] = field(default_factory=list)


@dataclass
class RetentionReport:
    follow_ups_ended: int = 0
    notices_given: int = 0
    notices_cancelled: int = 0
    erased: int = 0


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _as_day(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


# -- activity --------------------------------------------------------------------------------


def _latest(found: dict[tuple[uuid.UUID, int], date], rows: Iterable[Any]) -> None:
    """Fold rows of (person, structure, *dates or datetimes) into ``found``, keeping the
    latest day per (person, structure)."""
    for person, structure, *moments in rows:
        if structure is None:
            continue
        for moment in moments:
            day = _as_day(moment)
            key = (person, structure)
            if day is not None and (key not in found or day > found[key]):
                found[key] = day


def follow_up_activity(
    session: Session, person_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], date]:
    """The latest activity day of each (person, structure) among ``person_ids``, by grouped
    queries: steps, barriers, hand-off transitions (see the module's docstring)."""
    found: dict[tuple[uuid.UUID, int], date] = {}
    for chunk in _chunks(person_ids):
        step = PathwayStep
        _latest(
            found,
            session.execute(
                select(
                    step.beneficiary_id,
                    step.structure_id,
                    func.max(step.started_on),
                    func.max(step.ended_on),
                    func.max(step.created_at),
                )
                .where(step.beneficiary_id.in_(chunk))
                .group_by(step.beneficiary_id, step.structure_id)
            ),
        )
        barrier_dates = (
            func.max(Barrier.identified_on),
            func.max(Barrier.closed_on),
            func.max(Barrier.created_at),
        )
        _latest(
            found,
            session.execute(
                select(Barrier.beneficiary_id, Barrier.acting_structure_id, *barrier_dates)
                .where(Barrier.beneficiary_id.in_(chunk))
                .group_by(Barrier.beneficiary_id, Barrier.acting_structure_id)
            ),
        )
        _latest(
            found,
            session.execute(
                select(Barrier.beneficiary_id, User.structure_id, *barrier_dates)
                .join(User, User.id == Barrier.recorded_by_id)
                .where(Barrier.beneficiary_id.in_(chunk))
                .group_by(Barrier.beneficiary_id, User.structure_id)
            ),
        )
        for side in (Handoff.from_structure_id, Handoff.to_structure_id):
            _latest(
                found,
                session.execute(
                    select(Handoff.beneficiary_id, side, func.max(HandoffTransition.at))
                    .join(HandoffTransition, HandoffTransition.handoff_id == Handoff.id)
                    .where(Handoff.beneficiary_id.in_(chunk))
                    .group_by(Handoff.beneficiary_id, side)
                ),
            )
    return found


def idle_follow_ups(session: Session, *, today: date, months: int) -> list[IdleFollowUp]:
    """The open follow-ups without activity for ``months`` months, oldest activity first."""
    cutoff = idle_cutoff(today, months)
    candidates = session.execute(
        select(FollowUp.id, FollowUp.beneficiary_id, FollowUp.structure_id, FollowUp.started_on)
        .where(FollowUp.ended_on.is_(None), FollowUp.started_on <= cutoff)
        .order_by(FollowUp.started_on, FollowUp.id)
    ).all()
    activity = follow_up_activity(session, sorted({row[1] for row in candidates}))
    idle = []
    for follow_up_id, person_id, structure_id, started_on in candidates:
        last = max(started_on, activity.get((person_id, structure_id), started_on))
        if last <= cutoff:
            idle.append(IdleFollowUp(follow_up_id, person_id, last))
    return sorted(idle, key=lambda i: (i.last_activity, str(i.follow_up_id)))


# -- planning --------------------------------------------------------------------------------


def _people_without_follow_up(cutoff: date) -> Select[uuid.UUID]:
    """People not erased, with no open follow-up, whose last one ended on or before
    ``cutoff`` (or, with none at all, registered in a month starting on or before it)."""
    open_count = func.sum(case((FollowUp.ended_on.is_(None), 1), else_=0))
    last_end = func.coalesce(func.max(FollowUp.ended_on), Beneficiary.created_month)
    return (
        select(Beneficiary.id)
        .outerjoin(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
        .where(Beneficiary.erased_at.is_(None))
        .group_by(Beneficiary.id, Beneficiary.created_month)
        .having(func.coalesce(open_count, 0) == 0, last_end <= cutoff)
    )


def _due_after_idle_ends(
    session: Session, idle: Sequence[IdleFollowUp], cutoff: date
) -> set[uuid.UUID]:
    """People left with no open follow-up once their idle ones end, and due by then."""
    ending: dict[uuid.UUID, list[date]] = defaultdict(list)
    for item in idle:
        ending[item.beneficiary_id].append(item.last_activity)
    due = set()
    for chunk in _chunks(sorted(ending)):
        rows = session.execute(
            select(
                FollowUp.beneficiary_id,
                func.sum(case((FollowUp.ended_on.is_(None), 1), else_=0)),
                func.max(FollowUp.ended_on),
            )
            .join(Beneficiary, Beneficiary.id == FollowUp.beneficiary_id)
            .where(FollowUp.beneficiary_id.in_(chunk), Beneficiary.erased_at.is_(None))
            .group_by(FollowUp.beneficiary_id)
        )
        for person_id, open_count, ended in rows:
            ends = ending[person_id]
            if open_count != len(ends):
                continue  # another follow-up stays open
            if max([*ends, *([ended] if ended else [])]) <= cutoff:
                due.add(person_id)
    return due


def plan_retention(
    session: Session, *, today: date, months: int, notice_days: int
) -> RetentionPlan:
    """What a retention run would do today, without changing anything."""
    cutoff = idle_cutoff(today, months)
    plan = RetentionPlan(today=today, erase_on=erasure_date(today, notice_days))
    plan.idle = idle_follow_ups(session, today=today, months=months)
    due = set(session.scalars(_people_without_follow_up(cutoff)))
    due |= _due_after_idle_ends(session, plan.idle, cutoff)
    noticed: dict[uuid.UUID, date] = {
        pid: day
        for pid, day in session.execute(
            select(Beneficiary.id, Beneficiary.erasure_due_on).where(
                Beneficiary.erasure_due_on.is_not(None), Beneficiary.erased_at.is_(None)
            )
        )
        if day is not None
    }
    plan.to_notice = sorted(due - noticed.keys())
    plan.to_cancel = sorted(noticed.keys() - due)
    erase = {pid for pid in due & noticed.keys() if noticed[pid] <= today}
    if plan.erase_on <= today:  # no notice period: erased the day they are found due
        erase |= set(plan.to_notice)
    plan.to_erase = sorted(erase)
    return plan


# -- applying --------------------------------------------------------------------------------


def apply_retention(
    session: Session,
    vault: Vault,
    register: RegisterFile,
    plan: RetentionPlan,
    *,
    now: datetime,
) -> RetentionReport:
    """Carry ``plan`` out (the system acts: audit events without actor). Flushes only."""
    report = RetentionReport()
    reason_id = session.scalar(
        select(ReferenceItem.id).where(
            ReferenceItem.kind == ReferenceKind.END_REASON, ReferenceItem.code == IDLE_END_REASON
        )
    )
    for item in plan.idle:
        follow_up = session.get(FollowUp, item.follow_up_id)
        if follow_up is None or follow_up.ended_on is not None:
            continue
        follow_up.ended_on = item.last_activity
        follow_up.end_reason_id = reason_id
        audit.record(
            session,
            None,
            AuditAction.FOLLOW_UP_END,
            follow_up,
            beneficiary_id=item.beneficiary_id,
            cause="retention",
        )
        report.follow_ups_ended += 1
    for pid in plan.to_cancel:
        person = session.get(Beneficiary, pid)
        if person is not None and person.erasure_due_on is not None:
            person.erasure_due_on = None
            audit.record(
                session, None, AuditAction.ERASURE_NOTICE_CANCEL, person, beneficiary_id=pid
            )
            report.notices_cancelled += 1
    for pid in plan.to_notice:
        person = session.get(Beneficiary, pid)
        if person is not None and person.erasure_due_on is None:
            person.erasure_due_on = plan.erase_on
            audit.record(
                session,
                None,
                AuditAction.ERASURE_NOTICE,
                person,
                beneficiary_id=pid,
                due_on=plan.erase_on.isoformat(),
            )
            report.notices_given += 1
    session.flush()
    for pid in plan.to_erase:
        person = session.get(Beneficiary, pid)
        if person is None or person.erased_at is not None:
            continue
        erase_person(
            session,
            vault,
            None,
            person,
            cause=ErasureCause.RETENTION,
            register=register,
            today=plan.today,
            now=now,
        )
        report.erased += 1
    session.flush()
    return report


def run_retention(
    session: Session,
    vault: Vault,
    register: RegisterFile,
    *,
    today: date,
    now: datetime,
    months: int,
    notice_days: int,
) -> RetentionReport:
    """Plan and apply the retention rule for ``today``, in the caller's transaction."""
    plan = plan_retention(session, today=today, months=months, notice_days=notice_days)
    return apply_retention(session, vault, register, plan, now=now)


# -- the notices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureNotice:
    pseudonym: str
    last_follow_up_end: date
    erasure_on: date


def erasure_notices(session: Session, actor: User) -> list[ErasureNotice]:
    """The people due for erasure whose last follow-up was by the actor's structure, soonest
    first (pseudonyms only: the structure may no longer see their identity)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return []
    last_end = (
        select(FollowUp.beneficiary_id.label("person"), func.max(FollowUp.ended_on).label("day"))
        .join(Beneficiary, Beneficiary.id == FollowUp.beneficiary_id)
        .where(Beneficiary.erasure_due_on.is_not(None), Beneficiary.erased_at.is_(None))
        .group_by(FollowUp.beneficiary_id)
        .subquery("last_end")
    )
    rows = session.execute(
        select(Beneficiary.pseudonym, last_end.c.day, Beneficiary.erasure_due_on)
        .join(last_end, last_end.c.person == Beneficiary.id)
        .join(
            FollowUp,
            (FollowUp.beneficiary_id == Beneficiary.id) & (FollowUp.ended_on == last_end.c.day),
        )
        .where(FollowUp.structure_id == actor.structure_id)
        .distinct()
        .order_by(Beneficiary.erasure_due_on, Beneficiary.pseudonym)
    )
    return [ErasureNotice(pseudonym, day, due) for pseudonym, day, due in rows if due is not None]
