"""Lists of the people lost from view (``app.services.statistics.lost`` defines them).

- the coordinators' list (``lost_from_view``): pseudonymous, a page of rows with the last
  structure, the last event's day and the reason, filtered by cohort, QPV and last structure;
- a follow-up referent's own (``referent_lost``), for their work queue: its first rows and
  their count.

Each list is one query (the coordinators' page then reads its people and their structures by
key), read from each person's kept pathway state (``lost_query`` for today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.domain.lost_from_view import LostReason
from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, Structure, User
from app.services.errors import N_, Forbidden
from app.services.people.first import first_people
from app.services.people.overview import PER_PAGE, Filters, Page, public_conditions
from app.services.statistics.lost import REASON_CODES, kept_lost_branches, lost_query


@dataclass(frozen=True)
class LostRow:
    person: Beneficiary
    structure: Structure | None  # the structure behind their last event
    last_event_on: date | None
    reason: LostReason


def _as_date(value: object) -> date | None:
    """A day read from SQL: a ``date`` on PostgreSQL, ISO text from SQLite's unions."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def lost_from_view(
    session: Session,
    actor: User,
    *,
    filters: Filters,
    page: int,
    today: date,
    days: int,
    contact_days: int,
    per_page: int = PER_PAGE,
) -> Page[LostRow]:
    """A page of the people lost from view today, longest silence first (coordinators).

    The people lost from view are computed once, in one statement that gives the page's rows
    and their total (``count(*) OVER ()``), ordered and cut on the narrow rows (ids, days,
    pseudonyms) before the page's people and structures are read by key: at 100,000 people
    half of them are lost from view, and computing them twice (the count, then the page) and
    sorting their whole rows was most of the page's time. A page beyond the last is the last
    (one more statement, only then)."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden(N_("Only coordinators see the people lost from view."))
    lost = lost_query(
        today, days, contact_days, today=today, where=public_conditions(filters), pseudonym=True
    ).subquery()
    narrow = select(
        lost.c.person, lost.c.last_day, lost.c.structure, lost.c.reason, func.count().over()
    ).order_by(lost.c.last_day.asc(), lost.c.pseudonym)
    if filters.structure:
        narrow = narrow.join(Structure, Structure.id == lost.c.structure).where(
            Structure.code == filters.structure
        )
    page = max(1, page)
    found = session.execute(narrow.limit(per_page).offset((page - 1) * per_page)).all()
    total = int(found[0][4]) if found else 0
    if not found and page > 1:
        everyone = select(func.count()).select_from(narrow.order_by(None).subquery())
        page = max(1, -(-(session.scalar(everyone) or 0) // per_page))
        found = session.execute(narrow.limit(per_page).offset((page - 1) * per_page)).all()
        total = int(found[0][4]) if found else 0
    people = {
        p.id: p
        for p in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_([row[0] for row in found]))
        )
    }
    wanted = {row[2] for row in found if row[2] is not None}
    structures = (
        {s.id: s for s in session.scalars(select(Structure).where(Structure.id.in_(wanted)))}
        if wanted
        else {}
    )
    items = [
        LostRow(people[person], structures.get(sid), _as_date(day), REASON_CODES[reason])
        for person, day, sid, reason, _total in found
        if person in people  # (deleted meanwhile by the retention job: left out)
    ]
    return Page(items=items, page=page, per_page=per_page, total=total)


def referent_lost(
    session: Session,
    actor: User,
    *,
    today: date,
    days: int,
    contact_days: int,
    shown: int,
    limit: int,
) -> tuple[list[LostRow], int, bool]:
    """The first ``shown`` people lost from view whose open follow-up at the actor's
    structure has the actor as referent, longest silence first (then the oldest
    registration), how many there are up to ``limit``, and whether that count is exact.

    One query: the referent's people read with their kept pathway state (the day and the
    structure of their latest event, their current stage) in the order of the news index,
    cut at ``limit`` + 1 (``first_people``)."""
    mine = exists().where(
        FollowUp.beneficiary_id == Beneficiary.id,
        FollowUp.referent_id == actor.id,
        FollowUp.structure_id == actor.structure_id,
        FollowUp.ended_on.is_(None),
    )
    branches = kept_lost_branches(today, days, contact_days, few=True)
    first = first_people(
        session,
        [
            branch.add_columns(Beneficiary.created_at.label("created_at")).where(mine)
            for branch in branches
        ],
        ("last_day", "created_at", "person"),
        shown=shown,
        limit=limit,
        structures=True,
    )
    items = [
        LostRow(person, structure, _as_date(row["last_day"]), REASON_CODES[row["reason"]])
        for person, structure, row in first.rows
    ]
    return items, first.total, first.exact
