"""Who may see a person, written as ``EXISTS`` per row (``access.follows``): the same people
as ``followed_ids`` - the structure's open follow-ups and those ended less than the grace
period ago, never another structure's, never an erased person, nobody for anyone but a
caseworker - in the caseload, in a box's rows and for one person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, Structure, User
from app.services.handoffs.lists import Box, HandoffFilters, list_box
from app.services.people.access import (
    IDENTITY_GRACE_DAYS,
    followed_ids,
    follows,
    visible_people,
)
from app.services.people.overview import Filters, caseload
from app.services.security.vault import Vault
from tests import factories
from tests.factories import TODAY

# Days ago each person's follow-up by the caseworker's structure ended (None: still open).
ENDED = {
    "open": None,
    "ended today": 0,
    "last day of grace": IDENTITY_GRACE_DAYS,
    "grace over": IDENTITY_GRACE_DAYS + 1,
}
SEEN = {"open", "ended today", "last day of grace"}


@pytest.fixture
def world(db_session: Session, vault: Vault) -> dict[str, object]:
    worker = factories.user(db_session, email="sees@relais.example")
    other = factories.user(db_session, email="other@relais.example")
    people = {}
    for name, days in ENDED.items():
        person = factories.person(db_session, vault, worker, last_name=name)
        if days is not None:
            follow_up = db_session.scalars(
                select(FollowUp).where(FollowUp.beneficiary_id == person.id)
            ).one()
            follow_up.ended_on = TODAY - timedelta(days=days)
        people[name] = person
    people["another structure's"] = factories.person(db_session, vault, other, last_name="x")
    erased = factories.person(db_session, vault, worker, last_name="Effacenko")
    erased.erased_at = datetime.now(UTC)
    people["erased"] = erased
    db_session.commit()
    return {"worker": worker, "other": other, "people": people}


def _names(world: dict[str, object], ids: set[object]) -> set[str]:
    people = world["people"]
    assert isinstance(people, dict)
    return {name for name, person in people.items() if person.id in ids}


def test_the_caseload_is_the_followed_people_not_erased(
    db_session: Session, world: dict[str, object]
) -> None:
    worker = world["worker"]
    assert isinstance(worker, User)
    visible = set(
        db_session.scalars(visible_people(worker, TODAY).with_only_columns(Beneficiary.id))
    )
    assert _names(world, visible) == SEEN
    by_ids = set(db_session.scalars(followed_ids(worker, TODAY)))
    assert _names(world, by_ids) == SEEN | {"erased"}  # ``followed_ids`` leaves erasure out
    page = caseload(db_session, worker, today=TODAY, filters=Filters())
    assert _names(world, {row.person.id for row in page.items}) == SEEN


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN, Role.FIELD_WORKER])
def test_nobody_but_a_caseworker_sees_anyone(
    db_session: Session, world: dict[str, object], role: Role
) -> None:
    someone = factories.user(db_session, role, email=f"{role.value}@relais.example")
    assert db_session.scalars(visible_people(someone, TODAY)).all() == []
    every = select(Beneficiary.id).where(follows(someone, TODAY, Beneficiary.id))
    assert db_session.scalars(every).all() == []


def test_a_box_shows_the_names_of_the_people_followed_only(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    worker, other = world["worker"], world["other"]
    assert isinstance(worker, User)
    assert isinstance(other, User)
    target = other.structure
    assert isinstance(target, Structure)
    still, gone = (factories.person(db_session, vault, worker, last_name=n) for n in "ab")
    for person in (still, gone):
        factories.handoff(db_session, vault, worker, person, target)
    ended = select(FollowUp).where(FollowUp.beneficiary_id == gone.id)
    db_session.scalars(ended).one().ended_on = TODAY - timedelta(days=IDENTITY_GRACE_DAYS + 1)
    db_session.commit()
    page = list_box(
        db_session, worker, Box.OUTBOX, filters=HandoffFilters(), now=datetime.now(UTC),
        today=TODAY, overdue_days=10,
    )  # fmt: skip
    followed = {row.handoff.beneficiary_id: row.followed for row in page.rows}
    assert followed == {still.id: True, gone.id: False}
