"""People lost from view: followed, their pathway not ended, and nobody hears of them.

A person is **lost from view** on a day (the *as-of* day: today, or the end of a period) when
all of these hold on that day:

- they are followed: a follow-up started on or before the day, not ended by then; and not
  erased;
- their pathway has not ended: their latest step is not of a final stage (``FINAL_STAGES``:
  employment, exit);
- either they had **no news** (``LostReason.NO_NEWS``): no event from any partner for
  ``days`` days (the latest of their steps started, barriers identified or closed, hand-off
  events done by a structure and follow-ups started is older than ``days`` days before the
  day); or, with news, a hand-off of theirs was accepted ``contact_days`` days or more before
  the day and still has no first contact, nor was it closed (``NO_FIRST_CONTACT``).

Each person counts once, with one reason (no news first). Their **last structure** is the
structure behind their latest event (the step's, the barrier's recorder's or acting
structure, the hand-off event's actor, the follow-up's); none when that event names none.

``lost_people_query`` computes it from the events, for any day: one SQL query (window
functions, no row per person in Python). For **today** ``lost_query`` reads instead the
pathway state kept on each person's row (``app.services.pathways.state``: the day and the
structure of the latest event, counted exactly as here, and the current stage) along the
people's rows - the same people, days, structures and reasons (a test compares them) - and
computes from the events only the few people with an event dated after today (a job starting
later), whose kept state is ahead of today. The coordinators' list pages it, the work queue
keeps a referent's people, the steering index counts it, and ``lost_from_view_counts`` groups
it by last structure and reason into a protected table.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.domain.lost_from_view import LostReason
from app.models import (
    Beneficiary,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
)
from app.services.pathways.state import event_selects
from app.services.statistics.flows import FINAL_STAGES, as_of
from app.services.statistics.headings import Heading, Label
from app.services.statistics.scope import Scope, population
from app.services.statistics.tables import Counts, CountTable, protected_table, sorted_labels

DEFAULT_DAYS = 90
DEFAULT_CONTACT_DAYS = 30
# Reasons as small integers in SQL (cheaper to group than texts), in order of precedence.
REASON_CODES = {1: LostReason.NO_NEWS, 2: LostReason.NO_FIRST_CONTACT}


People = Select[Any] | Collection[uuid.UUID] | None  # a query of person ids, ids, or anyone


def _among(column: Any, people: People) -> Any:
    """``column IN (people)``, or no condition (true) when ``people`` is None."""
    return true() if people is None else column.in_(people)


def _events(day: date, people: People = None) -> Any:
    """(person, day, structure) of every event up to ``day`` (of ``people`` only when given:
    each branch reads their rows on its person index, not the territory's), as the kept
    pathway state counts them (``event_selects``)."""
    branches = event_selects(lambda person, on: and_(on <= day, _among(person, people)))
    return union_all(*branches).subquery()


def _last_days(day: date, people: People) -> Any:
    """(person, day) of each person's latest event up to ``day``: a grouped maximum (a hash
    aggregate), cheaper than ``_latest``'s ranking when the structure is not wanted."""
    events = _events(day, people)
    return (
        select(events.c.person, func.max(events.c.day).label("day"))
        .group_by(events.c.person)
        .subquery()
    )


def _latest(day: date, people: People = None) -> Any:
    """(person, day, structure) of each person's latest event up to ``day``."""
    events = _events(day, people)
    ranked = select(
        events.c.person,
        events.c.day,
        events.c.structure,
        func.row_number()
        .over(
            partition_by=events.c.person,
            order_by=(
                events.c.day.desc(),
                case((events.c.structure.is_(None), 1), else_=0),
                events.c.structure,
            ),
        )
        .label("rank"),
    ).subquery()
    return (
        select(ranked.c.person, ranked.c.day, ranked.c.structure)
        .where(ranked.c.rank == 1)
        .subquery()
    )


def _last_stage(day: date) -> Any:
    """The stage of the person's latest step up to ``day`` (NULL without one): a correlated
    subquery, one index lookup per person (``ix_pathway_steps_latest``). A ranked
    window joined back to the people was estimated at a few rows by PostgreSQL, which joined
    it in a nested loop: quadratic in the number of people (32 s at 10,000, see
    docs/scaling.md)."""
    return (
        select(PathwayStep.stage_id)
        .where(PathwayStep.beneficiary_id == Beneficiary.id, PathwayStep.started_on <= day)
        .order_by(
            PathwayStep.started_on.desc(), PathwayStep.created_at.desc(), PathwayStep.id.desc()
        )
        .limit(1)
        .correlate(Beneficiary)
        .scalar_subquery()
    )


