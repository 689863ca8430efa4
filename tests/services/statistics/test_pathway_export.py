"""The pseudonymous pathway export: its lines, and its audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import AuditEvent
from app.services.errors import Forbidden
from app.services.statistics import pathway_export
from app.services.statistics.scope import Scope
from tests import factories
from tests.world import END, START, World, at


def test_pathway_export_lines_and_audit(world: World, db_session: Session) -> None:
    person = world.person()
    world.step(person, "orientation", date(2026, 2, 1), world.a)
    barrier = world.barrier(person, "mobility", BarrierStatus.LIFTED, date(2026, 2, 2), world.b)
    world.session.flush()
    handoff = world.handoff(
        person,
        world.a,
        world.b,
        HandoffStatus.DECLINED,
        at(date(2026, 2, 3)),
        answered_after=1,
        reason="no_capacity",
    )
    handoff.purpose_stage_id = None
    handoff.purpose_barrier_id = barrier.id
    world.step(world.person(), "training", date(2025, 2, 1), world.a)  # outside the period
    world.session.flush()
    scope = Scope(start=START, end=END)
    coordinator = factories.user(db_session, Role.COORDINATOR)

    pathway_export.record_export(db_session, coordinator, scope)
    lines = list(pathway_export.pathway_lines(db_session, scope, today=factories.TODAY))

    assert [(x.event, x.day) for x in lines] == [
        ("step", date(2026, 2, 1)),
        ("barrier", date(2026, 2, 2)),
        ("handoff", date(2026, 2, 3)),
    ]
    assert {x.pseudonym for x in lines} == {person.pseudonym}
    assert lines[0].stage == "orientation"
    assert lines[0].structure == "IND-A"
    assert lines[1].barrier_category == "mobility"
    assert lines[1].status == "lifted"
    last = lines[2]
    assert (last.structure, last.to_structure, last.status) == ("IND-A", "IND-B", "declined")
    assert (last.decline_reason, last.barrier_category) == ("no_capacity", "mobility")
    assert lines[0].age_band
    assert lines[0].cohorts == "young_dropout"
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.PATHWAYS_EXPORT.value)
    )
    assert event is not None
    assert event.actor_id == coordinator.id
    assert event.data["start"] == "2026-01-01"
    assert event.beneficiary_id is None


def test_only_coordinators_export_pathways(world: World, db_session: Session) -> None:
    caseworker = factories.user(db_session, Role.CASEWORKER, world.a)
    with pytest.raises(Forbidden):
        pathway_export.record_export(db_session, caseworker, Scope(start=START, end=END))
