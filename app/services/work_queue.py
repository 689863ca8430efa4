"""A caseworker's work queue ("À faire"): what waits for their structure, oldest first.

Five lists, each counted in full and shown in part (``SHOWN`` rows, the oldest first):

* hand-offs sent to the structure and waiting for its answer (the overdue ones marked);
* hand-offs the structure accepted without a first contact recorded yet;
* hand-offs the structure sent that were declined or expired in the last ``RECENT_DAYS`` days
  and that nothing has replaced (no later hand-off of the structure for the same person and
  purpose): to re-orient;
* people the structure follows with no event from anyone for ``idle_weeks`` weeks;
* people the structure follows without a current consent to share with the network;
* the people lost from view whose follow-up the caseworker is the referent of
  (``app.services.statistics.lost``).

And a warning when more hand-offs wait for the structure's answer than it declares free places.

Each list is one query for its shown rows that also counts the whole list (a window count
over the rows before the ``LIMIT``): a fixed number of queries, whatever the size of the
caseload, and only the shown rows are loaded. The lists read indexed columns (anti-joins as
``NOT EXISTS``); the idle and lost-from-view lists read each person's kept pathway state (the
day and structure of their latest event, their current stage: ``app.services.pathways.state``),
not their events. The over-capacity warning reuses the count of the hand-offs waiting for an
answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from app.domain.deadlines import deadline_cutoff
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, Handoff, User
from app.services.directory.capacity import OverCapacity, pending_over_capacity
from app.services.errors import N_, Forbidden
from app.services.people.access import followed_ids
from app.services.people.first import first_people
from app.services.people.lost import LostRow, referent_lost
from app.services.people.overview import consent_missing

T = TypeVar("T")
SHOWN = 10  # rows shown per list; the count says how many there are
# People a list of people counts exactly: a longer one is "more than 100" (each reads at most
# this many rows, whatever the size of the caseload).
COUNT_LIMIT = 100
RECENT_DAYS = 30  # how long a declined or expired hand-off asks to be re-oriented


@dataclass
class Section(Generic[T]):
    items: list[T]
    total: int
    exact: bool = True  # else the list holds more than ``total`` (``COUNT_LIMIT``)

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class HandoffItem:
    handoff: Handoff
    since: datetime  # sent, answered or closed: what the list is about
    overdue: bool = False


@dataclass(frozen=True)
class PersonItem:
    person: Beneficiary
    since: date | None  # the last event (idle list) or the start of the follow-up


@dataclass
class WorkQueue:
    to_answer: Section[HandoffItem]
    without_first_contact: Section[HandoffItem]
    to_reorient: Section[HandoffItem]
    idle: Section[PersonItem]
    without_consent: Section[PersonItem]
    idle_weeks: int
    lost: Section[LostRow] = field(default_factory=lambda: Section([], 0))
    lost_days: int = 90
    over_capacity: OverCapacity | None = None
    followed: set[uuid.UUID] = field(default_factory=set)  # whose names the page may show

    @property
    def people(self) -> list[Beneficiary]:
        """Every person of the shown rows, once each, in order of appearance."""
        seen: dict[uuid.UUID, Beneficiary] = {}
        for section in (self.to_answer, self.without_first_contact, self.to_reorient):
            for item in section.items:
                seen.setdefault(item.handoff.beneficiary_id, item.handoff.beneficiary)
        for people in (self.idle, self.without_consent):
            for row in people.items:
                seen.setdefault(row.person.id, row.person)
        for lost in self.lost.items:
            seen.setdefault(lost.person.id, lost.person)
        return list(seen.values())


def work_queue(
    session: Session,
    actor: User,
    *,
    today: date,
    now: datetime,
    overdue_days: int,
    idle_weeks: int,
    lost_days: int = 90,
    lost_contact_days: int = 30,
) -> WorkQueue:
    """The work queue of ``actor``'s structure (caseworkers only)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers have a work queue."))
    structure = actor.structure_id
    overdue_before = deadline_cutoff(now, overdue_days)
    waiting = _handoffs(
        session,
        select(Handoff).where(
            Handoff.to_structure_id == structure, Handoff.status == HandoffStatus.SENT
        ),
        Handoff.sent_at,
    )
    to_answer = Section(
        [HandoffItem(h, h.sent_at, overdue=h.sent_at < overdue_before) for h in waiting[0]],
        waiting[1],
    )
    accepted = _handoffs(
        session,
        select(Handoff).where(
            Handoff.to_structure_id == structure,
            Handoff.status == HandoffStatus.ACCEPTED,
            Handoff.first_contact_at.is_(None),
        ),
        Handoff.answered_at,
    )
    # Oldest sent first, but by an expression no index gives in order (``sent_at`` is never
    # NULL: the same order): PostgreSQL 15 costs a ``LIMIT`` over the window count as if it
    # could stop early, and walked every hand-off the structure sent along the outbox index
    # (in ``sent_at`` order) to find the recent closings, instead of reading them along
    # ``ix_handoffs_outbox_closed`` and sorting them (86 ms against 4 at 100,000 people).
    closed = _handoffs(
        session,
        _to_reorient(structure, now),
        func.coalesce(Handoff.sent_at, Handoff.closed_at),
    )
    queue = WorkQueue(
        to_answer=to_answer,
        without_first_contact=Section(
            [HandoffItem(h, h.answered_at or h.sent_at) for h in accepted[0]], accepted[1]
        ),
        to_reorient=Section(
            [HandoffItem(h, h.closed_at or h.answered_at or h.sent_at) for h in closed[0]],
            closed[1],
        ),
        idle=_idle(session, structure, today, idle_weeks),
        without_consent=_without_consent(session, structure),
        idle_weeks=idle_weeks,
        lost=_lost(session, actor, today, lost_days, lost_contact_days),
        lost_days=lost_days,
        # The hand-offs waiting for an answer are the pending ones: counted above.
        over_capacity=pending_over_capacity(actor.structure, to_answer.total)
        if actor.structure
        else None,
    )
    people = [person.id for person in queue.people]
    if people:
        queue.followed = set(
            session.scalars(followed_ids(actor, today).where(FollowUp.beneficiary_id.in_(people)))
        )
    return queue


