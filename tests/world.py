"""A small network written row by row, with every date under control (statistics tests)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.domain.effective_dates import field_day
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
)
from app.services.structures import reference_item
from tests import factories

_pseudonyms = itertools.count(1)
START, END = date(2026, 1, 1), date(2026, 12, 31)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class World:
    session: Session
    a: Structure
    b: Structure
    c: Structure

    def ref(self, kind: ReferenceKind, code: str) -> ReferenceItem:
        return reference_item(self.session, kind, code)

    def person(
        self, *, cohorts: tuple[str, ...] = ("young_dropout",), qpv: ReferenceItem | None = None
    ) -> Beneficiary:
        person = Beneficiary(
            pseudonym=f"P-TEST-{next(_pseudonyms):04d}",
            created_month=date(2026, 1, 1),
            created_by_structure_id=self.a.id,
            birth_year=2003,
            qpv_id=qpv.id if qpv else None,
        )
        person.cohorts = [self.ref(ReferenceKind.COHORT, code) for code in cohorts]
        self.session.add(person)
        self.session.flush()
        return person

    def follow(self, person: Beneficiary, structure: Structure) -> None:
        self.session.add(
            FollowUp(beneficiary_id=person.id, structure_id=structure.id, started_on=START)
        )

    def step(self, person: Beneficiary, stage: str, day: date, structure: Structure) -> None:
        self.session.add(
            PathwayStep(
                beneficiary_id=person.id,
                structure_id=structure.id,
                stage_id=self.ref(ReferenceKind.STAGE, stage).id,
                started_on=day,
            )
        )

    def barrier(
        self,
        person: Beneficiary,
        category: str,
        status: BarrierStatus,
        day: date,
        acting: Structure | None,
    ) -> Barrier:
        barrier = Barrier(
            beneficiary_id=person.id,
            category_id=self.ref(ReferenceKind.BARRIER_CATEGORY, category).id,
            status=status,
            acting_structure_id=acting.id if acting else None,
            identified_on=day,
        )
        self.session.add(barrier)
        return barrier

    def handoff(
        self,
        person: Beneficiary,
        sender: Structure,
        receiver: Structure,
        status: HandoffStatus,
        sent: datetime,
        *,
        answered_after: float | None = None,
        contact_after: float | None = None,
        reason: str | None = None,
        parent: Handoff | None = None,
    ) -> Handoff:
        handoff = Handoff(
            beneficiary_id=person.id,
            from_structure_id=sender.id,
            to_structure_id=receiver.id,
            purpose_stage_id=self.ref(ReferenceKind.STAGE, "training").id,
            consent_confirmed=True,
            status=status,
            sent_at=sent,
            parent_id=parent.id if parent else None,
            decline_reason_id=self.ref(ReferenceKind.DECLINE_REASON, reason).id if reason else None,
        )
        # Recorded the day they happened (``effective`` tests set the ``*_on`` days apart).
        if answered_after is not None:
            handoff.answered_at = sent + timedelta(days=answered_after)
            handoff.answered_on = field_day(handoff.answered_at)
        if contact_after is not None:
            handoff.first_contact_at = sent + timedelta(days=contact_after)
            handoff.first_contact_on = field_day(handoff.first_contact_at)
        if status in (HandoffStatus.COMPLETED, HandoffStatus.NOT_COMPLETED):
            handoff.outcome_id = self.ref(ReferenceKind.OUTCOME, "training_entered").id
            handoff.closed_at = sent + timedelta(days=40)
        elif status.is_final:  # closed when answered (declined, redirected), else when sent
            handoff.closed_at = handoff.answered_at or sent
        if handoff.closed_at is not None:
            handoff.closed_on = field_day(handoff.closed_at)
        self.session.add(handoff)
        self.session.flush()
        return handoff


def make_world(session: Session) -> World:
    """Three structures, IND-A, IND-B and IND-C, and nothing else."""
    return World(
        session,
        factories.structure(session, code="IND-A"),
        factories.structure(session, code="IND-B"),
        factories.structure(session, code="IND-C"),
    )
