"""Delays against the targets and decisions by pathway type (issue 15, items 1 and 2): exact
figures equal a direct count of a known world, the thresholds are settings, and the
publication view hides what fewer than k people stand behind."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from app.domain.handoffs import HandoffStatus
from app.domain.orientation import StrongestLevel
from app.domain.pathway import BarrierLevel
from app.domain.periods import Quarter
from app.models import (
    Beneficiary,
    OrientationCriterion,
    OrientationDecision,
    ReferenceItem,
    ReferenceKind,
)
from app.services.statistics.decisions import DecisionKind, decisions_by_type
from app.services.statistics.delay_queries import Breakdown, DelayBand, DelayLeg
from app.services.statistics.delays import DelayHeading, DelayTargets, LegDelays, delay_targets
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from tests import factories
from tests.world import END, START, World, at

TODAY = factories.TODAY  # 2026-11-25
WT, WC, LATER, OVERDUE, OPEN = DelayBand


def scope(world: World, **filters: object) -> Scope:
    world.session.flush()
    return resolve_scope(
        world.session,
        DashboardFilters(start=START, end=END, **filters),  # type: ignore[arg-type]
        today=TODAY,
    )


def decide(world: World, person: Beneficiary, code: str, day: date, **levels: BarrierLevel) -> None:
    decision = OrientationDecision(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        structure_id=world.a.id,
        pathway_type_id=world.ref(ReferenceKind.PATHWAY_TYPE, code).id,
        decided_on=day,
    )
    decision.criteria = [
        OrientationCriterion(
            category_id=world.ref(ReferenceKind.BARRIER_CATEGORY, category).id, level=level
        )
        for category, level in levels.items()
    ]
    world.session.add(decision)
    world.session.flush()


def known_world(world: World) -> list[Beneficiary]:
    """Four people followed by IND-A since 1 January; their decisions and hand-offs."""
    qpv = ReferenceItem(
        kind=ReferenceKind.QPV, code="QP-DELAYS", label_fr="Quartier", label_en="Area", position=1
    )
    world.session.add(qpv)
    world.session.flush()
    people = [world.person(qpv=qpv if n == 0 else None) for n in range(4)]
    for person in people:
        world.follow(person, world.a)
    p1, p2, p3, _p4 = people
    decide(world, p1, "professional", date(2026, 1, 10), mobility=BarrierLevel.MODERATE)  # 9 d
    decide(world, p1, "social", date(2026, 4, 2), mobility=BarrierLevel.STRONG)  # a change
    decide(world, p2, "socio_professional", date(2026, 1, 21))  # 20 d
    decide(world, p3, "professional", date(2026, 3, 15), housing=BarrierLevel.NO_IMPACT)  # 73 d
    # p4: no decision, registered more than 30 days ago: overdue.
    b, c = world.b, world.c
    world.handoff(p1, world.a, b, HandoffStatus.ACCEPTED, at(date(2026, 2, 2)),
                  answered_after=3, contact_after=10)  # fmt: skip
    world.handoff(p2, world.a, b, HandoffStatus.COMPLETED, at(date(2026, 5, 4)),
                  answered_after=20, contact_after=40)  # fmt: skip
    world.handoff(p3, world.a, c, HandoffStatus.SENT, at(date(2026, 11, 20)))  # open
    world.handoff(p3, world.a, c, HandoffStatus.WITHDRAWN, at(date(2026, 6, 1)))  # left out
    world.handoff(p1, world.a, c, HandoffStatus.DECLINED, at(date(2026, 7, 1)),
                  answered_after=2, reason="no_capacity")  # fmt: skip
    return people


def leg(result: DelayTargets, which: DelayLeg) -> LegDelays:
    (found,) = [one for one in result.legs if one.leg is which]
    return found


def bands(found: LegDelays, breakdown: Breakdown = Breakdown.STRUCTURE) -> dict[object, dict]:
    table = found.tables[breakdown]
    return {
        row: {band: n for band, n in zip(table.columns, table.published.cells[i], strict=True) if n}
        for i, row in enumerate(table.rows)
    }


def test_exact_delays_of_a_known_world(world: World) -> None:
    known_world(world)
    result = delay_targets(world.session, scope(world), 1, 15, 30, today=TODAY)
    registration = leg(result, DelayLeg.REGISTRATION_TO_DECISION)
    assert bands(registration) == {world.a: {WT: 1, WC: 1, LATER: 1, OVERDUE: 1}}
    assert registration.overall.within_target == 1 / 4
    assert registration.overall.within_contract == 2 / 4
    assert registration.overall.median == 20  # 9, 20, 73
    answer = leg(result, DelayLeg.SENT_TO_ANSWER)
    assert bands(answer) == {world.b: {WT: 1, WC: 1}, world.c: {WT: 1, OPEN: 1}}
    assert answer.overall.within_target == 2 / 3  # the open one is not settled
    assert answer.overall.within_contract == 1
    contact = leg(result, DelayLeg.SENT_TO_FIRST_CONTACT)
    assert bands(contact) == {world.b: {WT: 1, LATER: 1}}
    assert contact.overall.median == 25  # 10 and 40
    after_answer = leg(result, DelayLeg.ANSWER_TO_FIRST_CONTACT)
    assert bands(after_answer) == {world.b: {WT: 1, WC: 1}}  # 7 and 20 days
    quarters = bands(answer, Breakdown.QUARTER)
    assert quarters[Quarter(2026, 1)] == {WT: 1}
    assert quarters[Quarter(2026, 2)] == {WC: 1}
    assert quarters[Quarter(2026, 3)] == {WT: 1}
    assert quarters[Quarter(2026, 4)] == {OPEN: 1}
    # p1 lives in the QPV: their decision (9 days) and their two hand-offs answered.
    qpvs = bands(registration, Breakdown.QPV)
    in_qpv = world.session.scalars(
        select(ReferenceItem).where(ReferenceItem.code == "QP-DELAYS")
    ).one()
    assert qpvs == {in_qpv: {WT: 1}, DelayHeading.NO_QPV: {WC: 1, LATER: 1, OVERDUE: 1}}
    assert bands(answer, Breakdown.QPV)[in_qpv] == {WT: 2}
    cohorts = bands(registration, Breakdown.COHORT)
    assert cohorts == {
        world.ref(ReferenceKind.COHORT, "young_dropout"): {WT: 1, WC: 1, LATER: 1, OVERDUE: 1}
    }


def test_the_thresholds_are_settings(world: World) -> None:
    known_world(world)
    result = delay_targets(world.session, scope(world), 1, 5, 10, today=TODAY)
    registration = leg(result, DelayLeg.REGISTRATION_TO_DECISION)
    assert bands(registration) == {world.a: {WC: 1, LATER: 2, OVERDUE: 1}}  # 9, 20, 73 days
    assert result.target == 5
    assert result.contract == 10
    swapped = delay_targets(world.session, scope(world), 1, 10, 5, today=TODAY)
    assert (swapped.target, swapped.contract) == (5, 10)


def test_the_publication_view_hides_small_counts(world: World) -> None:
    known_world(world)
    result = delay_targets(world.session, scope(world), 11, 15, 30, today=TODAY)
    for found in result.legs:
        assert found.overall.within_target is None
        assert found.overall.median is None
        for table in found.tables.values():
            assert all(v is None or v == 0 for row in table.published.cells for v in row)


def test_filters_keep_the_population(world: World) -> None:
    known_world(world)
    result = delay_targets(world.session, scope(world, cohort="rsa"), 1, 15, 30, today=TODAY)
    assert all(found.tables[Breakdown.STRUCTURE].empty for found in result.legs)


def test_decisions_by_type_of_a_known_world(world: World) -> None:
    known_world(world)
    tables = decisions_by_type(world.session, scope(world), 1)
    professional = world.ref(ReferenceKind.PATHWAY_TYPE, "professional")
    social = world.ref(ReferenceKind.PATHWAY_TYPE, "social")
    socio = world.ref(ReferenceKind.PATHWAY_TYPE, "socio_professional")
    assert tables.by_type.cell(professional, DecisionKind.FIRST) == 2
    assert tables.by_type.cell(social, DecisionKind.CHANGE) == 1
    assert tables.by_type.cell(socio, DecisionKind.FIRST) == 1
    assert tables.by_type.published.total == 4
    assert tables.by_quarter.cell(Quarter(2026, 1), professional) == 2
    assert tables.by_quarter.cell(Quarter(2026, 2), social) == 1
    assert tables.criteria.cell(professional, StrongestLevel.MODERATE) == 1
    assert tables.criteria.cell(professional, StrongestLevel.NO_IMPACT) == 1
    assert tables.criteria.cell(social, StrongestLevel.STRONG) == 1
    assert tables.criteria.cell(socio, StrongestLevel.NONE_ASSESSED) == 1
    hidden = decisions_by_type(world.session, scope(world), 11)
    assert hidden.by_type.published.total is None


def test_a_decision_before_the_period_makes_the_next_a_change(world: World) -> None:
    person = world.person()
    world.follow(person, world.a)
    decide(world, person, "social", date(2025, 6, 1))
    decide(world, person, "professional", date(2026, 2, 1))
    tables = decisions_by_type(world.session, scope(world), 1)
    professional = world.ref(ReferenceKind.PATHWAY_TYPE, "professional")
    assert tables.by_type.cell(professional, DecisionKind.CHANGE) == 1
    assert tables.by_type.published.total == 1
