"""Unmet-need records, written in the transaction of the event that makes them.

- ``record_for_handoff``: a hand-off declined for a reason of
  ``app.domain.unmet_needs.UNMET_DECLINE_REASONS``, or expired (called by the transitions);
- ``record_no_solution``: a caseworker found no partner for one of the person's barriers (or
  a barrier category);
- ``detach_person``: an erasure clears the links to the person (the record stays: the need
  was unmet, and the statistics count it).

A record copies the person's QPV and cohorts *as they are that day*: a later move or a cohort
left does not change the past.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.domain.unmet_needs import UnmetNeedSource, source_of
from app.models import Barrier, Beneficiary, Handoff, ReferenceKind, UnmetNeed, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.pathways.recording import find_barrier
from app.services.people.access import may_change
from app.services.security import audit
from app.services.structures import reference_item


def record_for_handoff(
    session: Session,
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    reason_code: str | None,
    day: date,
) -> UnmetNeed | None:
    """The unmet need ``event`` makes on ``handoff`` (declined for capacity, eligibility or no
    such service; expired), on ``day``; ``None`` for any other event or reason."""
    source = source_of(event, reason_code)
    if source is None:
        return None
    barrier = handoff.purpose_barrier
    need = _new_need(
        session,
        handoff.beneficiary,
        source,
        day,
        structure_id=handoff.to_structure_id,
        category_id=barrier.category_id if barrier is not None else None,
    )
    need.handoff_id = handoff.id
    need.barrier_id = barrier.id if barrier is not None else None
    need.stage_id = handoff.purpose_stage_id
    need.referred_by_structure_id = handoff.from_structure_id
    need.recorded_by_id = actor.id if isinstance(actor, User) else None
    session.flush()
    return need


def record_no_solution(
    session: Session,
    actor: User,
    person: Beneficiary,
    *,
    barrier_id: str | None,
    category_code: str | None,
    precision_code: str | None,
    today: date,
) -> UnmetNeed:
    """Record that ``actor``'s structure found no partner for a need of ``person``: one of
    their open barriers (``barrier_id``) or a barrier category (``category_code``), exactly
    one of the two, with an optional coded precision. Audited.

    Raises ``Forbidden`` unless ``actor`` is a caseworker whose structure follows the person
    now, ``InvalidInput`` for a barrier that is not one of the person's open ones, both or
    neither of barrier and category, or an unknown code.
    """
    if actor.role is not Role.CASEWORKER or not may_change(session, actor, person):
        raise Forbidden(N_("Your structure does not follow this person."))
    assert actor.structure_id is not None  # a caseworker's
    barrier, category_id = _need_of(session, person, barrier_id, category_code)
    precision = (
        reference_item(session, ReferenceKind.UNMET_NEED_PRECISION, precision_code)
        if precision_code
        else None
    )
    need = _new_need(
        session,
        person,
        UnmetNeedSource.NO_SOLUTION,
        today,
        structure_id=actor.structure_id,
        category_id=category_id,
    )
    need.barrier_id = barrier.id if barrier is not None else None
    need.precision_id = precision.id if precision is not None else None
    need.recorded_by_id = actor.id
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.UNMET_NEED_RECORD,
        need,
        beneficiary_id=person.id,
        source=need.source.value,
    )
    return need


def _need_of(
    session: Session, person: Beneficiary, barrier_id: str | None, category_code: str | None
) -> tuple[Barrier | None, int]:
    """The barrier (or None) and the category a "no solution found" is about."""
    if bool(barrier_id) == bool(category_code):
        raise InvalidInput(
            N_("Choose either one of the person's barriers or a category."), field="barrier"
        )
    if category_code:
        return None, reference_item(session, ReferenceKind.BARRIER_CATEGORY, category_code).id
    barrier = find_barrier(session, person.id, barrier_id or "")
    if barrier is None or barrier.status.is_closed:
        raise InvalidInput(N_("Choose one of the person's open barriers."), field="barrier")
    return barrier, barrier.category_id


def _new_need(
    session: Session,
    person: Beneficiary,
    source: UnmetNeedSource,
    day: date,
    *,
    structure_id: int,
    category_id: int | None,
) -> UnmetNeed:
    if person.erased_at is not None:
        raise InvalidInput(N_("This person's data has been erased: nothing more is recorded."))
    need = UnmetNeed(
        beneficiary_id=person.id,
        source=source,
        occurred_on=day,
        structure_id=structure_id,
        category_id=category_id,
        qpv_id=person.qpv_id,
        cohorts=list(person.cohorts),
    )
    session.add(need)
    return need


def detach_person(session: Session, person_id: uuid.UUID) -> None:
    """Clear every link from the person's unmet needs to them (an erasure): the person, their
    barrier and hand-off. What is left - the category, the QPV and cohorts of that day, the
    quarter, the source, the structures - is what the statistics count, as for any person."""
    session.execute(
        update(UnmetNeed)
        .where(UnmetNeed.beneficiary_id == person_id)
        .values(beneficiary_id=None, barrier_id=None, handoff_id=None),
        execution_options={"synchronize_session": "fetch"},
    )
