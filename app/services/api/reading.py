"""What the API reads beyond the web's services: pages of people by cursor, and the changes
of a structure's hand-offs since a cursor.

Cursors are opaque to the partner's software (base64url of a small JSON object) and stable:
a page of people starts after the last pseudonym of the previous one; a page of changes after
the (moment, hand-off id) of the last change given. A hand-off's "change" is its latest
transition (``handoff_transitions.at``: sending, every answer, reminders, expiry...).

Transactions commit in an order that may differ from the moments they recorded, so a change
recorded at moment *t* may become visible a little after a change recorded later. The cursor
given back therefore never moves past ``SETTLE`` ago unless the page is full: a change may be
given twice (the partner's software keeps the latest ``version`` of each hand-off), never
missed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.domain.roles import Role
from app.models import Barrier, Beneficiary, FollowUp, Handoff, HandoffTransition, Structure, User
from app.models.base import UTCDateTime
from app.services.errors import N_, InvalidInput
from app.services.handoffs.lists import Box
from app.services.keyset import decode_cursor, encode_cursor
from app.services.people.access import visible_people
from app.services.people.registration import active_consent

SETTLE = timedelta(seconds=30)
MAX_LIMIT = 200


@dataclass(frozen=True)
class PeoplePage:
    people: list[Beneficiary]
    follow_ups: dict[uuid.UUID, FollowUp]
    next_cursor: str | None


def people_page(
    session: Session, actor: User, *, today: date, after: str | None, limit: int
) -> PeoplePage:
    """The people ``actor``'s structure follows (as its caseworkers see them), by pseudonym,
    after the cursor ``after``."""
    query = visible_people(actor, today)
    if after:
        last = decode_cursor(after, ("p",), field="cursor")["p"]
        query = query.where(Beneficiary.pseudonym > last)
    people = list(session.scalars(query.order_by(Beneficiary.pseudonym).limit(limit + 1)))
    more = len(people) > limit
    people = people[:limit]
    return PeoplePage(
        people,
        follow_ups_of(session, actor, people),
        encode_cursor({"p": people[-1].pseudonym}) if more and people else None,
    )


def follow_ups_of(
    session: Session, actor: User, people: list[Beneficiary]
) -> dict[uuid.UUID, FollowUp]:
    """The actor's structure's latest follow-up of each person."""
    if not people or actor.structure_id is None:
        return {}
    rows = session.scalars(
        select(FollowUp)
        .where(
            FollowUp.structure_id == actor.structure_id,
            FollowUp.beneficiary_id.in_([person.id for person in people]),
        )
        .order_by(FollowUp.started_on)
    )
    return {row.beneficiary_id: row for row in rows}


@dataclass(frozen=True)
class Change:
    handoff: Handoff
    changed_at: datetime


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    next_cursor: str


def _since(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    values = decode_cursor(cursor, ("t", "h"), field="since")
    try:
        moment, ident = datetime.fromisoformat(values["t"]), uuid.UUID(values["h"])
    except ValueError:
        raise InvalidInput(N_("This cursor was not given by Relais."), field="since") from None
    if moment.tzinfo is None:
        raise InvalidInput(N_("This cursor was not given by Relais."), field="since")
    return moment, ident


# What an API answer shows of a hand-off (app/web/api/views.py ``_handoff``): loaded with it.
_SHOWN = (
    Handoff.beneficiary,
    Handoff.from_structure,
    Handoff.purpose_stage,
    Handoff.decline_reason,
    Handoff.outcome,
)


def changes_since(
    session: Session,
    actor: User,
    box: Box,
    *,
    since: str | None,
    limit: int,
    now: datetime,
) -> ChangesPage:
    """The hand-offs of ``actor``'s structure's ``box`` that changed after the cursor
    ``since`` (all of them without one), oldest change first, and the cursor to ask next."""
    start = _since(since)
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return ChangesPage([], since or "")
    party = Handoff.to_structure_id if box is Box.INBOX else Handoff.from_structure_id
    # The latest change of each hand-off of the box: the transitions of this structure's
    # hand-offs only (and, after a cursor, only those from its moment on: a hand-off whose
    # latest change is later has one of them), so that the cost follows the box, not the
    # database.
    transitions = (
        select(HandoffTransition.handoff_id, HandoffTransition.at)
        .join(Handoff, Handoff.id == HandoffTransition.handoff_id)
        .where(party == actor.structure_id)
    )
    if start is not None:
        transitions = transitions.where(HandoffTransition.at >= start[0])
    found = transitions.subquery()
    latest = (
        select(
            found.c.handoff_id.label("handoff_id"),
            func.max(found.c.at, type_=UTCDateTime()).label("changed_at"),
        )
        .group_by(found.c.handoff_id)
        .subquery()
    )
    query = (
        select(Handoff, latest.c.changed_at)
        .join(latest, latest.c.handoff_id == Handoff.id)
        .options(*(joinedload(relation) for relation in _SHOWN))
    )
    if start is not None:
        moment, ident = start
        query = query.where(
            or_(
                latest.c.changed_at > moment,
                and_(latest.c.changed_at == moment, Handoff.id > ident),
            )
        )
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.execute(query.order_by(latest.c.changed_at, Handoff.id).limit(limit)).all()
    changes = [Change(handoff, changed_at) for handoff, changed_at in rows]
    if len(changes) >= limit:
        last = changes[-1]
        key = (last.changed_at, last.handoff.id)  # a full page: the next one follows it
    else:
        # Changes recorded after the settling horizon may still be committing: the cursor
        # stays at the horizon (they come again next time), or at the last change before it.
        key = (now - SETTLE, uuid.UUID(int=0))
        if changes and (changes[-1].changed_at, changes[-1].handoff.id) < key:
            key = (changes[-1].changed_at, changes[-1].handoff.id)
        if start is not None and key < start:
            key = start
    return ChangesPage(changes, encode_cursor({"t": key[0].isoformat(), "h": key[1].hex}))


def structure_by_code(session: Session, code: str, *, field: str) -> Structure:
    """The active structure ``code`` (a hand-off's receiver), else ``InvalidInput``."""
    found = session.scalar(select(Structure).where(Structure.code == code))
    if found is None or not found.active:
        raise InvalidInput(N_("No active partner structure has this code."), field=field)
    return found


def barrier_of(session: Session, person: Beneficiary, barrier_id: str) -> Barrier:
    """One of ``person``'s barriers, by id, else ``InvalidInput``."""
    try:
        ident = uuid.UUID(barrier_id)
    except ValueError:
        ident = None
    barrier = session.get(Barrier, ident) if ident is not None else None
    if barrier is None or barrier.beneficiary_id != person.id:
        raise InvalidInput(N_("This barrier is not this person's."), field="purpose_barrier")
    return barrier


def consent_on_record(session: Session, person: Beneficiary) -> bool:
    return active_consent(session, person.id) is not None
