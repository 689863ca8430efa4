"""Orientation decisions: a structure that follows a person decides their pathway type
(professional, socio-professional, social), dated, with the criteria it was decided on - the
levels of the person's barriers on that day, kept with the decision. Each one is audited."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.effective_dates import field_day
from app.domain.orientation import BarrierAtDate, DecisionReason, criteria_on
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    OrientationCriterion,
    OrientationDecision,
    ReferenceKind,
    User,
)
from app.models.base import utcnow
from app.services.effective_dates import effective_day
from app.services.errors import N_, Forbidden
from app.services.people.access import open_follow_up
from app.services.security import audit
from app.services.structures import reference_item


def decide_pathway(
    session: Session,
    actor: User,
    person: Beneficiary,
    *,
    pathway_type_code: str,
    decided_on: date,
    reason: DecisionReason | None = None,
    today: date | None = None,
) -> OrientationDecision:
    """Record that the actor's structure decided ``person``'s pathway type on ``decided_on``.

    Only a caseworker of a structure that follows the person now (``Forbidden`` otherwise);
    ``decided_on`` is an effective date, not after ``today`` (``InvalidInput`` on
    ``decided_on``); the type must be an active item of the pathway types (``InvalidInput``
    on ``pathway_type``). The criteria are the person's assessed barrier levels on that day
    (``criteria_on``), copied into the decision.
    """
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers record pathways."))
    if open_follow_up(session, person.id, actor.structure_id) is None:
        raise Forbidden(N_("Your structure does not follow this person."))
    pathway_type = reference_item(session, ReferenceKind.PATHWAY_TYPE, pathway_type_code)
    effective_day(
        decided_on,
        today=today or field_day(utcnow()),
        field="decided_on",
        born_in=person.birth_year,
    )
    decision = OrientationDecision(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        structure_id=actor.structure_id,
        pathway_type_id=pathway_type.id,
        decided_on=decided_on,
        reason=reason,
        recorded_by_id=actor.id,
    )
    decision.pathway_type = pathway_type
    levels = criteria_on(_barriers_of(session, person.id), decided_on)
    decision.criteria = [
        OrientationCriterion(category_id=category_id, level=level)
        for category_id, level in sorted(levels.items())
    ]
    session.add(decision)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.ORIENTATION_DECIDE,
        decision,
        beneficiary_id=person.id,
        pathway_type=pathway_type.code,
    )
    return decision


def _barriers_of(session: Session, person_id: uuid.UUID) -> list[BarrierAtDate]:
    rows = session.execute(
        select(Barrier.category_id, Barrier.level, Barrier.identified_on, Barrier.closed_on).where(
            Barrier.beneficiary_id == person_id
        )
    )
    return [BarrierAtDate(*row) for row in rows]


def decisions_of(session: Session, person_id: uuid.UUID) -> list[OrientationDecision]:
    """The person's decisions, the oldest first (by day, then by moment of recording): the
    last one is the current pathway type."""
    return list(
        session.scalars(
            select(OrientationDecision)
            .where(OrientationDecision.beneficiary_id == person_id)
            .order_by(OrientationDecision.decided_on, OrientationDecision.created_at)
        )
    )