def lost_people_query(
    day: date,
    days: int,
    contact_days: int,
    people: People = None,
    *,
    structure: bool = True,
    pseudonym: bool = False,
) -> Select[Any]:
    """(person id, last event day, last structure id or None, reason code) of the people
    lost from view on ``day`` (``REASON_CODES``); among ``people`` (a query of person ids, or
    ids) only when given, whose events alone are then read. Without ``structure``, the
    columns are (person id, last event day, reason code): the latest day is then a grouped
    maximum rather than a ranking of every event. With ``pseudonym``, the person's pseudonym
    follows (the lists' order)."""
    latest = _latest(day, people) if structure else _last_days(day, people)
    no_contact = _no_contact(day, contact_days, hashed=people is None)
    no_news = latest.c.day < day - timedelta(days=days)
    reason = case((no_news, literal(1)), (no_contact, literal(2)))
    columns = [Beneficiary.id.label("person"), latest.c.day.label("last_day")]
    if structure:
        columns.append(latest.c.structure.label("structure"))
    columns.append(reason.label("reason"))
    if pseudonym:
        columns.append(Beneficiary.pseudonym.label("pseudonym"))
    return (
        select(*columns)
        .join(latest, latest.c.person == Beneficiary.id)
        .where(
            Beneficiary.erased_at.is_(None),
            _among(Beneficiary.id, people),
            _followed(day),
            # 0 is no stage's id: a person without a step is not at a final stage.
            func.coalesce(_last_stage(day), 0).not_in(_final()),
            or_(no_news, no_contact),
        )
    )


def _final() -> Select[Any]:
    """The ids of the final stages (two reference rows)."""
    return select(ReferenceItem.id).where(
        ReferenceItem.kind == ReferenceKind.STAGE, ReferenceItem.code.in_(FINAL_STAGES)
    )


def _followed(day: date) -> ColumnElement[bool]:
    """Whether the person (``beneficiaries``) is followed on ``day``."""
    return exists().where(
        FollowUp.beneficiary_id == Beneficiary.id,
        FollowUp.started_on <= day,
        or_(FollowUp.ended_on.is_(None), FollowUp.ended_on > day),
    )


def _no_contact(day: date, contact_days: int, *, hashed: bool) -> ColumnElement[bool]:
    """Whether a hand-off of the person was accepted ``contact_days`` days or more before
    ``day`` without a first contact, nor closed, by then.

    ``hashed`` (a query over the whole territory): the person is among the people of such
    hand-offs, listed once (PostgreSQL hashes the list: one read of ``handoffs``). Otherwise
    (a few people) each person's hand-offs are looked up on their index. The two say the same;
    the correlated form inside the lists' ``OR`` is costed per person by PostgreSQL's planner,
    which then walked 87,616 followed people one by one at 100,000 people: 390 ms where the
    hashed list and a hash join take 130 (docs/performance.md, "People lost from view in one
    reading")."""
    conditions = (
        Handoff.answered_on <= day - timedelta(days=contact_days),
        Handoff.status.not_in((HandoffStatus.DECLINED, HandoffStatus.REDIRECTED)),
        or_(Handoff.first_contact_on.is_(None), Handoff.first_contact_on > day),
        or_(Handoff.closed_on.is_(None), Handoff.closed_on > day),
    )
    if hashed:
        return Beneficiary.id.in_(select(Handoff.beneficiary_id).where(*conditions))
    return exists().where(Handoff.beneficiary_id == Beneficiary.id, *conditions)


def lost_query(
    day: date,
    days: int,
    contact_days: int,
    people: People = None,
    *,
    today: date,
    structure: bool = True,
    pseudonym: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any] | CompoundSelect[Any]:
    """The people lost from view on ``day``, as ``lost_people_query`` (the same columns), kept
    to ``people`` and to the conditions ``where`` on ``beneficiaries``: read from the kept
    pathway state when ``day`` is ``today``, computed from the events for an earlier day."""
    if day != today:
        return lost_people_query(
            day, days, contact_days, people, structure=structure, pseudonym=pseudonym
        ).where(*where)
    current, later = kept_lost_branches(
        today, days, contact_days, people, structure=structure, pseudonym=pseudonym
    )
    return union_all(current.where(*where), later.where(*where))