def _handoffs(session: Session, query: Select[Handoff], oldest: Any) -> tuple[list[Handoff], int]:
    """The list's first ``SHOWN`` hand-offs, oldest first, loaded with what a row shows, and
    the list's length (a window count over the rows before the ``LIMIT``): one query. The
    rows are chosen and counted on the hand-offs alone (a subquery), then only the shown ones
    are joined to what they show - not every row of the list."""
    first = (
        query.with_only_columns(Handoff.id, func.count().over().label("total"))
        .order_by(oldest.asc(), Handoff.id)
        .limit(SHOWN)
        .subquery()
    )
    found = session.execute(
        select(Handoff, first.c.total)
        .join(first, first.c.id == Handoff.id)
        .options(
            # The page shows no cohort: not loaded (a query more per list otherwise).
            joinedload(Handoff.beneficiary).lazyload(Beneficiary.cohorts),
            joinedload(Handoff.from_structure),
            joinedload(Handoff.purpose_stage),
            joinedload(Handoff.purpose_barrier),
        )
        .order_by(oldest.asc(), Handoff.id)
    ).all()
    return [handoff for handoff, _total in found], int(found[0][1]) if found else 0


def _to_reorient(structure: int, now: datetime) -> Select[Handoff]:
    """Declined or expired hand-offs of the structure, recent, that nothing replaced, for
    people it still follows."""
    later = aliased(Handoff)
    replaced = exists().where(
        later.beneficiary_id == Handoff.beneficiary_id,
        later.from_structure_id == structure,
        later.sent_at > Handoff.sent_at,
        or_(
            and_(
                Handoff.purpose_barrier_id.is_not(None),
                later.purpose_barrier_id == Handoff.purpose_barrier_id,
            ),
            and_(
                Handoff.purpose_stage_id.is_not(None),
                later.purpose_stage_id == Handoff.purpose_stage_id,
            ),
        ),
    )
    followed = (
        select(FollowUp.id)
        .where(
            FollowUp.beneficiary_id == Handoff.beneficiary_id,
            FollowUp.structure_id == structure,
            FollowUp.ended_on.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    since = now - timedelta(days=RECENT_DAYS)
    return select(Handoff).where(
        Handoff.from_structure_id == structure,
        Handoff.status.in_((HandoffStatus.DECLINED, HandoffStatus.EXPIRED)),
        # Declining and expiring are final: both set ``closed_at`` (``_stamp`` in
        # ``app.services.handoffs.transitions``; the database refuses a final hand-off without
        # it: ``ck_handoffs_closed_when_final``), so this is the moment the list
        # is about and ``ix_handoffs_outbox_closed`` reads only the recent closings - not
        # every declined or expired hand-off the structure ever sent, as the former
        # ``coalesce(closed_at, answered_at, sent_at)``, which no index served, did.
        Handoff.closed_at >= since,
        ~replaced,
        # Probed per hand-off, a correlated lookup (a scalar subquery, not ``EXISTS``, which
        # PostgreSQL turned into a hash of every open follow-up of the structure: 18,798 at
        # 100,000 people for some 340 recent closings): the list is read from the structure's
        # recent closings, not from the people it follows.
        followed.is_not(None),
    )


def _idle(session: Session, structure: int, today: date, weeks: int) -> Section[PersonItem]:
    """People followed with no event for ``weeks`` weeks, longest silence first (then the
    oldest registration): the day of their latest event is kept on their row
    (``app.services.pathways.state``; the start of a follow-up counts as one), so the list
    walks the news index, counted up to ``COUNT_LIMIT`` (``first_people``): one query."""
    idle: Select[*tuple[Any, ...]] = select(
        Beneficiary.id.label("person"),
        Beneficiary.last_event_on.label("last_day"),
        Beneficiary.created_at.label("created_at"),
    ).where(
        exists().where(
            FollowUp.beneficiary_id == Beneficiary.id,
            FollowUp.structure_id == structure,
            FollowUp.ended_on.is_(None),
        ),
        Beneficiary.erased_at.is_(None),
        Beneficiary.last_event_on < today - timedelta(weeks=weeks),
    )
    first = first_people(
        session, [idle], ("last_day", "created_at", "person"), shown=SHOWN, limit=COUNT_LIMIT
    )
    items = [PersonItem(person, _as_date(row["last_day"])) for person, _s, row in first.rows]
    return Section(items, first.total, first.exact)


def _lost(
    session: Session, actor: User, today: date, days: int, contact_days: int
) -> Section[LostRow]:
    found, total, exact = referent_lost(
        session,
        actor,
        today=today,
        days=days,
        contact_days=contact_days,
        shown=SHOWN,
        limit=COUNT_LIMIT,
    )
    return Section(found, total, exact)


def _without_consent(session: Session, structure: int) -> Section[PersonItem]:
    """People followed without a current consent to share with the network, the longest
    followed first, counted up to ``COUNT_LIMIT``: one query (``first_people``) that walks
    the structure's open follow-ups by start day (``ix_follow_ups_structure_open``) and stops
    once it has found ``COUNT_LIMIT`` + 1. The consent is a correlated lookup on the
    follow-up's person (a scalar subquery, not ``NOT EXISTS``): PostgreSQL, which estimated
    almost everyone consented, otherwise hashed every consent of the territory (93,160 rows at
    100,000 people) to anti-join the whole caseload; this way it probes the consents of the
    follow-ups walked only (``consent_missing``)."""
    without: Select[*tuple[Any, ...]] = (
        select(FollowUp.beneficiary_id.label("person"), FollowUp.started_on.label("started_on"))
        .join(Beneficiary, Beneficiary.id == FollowUp.beneficiary_id)
        .where(
            FollowUp.structure_id == structure,
            FollowUp.ended_on.is_(None),  # one open follow-up a person and structure at most
            Beneficiary.erased_at.is_(None),
            consent_missing(FollowUp.beneficiary_id, per_row=True),
        )
    )
    first = first_people(
        session, [without], ("started_on", "person"), shown=SHOWN, limit=COUNT_LIMIT
    )
    items = [PersonItem(person, _as_date(row["started_on"])) for person, _s, row in first.rows]
    return Section(items, first.total, first.exact)


def _as_date(value: object) -> date | None:
    """A day read from SQL: a ``date`` on PostgreSQL, ISO text from SQLite's functions."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
