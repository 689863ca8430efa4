"""A random world of people, decisions and hand-offs (``random_delays_world``), the medians
computed in SQL as they were (``_medians``: window functions, or ``percentile_cont`` on
PostgreSQL), and the delays' grouped queries as they were before ``delay_queries.delays_query`` (eight
statements a page: a count and a median query per leg, each joining the cohorts), kept to
check that the one statement which replaced them gives the same counts and medians."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import CTE, ColumnElement, Date, Select, case, func, literal, select, union_all

from app.domain.handoffs import HandoffStatus
from app.models import (
    Beneficiary,
    FollowUp,
    Handoff,
    OrientationDecision,
    ReferenceItem,
    ReferenceKind,
    beneficiary_cohorts,
)
from app.services.statistics.decisions import day_quarter
from app.services.statistics.delay_queries import ACCEPTED, GROUP_BASE, Breakdown, DelayLeg
from app.services.statistics.scope import Scope, handoffs_in, population
from app.services.statistics.sql import days_between, utc_date, year_quarter
from tests.world import World, at

STATUSES = (
    HandoffStatus.SENT,
    HandoffStatus.ACCEPTED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.COMPLETED,
    HandoffStatus.DECLINED,
    HandoffStatus.WITHDRAWN,
    HandoffStatus.REDIRECTED,
)


def random_delays_world(world: World, seed: int) -> None:
    rng = random.Random(seed)
    qpv = ReferenceItem(
        kind=ReferenceKind.QPV, code="QP-VANTERIAN", label_fr="Q", label_en="Q", position=1
    )
    world.session.add(qpv)
    world.session.flush()
    cohorts = (("young_dropout",), ("single_parent",), ("young_dropout", "rsa"), ())
    structures = (world.a, world.b, world.c)
    for i in range(60):
        person = world.person(cohorts=cohorts[i % 4], qpv=qpv if i % 3 == 0 else None)
        registered = date(2025, 10, 1) + timedelta(days=rng.randrange(0, 450))
        world.session.add(
            FollowUp(
                beneficiary_id=person.id,
                structure_id=rng.choice(structures).id,
                started_on=registered,
            )
        )
        if rng.random() < 0.7:
            world.session.add(
                OrientationDecision(
                    id=uuid.uuid4(),
                    beneficiary_id=person.id,
                    structure_id=world.a.id,
                    pathway_type_id=world.ref(ReferenceKind.PATHWAY_TYPE, "professional").id,
                    decided_on=registered + timedelta(days=rng.randrange(-20, 90)),
                )
            )
        for _ in range(rng.randint(0, 3)):
            sender, receiver = rng.sample(structures, 2)
            status = rng.choice(STATUSES)
            answered = None
            contact = None
            if status not in (HandoffStatus.SENT, HandoffStatus.WITHDRAWN) or rng.random() < 0.2:
                answered = rng.randrange(0, 45)
            if (
                status in (HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED)
                and answered is not None
            ):
                contact = answered + rng.randrange(0, 50)
            sent = date(2025, 12, 1) + timedelta(days=rng.randrange(0, 380))
            world.handoff(
                person,
                sender,
                receiver,
                status,
                at(sent),
                answered_after=answered,
                contact_after=contact,
                reason="no_capacity" if status is HandoffStatus.DECLINED else None,
            )
    world.session.flush()


def _registration_items(scope: Scope, today: date) -> CTE:
    """People registered in the period: from the start of their first follow-up (the day the
    network began to follow them) to their first orientation decision."""
    registered = (
        select(
            FollowUp.beneficiary_id.label("person"),
            func.min(FollowUp.started_on).label("registered"),
        )
        .group_by(FollowUp.beneficiary_id)
        .subquery()
    )
    decided = (
        select(
            OrientationDecision.beneficiary_id.label("person"),
            func.min(OrientationDecision.decided_on).label("decided"),
        )
        .group_by(OrientationDecision.beneficiary_id)
        .subquery()
    )
    # A decision before the first follow-up (an older one, imported) took no time.
    took = case(
        (decided.c.decided < registered.c.registered, 0.0),
        else_=days_between(registered.c.registered, decided.c.decided),
    )
    return (
        select(
            registered.c.person,
            Beneficiary.created_by_structure_id.label("structure"),
            Beneficiary.qpv_id.label("qpv"),
            day_quarter(registered.c.registered).label("quarter"),
            took.label("days"),
            days_between(registered.c.registered, literal(today, Date)).label("elapsed"),
        )
        .select_from(registered)
        .join(Beneficiary, Beneficiary.id == registered.c.person)
        .outerjoin(decided, decided.c.person == registered.c.person)
        .where(
            registered.c.registered >= scope.start,
            registered.c.registered <= scope.end,
            Beneficiary.erased_at.is_(None),
            *population(scope, registered.c.person),
        )
        .cte("items")
    )


def _handoff_items(scope: Scope, leg: DelayLeg, today: date) -> CTE:
    """Hand-offs sent in the period: to the answer (all but those withdrawn unanswered), or
    to the first contact, from the sending or from the acceptance (the accepted ones)."""
    sent = utc_date(Handoff.sent_at)
    conditions: list[ColumnElement[bool]] = list(handoffs_in(scope))
    start: Any
    if leg is DelayLeg.SENT_TO_ANSWER:
        start, end = sent, Handoff.answered_on
        conditions.append(
            Handoff.answered_on.is_not(None) | (Handoff.status != HandoffStatus.WITHDRAWN)
        )
    else:
        start = sent if leg is DelayLeg.SENT_TO_FIRST_CONTACT else Handoff.answered_on
        end = Handoff.first_contact_on
        conditions += [Handoff.status.in_(ACCEPTED), Handoff.answered_on.is_not(None)]
    return (
        select(
            Handoff.beneficiary_id.label("person"),
            Handoff.to_structure_id.label("structure"),
            Beneficiary.qpv_id.label("qpv"),
            year_quarter(Handoff.sent_at).label("quarter"),
            days_between(start, end).label("days"),
            days_between(start, literal(today, Date)).label("elapsed"),
        )
        .join(Beneficiary, Beneficiary.id == Handoff.beneficiary_id)
        .where(*conditions)
        .cte("items")
    )


def leg_items(scope: Scope, leg: DelayLeg, today: date) -> CTE:
    if leg is DelayLeg.REGISTRATION_TO_DECISION:
        return _registration_items(scope, today)
    return _handoff_items(scope, leg, today)


def _grouped(items: CTE, value: ColumnElement[Any]) -> Any:
    """One select per breakdown of (group key, ``value``), all in one union."""
    cohorts = beneficiary_cohorts.c
    by_cohort = (
        select((Breakdown.COHORT * GROUP_BASE + cohorts.cohort_id).label("grp"), value)
        .select_from(items)
        .join(beneficiary_cohorts, cohorts.beneficiary_id == items.c.person)
    )
    return union_all(
        select(literal(0).label("grp"), value),
        select(Breakdown.STRUCTURE * GROUP_BASE + items.c.structure, value),
        select(Breakdown.QPV * GROUP_BASE + func.coalesce(items.c.qpv, 0), value),
        select(Breakdown.QUARTER * GROUP_BASE + items.c.quarter, value),
        by_cohort,
    ).subquery()


def band_code(items: CTE, target: int, contract: int) -> ColumnElement[int]:
    """The band of each item, as its position in ``DelayBand``."""
    days, elapsed = items.c.days, items.c.elapsed
    return case(
        (days <= target, 0),
        (days <= contract, 1),
        (days.is_not(None), 2),
        (elapsed > contract, 3),
        else_=4,
    )


def counts_query(
    scope: Scope, leg: DelayLeg, *, today: date, target: int, contract: int
) -> Select[int, int, int]:
    """Items of ``leg`` by (group key, band code)."""
    items = leg_items(scope, leg, today)
    grouped = _grouped(items, band_code(items, target, contract).label("band"))
    return select(grouped.c.grp, grouped.c.band, func.count()).group_by(
        grouped.c.grp, grouped.c.band
    )


def medians_query(
    scope: Scope, leg: DelayLeg, *, today: date, percentile: bool
) -> Select[int, float, int]:
    """Median days of the items of ``leg`` reached, by group key, and how many are behind."""
    items = leg_items(scope, leg, today)
    reached = select(items).where(items.c.days.is_not(None)).cte("reached")
    grouped = _grouped(reached, reached.c.days.label("days"))
    return _medians(grouped.c.grp, grouped.c.days, percentile=percentile)


def _medians(
    group: ColumnElement[Any], value: ColumnElement[Any], *, percentile: bool = False
) -> Select[Any, float, int]:
    """Median of ``value`` per ``group``, and how many values are behind it.

    With ``percentile`` (PostgreSQL: ``uses_percentile``), the ordered-set aggregate
    ``percentile_cont(0.5)``, which interpolates the two middle values of an even count as the
    window version does, at a third of its cost; else window functions (SQLite has no
    percentile aggregate): rank the values of each group, keep the middle one or two.
    """
    if percentile:
        return select(group, func.percentile_cont(0.5).within_group(value), func.count()).group_by(
            group
        )
    ranked = select(
        group.label("grp"),
        value.label("value"),
        func.row_number().over(partition_by=group, order_by=value).label("rank"),
        func.count().over(partition_by=group).label("n"),
    ).subquery()
    return (
        select(ranked.c.grp, func.avg(ranked.c.value), func.max(ranked.c.n))
        .where(
            ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]),
        )
        .group_by(ranked.c.grp)
    )