def kept_lost_branches(
    today: date,
    days: int,
    contact_days: int,
    people: People = None,
    *,
    structure: bool = True,
    pseudonym: bool = False,
    few: bool = False,
) -> tuple[Select[Any], Select[Any]]:
    """The people lost from view today, read from their kept state, in two queries on
    ``beneficiaries`` with the columns of ``lost_people_query`` (each person in one of them):

    - the people whose kept day is not after today: followed today, not erased, the kept
      current stage not final, and the kept last event day older than ``days`` days (or a
      hand-off without first contact, from the hand-offs);
    - the people whose kept day is after today (an event dated later, which the kept day
      counts and today's does not): computed from their events."""
    kept = Beneficiary.last_event_on
    columns: list[Any] = [Beneficiary.id.label("person"), kept.label("last_day")]
    if structure:
        columns.append(Beneficiary.last_event_structure_id.label("structure"))
    columns.append(case((_no_news(today, days), literal(1)), else_=literal(2)).label("reason"))
    if pseudonym:
        columns.append(Beneficiary.pseudonym.label("pseudonym"))
    current = select(*columns).where(
        _kept_lost(today, days, contact_days, hashed=people is None and not few),
        _among(Beneficiary.id, people),
    )
    ahead = select(Beneficiary.id).where(kept > today, _among(Beneficiary.id, people))
    later = lost_people_query(
        today, days, contact_days, ahead, structure=structure, pseudonym=pseudonym
    )
    return current, later


def lost_today(today: date, days: int, contact_days: int) -> ColumnElement[bool]:
    """Whether the person (``beneficiaries``) is lost from view today: the two queries of
    ``kept_lost_branches`` as one condition on the person's own row, for a list that pages
    some people (a caseworker's caseload filtered to them). Each person's hand-offs are looked
    up on their index; the few people whose kept day is after today are computed from their
    events once."""
    ahead = select(Beneficiary.id).where(Beneficiary.last_event_on > today)
    later = lost_people_query(today, days, contact_days, ahead, structure=False).subquery()
    return or_(
        _kept_lost(today, days, contact_days, hashed=False),
        Beneficiary.id.in_(select(later.c.person)),
    )


def kept_reason(last_event_on: date, today: date, days: int) -> LostReason | None:
    """Why a person lost from view today is, from their kept day (``Beneficiary.last_event_on``)
    as the first query of ``kept_lost_branches`` says it: no news when that day is older than
    ``days`` days, else a hand-off accepted without first contact; None when the day is after
    today (an event dated later: the reason comes from their events)."""
    if last_event_on > today:
        return None
    if last_event_on < today - timedelta(days=days):
        return LostReason.NO_NEWS
    return LostReason.NO_FIRST_CONTACT


def lost_reasons(
    session: Session,
    people: Sequence[Beneficiary],
    *,
    today: date,
    days: int,
    contact_days: int,
) -> dict[uuid.UUID, LostReason]:
    """Why each of ``people``, lost from view today (a list filtered to them), is: from their
    kept day, and for the few whose kept day is after today from their events as of today, in
    one query of their events only (none when there is none of them)."""
    reasons: dict[uuid.UUID, LostReason] = {}
    ahead = []
    for person in people:
        reason = kept_reason(person.last_event_on, today, days)
        if reason is None:
            ahead.append(person.id)
        else:
            reasons[person.id] = reason
    if ahead:
        query = lost_people_query(today, days, contact_days, ahead, structure=False)
        for person_id, _day, code in session.execute(query):
            reasons[person_id] = REASON_CODES[code]
    return reasons


def _no_news(today: date, days: int) -> ColumnElement[bool]:
    return Beneficiary.last_event_on < today - timedelta(days=days)


def _kept_lost(today: date, days: int, contact_days: int, *, hashed: bool) -> ColumnElement[bool]:
    """Whether the person, whose kept day is not after today, is lost from view today."""
    return and_(
        Beneficiary.last_event_on <= today,
        Beneficiary.erased_at.is_(None),
        _followed(today),
        func.coalesce(Beneficiary.current_stage_id, 0).not_in(_final()),
        or_(_no_news(today, days), _no_contact(today, contact_days, hashed=hashed)),
    )


def lost_from_view_counts(
    session: Session,
    scope: Scope,
    k: int,
    days: int = DEFAULT_DAYS,
    *,
    today: date,
    contact_days: int = DEFAULT_CONTACT_DAYS,
) -> CountTable:
    """People lost from view at the end of the scope's period (or today when it ends later),
    in its population, by last structure (rows; ``Heading.NO_STRUCTURE`` when none) and
    reason (columns), protected for ``k``: one grouped query."""
    day = as_of(scope, today)
    lost = lost_query(
        day, days, contact_days, today=today, where=population(scope, Beneficiary.id)
    ).subquery()
    query = select(lost.c.structure, lost.c.reason, func.count()).group_by(
        lost.c.structure, lost.c.reason
    )
    found = session.execute(query).all()
    structures = {
        s.id: s
        for s in session.scalars(
            select(Structure).where(Structure.id.in_({sid for sid, _r, _n in found if sid}))
        )
    }
    counts: Counts = {}
    for structure_id, reason, n in found:
        row: Label = structures[structure_id] if structure_id else Heading.NO_STRUCTURE
        counts[(row, REASON_CODES[reason])] = int(n)
    rows = sorted_labels(row for row, _column in counts)
    return protected_table("lost_from_view", rows, tuple(LostReason), counts, k)
