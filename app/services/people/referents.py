"""Referents: the caseworker of a structure in charge of a person, and their contact details.

Every follow-up names a referent: the caseworker who registered the person, or who accepted
the hand-off that opened the follow-up. Partners on a hand-off see the referent of each side
with a work e-mail (their login) and a work phone. A colleague of the same structure may
become the referent of one person, or of a whole caseload when someone leaves; each change is
audited, person by person.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.people.access import open_follow_up
from app.services.people.identity import normalise_phone
from app.services.security import audit, managers


@dataclass(frozen=True)
class Referent:
    """What partners see of a referent: a professional contact, never personal data."""

    name: str
    email: str
    work_phone: str | None
    active: bool


def _structure_of(actor: User, structure_id: int | None = None) -> int:
    """The structure the actor works on: their own, or ``structure_id`` when given (a manager
    of that structure, or an administrator, handing a caseload over from its accounts page)."""
    if structure_id is not None:
        managers.require_manager(actor, structure_id)
        return structure_id
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers have referents to choose."))
    return actor.structure_id


def colleagues(
    session: Session, actor: User, *, active_only: bool = True, structure_id: int | None = None
) -> list[User]:
    """The caseworkers of the actor's structure (the actor included), by name; of
    ``structure_id`` for its managers and the administrators."""
    query = select(User).where(
        User.structure_id == _structure_of(actor, structure_id),
        User.role == Role.CASEWORKER,
        User.api_client.is_(False),  # an API token's service account is no referent
    )
    if active_only:
        query = query.where(User.active.is_(True))
    return sorted(session.scalars(query), key=lambda user: user.display_name.casefold())


def _colleague(session: Session, structure_id: int, user_id: int | None, *, field: str) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if (
        user is None
        or user.role is not Role.CASEWORKER
        or user.structure_id != structure_id
        or user.api_client
    ):
        raise InvalidInput(N_("Choose a colleague of your structure."), field=field)
    return user


def change_referent(
    session: Session, actor: User, person: Beneficiary, referent_id: int | None
) -> FollowUp:
    """Make ``referent_id`` (an active caseworker of the actor's structure) the referent of the
    structure's open follow-up of ``person``."""
    structure = _structure_of(actor)
    follow_up = open_follow_up(session, person.id, structure)
    if follow_up is None:
        raise Forbidden(N_("Your structure no longer follows this person."))
    referent = _colleague(session, structure, referent_id, field="referent")
    if not referent.active:
        raise InvalidInput(
            N_("This account is closed: choose an active colleague."), field="referent"
        )
    if follow_up.referent_id != referent.id:
        before = follow_up.referent_id
        follow_up.referent_id = referent.id
        audit.record(
            session, actor, AuditAction.FOLLOW_UP_REFERENT, follow_up,
            beneficiary_id=person.id, previous=before, referent=referent.id,
        )  # fmt: skip
    return follow_up


def hand_over_size(
    session: Session,
    actor: User,
    from_id: int | None,
    to_id: int | None,
    *,
    structure_id: int | None = None,
) -> int:
    """How many people ``hand_over_caseload`` would move, with its checks (two different
    colleagues of the actor's structure, the second one active): the confirmation step."""
    structure = _structure_of(actor, structure_id)
    source, _target = _hand_over_parties(session, structure, from_id, to_id)
    return len(_caseload(session, structure, source.id))


def _hand_over_parties(
    session: Session, structure: int, from_id: int | None, to_id: int | None
) -> tuple[User, User]:
    source = _colleague(session, structure, from_id, field="from_user")
    target = _colleague(session, structure, to_id, field="to_user")
    if not target.active:
        raise InvalidInput(
            N_("This account is closed: choose an active colleague."), field="to_user"
        )
    if source.id == target.id:
        raise InvalidInput(N_("Choose two different colleagues."), field="to_user")
    return source, target


def _caseload(session: Session, structure: int, referent_id: int) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp).where(
                FollowUp.structure_id == structure,
                FollowUp.referent_id == referent_id,
                FollowUp.ended_on.is_(None),
            )
        )
    )


def hand_over_caseload(
    session: Session,
    actor: User,
    from_id: int | None,
    to_id: int | None,
    *,
    structure_id: int | None = None,
) -> int:
    """Give every open follow-up of the actor's structure whose referent is ``from_id`` to
    ``to_id`` (an active colleague); returns how many. ``from_id`` may be a closed account:
    that is when a caseload is handed over. One audit event per person.

    ``structure_id``: the structure's accounts page, where a manager of the structure or an
    administrator hands over (``managers.require_manager``)."""
    structure = _structure_of(actor, structure_id)
    source, target = _hand_over_parties(session, structure, from_id, to_id)
    moved = _caseload(session, structure, source.id)
    if not moved:
        return 0
    session.execute(
        update(FollowUp)
        .where(FollowUp.id.in_([f.id for f in moved]))
        .values(referent_id=target.id),
        execution_options={"synchronize_session": "fetch"},
    )
    for follow_up in moved:  # a change to each follow-up: one event each (chained at commit)
        audit.record(
            session, actor, AuditAction.FOLLOW_UP_REFERENT, follow_up,
            beneficiary_id=follow_up.beneficiary_id,
            previous=source.id, referent=target.id, handover=len(moved),
        )  # fmt: skip
    return len(moved)


def referents_of(
    session: Session, person_id: uuid.UUID, structure_ids: Iterable[int]
) -> dict[int, Referent]:
    """The referent of each of these structures' open follow-ups of the person, by structure
    (a structure that does not follow the person, or whose follow-up has no referent, is left
    out). One query."""
    wanted = set(structure_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(FollowUp.structure_id, User)
        .join(User, User.id == FollowUp.referent_id)
        .where(
            FollowUp.beneficiary_id == person_id,
            FollowUp.structure_id.in_(wanted),
            FollowUp.ended_on.is_(None),
        )
    )
    return {
        structure: Referent(user.display_name, user.email, user.work_phone, user.active)
        for structure, user in rows
    }


def set_work_phone(session: Session, actor: User | None, user: User, raw: str | None) -> None:
    """Set (or clear, when empty) ``user``'s work phone, as E.164; audited, without the value.
    ``actor`` is the account itself, or ``None`` for the command line."""
    text = (raw or "").strip()
    phone = normalise_phone(text) if text else None
    if phone != user.work_phone:
        user.work_phone = phone
        audit.record(session, actor, AuditAction.USER_CONTACT, user, field="work_phone")


def referent_count(session: Session, user: User) -> int:
    """Open follow-ups whose referent is ``user`` (to hand over before or after they leave)."""
    if user.structure_id is None:
        return 0
    return len(_caseload(session, user.structure_id, user.id))
