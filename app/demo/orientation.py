"""Orientation decisions of the demo people, recorded after their stories are played.

Most people get a first decision by their registering structure a few days after
registration (or by another structure that follows them now, when the first no longer does);
some get a change of pathway type months later. The type follows the person's barrier levels
on the day (``pathway_type_for``: two strong barriers, a strong and a moderate one, or a
strong health or housing barrier: social; one strong or two moderate: socio-professional;
otherwise professional), as a caseworker would read the common criteria; a change takes
another type. Decisions go through ``decide_pathway``, as the person page's card does.

Draws come from a generator of their own, so that the stories' draws are unchanged.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.synthetic.decisions import HEAVY, pathway_type_for
from app.domain.orientation import (
    PROFESSIONAL,
    SOCIO_PROFESSIONAL,
    BarrierAtDate,
    DecisionReason,
    criteria_on,
)
from app.models import Barrier, Beneficiary, FollowUp, ReferenceItem, ReferenceKind, User
from app.services.pathways.orientation import decide_pathway

DECIDED_RATE = 0.85  # people with a first decision
CHANGE_RATE = 0.3  # of those, people whose pathway type changes later
CHANGE_REASONS = (
    DecisionReason.BARRIERS_LIFTED,
    DecisionReason.NEW_BARRIER,
    DecisionReason.REVIEW,
    DecisionReason.PERSON_REQUEST,
)


def decide_pathways(
    session: Session,
    caseworkers: dict[str, User],
    registered: dict[uuid.UUID, tuple[str, date]],
    *,
    today: date,
    seed: int,
) -> int:
    """Record the demo people's decisions; how many were recorded."""
    rng = random.Random(seed ^ 0x0D15)  # noqa: S311 - fictional data
    by_structure = {user.structure_id: user for user in caseworkers.values()}
    heavy = frozenset(
        session.scalars(
            select(ReferenceItem.id).where(
                ReferenceItem.kind == ReferenceKind.BARRIER_CATEGORY,
                ReferenceItem.code.in_(HEAVY),
            )
        )
    )
    recorded = 0
    for person_id, (code, start) in registered.items():
        if rng.random() >= DECIDED_RATE:
            continue
        person = session.get(Beneficiary, person_id)
        actor = _decider(session, person_id, caseworkers[code], by_structure)
        if person is None or actor is None:
            continue
        barriers = _barriers(session, person_id)
        first = start + timedelta(days=round(rng.triangular(1, 45, 8)))
        days = [(first, DecisionReason.FIRST_ORIENTATION)]
        if rng.random() < CHANGE_RATE:
            days.append((first + timedelta(days=rng.randint(40, 150)), rng.choice(CHANGE_REASONS)))
        previous: str | None = None
        for day, reason in days:
            if day >= today:
                break
            code_now = pathway_type_for(criteria_on(barriers, day), heavy)
            if previous is not None and code_now == previous:
                code_now = PROFESSIONAL if previous != PROFESSIONAL else SOCIO_PROFESSIONAL
            decide_pathway(
                session,
                actor,
                person,
                pathway_type_code=code_now,
                decided_on=day,
                reason=reason,
                today=today,
            )
            previous = code_now
            recorded += 1
    return recorded


def _decider(
    session: Session, person_id: uuid.UUID, registrar: User, by_structure: dict[int | None, User]
) -> User | None:
    """The registering structure's caseworker if it follows the person now, else the
    caseworker of another structure that does; None when nobody follows them."""
    following = session.scalars(
        select(FollowUp.structure_id)
        .where(FollowUp.beneficiary_id == person_id, FollowUp.ended_on.is_(None))
        .order_by(FollowUp.started_on)
    ).all()
    if registrar.structure_id in following:
        return registrar
    return next((by_structure[s] for s in following if s in by_structure), None)


def _barriers(session: Session, person_id: uuid.UUID) -> list[BarrierAtDate]:
    rows = session.execute(
        select(Barrier.category_id, Barrier.level, Barrier.identified_on, Barrier.closed_on).where(
            Barrier.beneficiary_id == person_id
        )
    )
    return [BarrierAtDate(*row) for row in rows]
