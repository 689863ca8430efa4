"""Who may see which person: every query that can reach personal data starts here.

A caseworker sees the identity of the people their structure follows (an open follow-up, or
one ended less than ``grace_days`` ago). Anyone else asking for such a person gets ``NotFound``
- the same answer as for a pseudonym that does not exist.

Changing the person's file - the identity, a withdrawal of consent, the erasure - needs an open
follow-up (``person_to_change``, the rule ``app.domain.rights.may_change_person``): during the
reading grace period a structure gets the same ``NotFound`` there as any other structure.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, or_, select
from sqlalchemy.orm import Session, lazyload

from app.domain.rights import Following, may_change_person
from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, User
from app.services.errors import N_, NotFound

IDENTITY_GRACE_DAYS = 90


def _followed(actor: User, today: date, grace_days: int) -> list[ColumnElement[bool]]:
    """The follow-ups that let ``actor`` see a person's identity: their structure's, open or
    ended less than ``grace_days`` ago (none unless a caseworker)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return [false()]
    since = today - timedelta(days=grace_days)
    return [
        FollowUp.structure_id == actor.structure_id,
        or_(FollowUp.ended_on.is_(None), FollowUp.ended_on >= since),
    ]


def followed_ids(
    actor: User, today: date, grace_days: int = IDENTITY_GRACE_DAYS
) -> Select[uuid.UUID]:
    """Ids of the people whose identity ``actor`` may see (none unless a caseworker)."""
    return select(FollowUp.beneficiary_id).where(*_followed(actor, today, grace_days))


def follows(actor: User, today: date, person_id: Any) -> ColumnElement[bool]:
    """Whether ``actor`` may see the identity of the person whose id is the column
    ``person_id`` (one of ``followed_ids``), as a condition correlated to that column.

    ``EXISTS`` rather than ``IN (followed_ids)``: the database can read a list in its own
    order (an index on the sort keys) and look each row's follow-up up by person
    (``ix_follow_ups_person_structure``), stopping after the page, instead of reading the
    whole caseload's follow-ups first - which grows with the caseload.
    """
    followed = _followed(actor, today, IDENTITY_GRACE_DAYS)
    return exists().where(FollowUp.beneficiary_id == person_id, *followed)


def visible_people(actor: User, today: date) -> Select[Beneficiary]:
    """People ``actor`` follows, as a query to refine (filter, order, paginate)."""
    return select(Beneficiary).where(
        follows(actor, today, Beneficiary.id), Beneficiary.erased_at.is_(None)
    )


def followed_person(session: Session, actor: User, pseudonym: str, today: date) -> Beneficiary:
    """The person ``pseudonym`` if ``actor``'s structure follows them, else ``NotFound``."""
    person = session.scalar(visible_people(actor, today).where(Beneficiary.pseudonym == pseudonym))
    if person is None:
        raise NotFound(N_("No person with this pseudonym is followed by your structure."))
    return person


def following(session: Session, actor: User, person: Beneficiary, today: date) -> Following:
    """How ``actor``'s structure follows ``person`` (``Following.NOT`` unless a caseworker)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return Following.NOT
    if open_follow_up(session, person.id, actor.structure_id) is not None:
        return Following.NOW
    query = followed_ids(actor, today).where(FollowUp.beneficiary_id == person.id)
    return Following.GRACE if session.scalar(select(query.exists())) else Following.NOT


def may_change(session: Session, actor: User, person: Beneficiary) -> bool:
    """Whether ``actor`` may change ``person``'s file - the identity, the situation, the
    consent, their existence: an open follow-up by their structure (``may_change_person``:
    ``Following.NOW``), and a person not erased."""
    if person.erased_at is not None:
        return False
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return False
    return may_change_person(
        Following.NOW
        if open_follow_up(session, person.id, actor.structure_id) is not None
        else Following.NOT
    )


def person_to_change(session: Session, actor: User, pseudonym: str, today: date) -> Beneficiary:
    """The person ``pseudonym`` if ``actor``'s structure follows them *now*, else ``NotFound``
    (the answer of ``followed_person``): the identity edit, the withdrawal of consent and the
    erasure start here, so that the reading grace period is read-only."""
    person = followed_person(session, actor, pseudonym, today)
    if not may_change(session, actor, person):
        raise NotFound(N_("No person with this pseudonym is followed by your structure."))
    return person


def person_for_coordinator(session: Session, actor: User, pseudonym: str) -> Beneficiary:
    """Any person, by pseudonym, for a coordinator (who never sees identities)."""
    if actor.role is not Role.COORDINATOR:
        raise NotFound(N_("No pathway has this pseudonym."))
    person = session.scalar(select(Beneficiary).where(Beneficiary.pseudonym == pseudonym))
    if person is None:
        raise NotFound(N_("No pathway has this pseudonym."))
    return person


def open_follow_up(session: Session, person_id: uuid.UUID, structure_id: int) -> FollowUp | None:
    # Its callers know the structure (most only ask whether there is one): not joined.
    return session.scalar(
        select(FollowUp)
        .options(lazyload(FollowUp.structure))
        .where(
            FollowUp.beneficiary_id == person_id,
            FollowUp.structure_id == structure_id,
            FollowUp.ended_on.is_(None),
        )
    )
