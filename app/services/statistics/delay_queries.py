"""The grouped query of the delays against the targets (``delays``): it returns groups.

Every leg is a set of measured items (one line per person or hand-off, in the database only),
with the days it took when it was reached, the days gone since it started, and its breakdown
keys; the four legs are one CTE (the period's hand-offs read once for the three legs measured
on them). One query reads it, a union of one select per breakdown (the people's cohorts joined
once), and counts the items by (leg, group, band, days taken): the counts by band and the
medians of the days reached both come from it. A group is an integer key,
``breakdown * GROUP_BASE + key`` (a structure, cohort or QPV id, a quarter key, 0 for none).
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    Select,
    case,
    func,
    literal,
    select,
    union_all,
)

from app.domain.handoffs import HandoffStatus
from app.models import Beneficiary, FollowUp, Handoff, OrientationDecision, beneficiary_cohorts
from app.services.statistics.decisions import day_quarter
from app.services.statistics.scope import Scope, handoffs_in, population
from app.services.statistics.sql import days_between, utc_date, year_quarter


class DelayLeg(StrEnum):
    """The delays measured against the targets."""

    REGISTRATION_TO_DECISION = "registration_to_decision"
    SENT_TO_ANSWER = "sent_to_answer"
    ANSWER_TO_FIRST_CONTACT = "answer_to_first_contact"
    SENT_TO_FIRST_CONTACT = "sent_to_first_contact"


class DelayBand(StrEnum):
    """Where an item falls against the target (T days) and the contract (C days)."""

    WITHIN_TARGET = "within_target"  # reached in T days or fewer
    WITHIN_CONTRACT = "within_contract"  # reached in more than T days, C or fewer
    LATER = "later"  # reached in more than C days
    OVERDUE = "overdue"  # not reached, more than C days have passed
    OPEN = "open"  # not reached, C days have not passed yet: not in the shares


BAND_OF_CODE = dict(enumerate(DelayBand))
LEGS = tuple(DelayLeg)  # a leg's code in ``delays_query`` is its position here


class Breakdown(IntEnum):
    ALL = 0
    STRUCTURE = 1  # the receiving structure (the registering one for registration → decision)
    COHORT = 2
    QPV = 3
    QUARTER = 4


GROUP_BASE = 10_000_000

ACCEPTED = (
    HandoffStatus.ACCEPTED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.COMPLETED,
    HandoffStatus.NOT_COMPLETED,
)


def _registration_items(scope: Scope, today: date) -> Select[Any]:
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
            literal(LEGS.index(DelayLeg.REGISTRATION_TO_DECISION)).label("leg"),
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
    )


def _handoffs_sent(scope: Scope) -> CTE:
    """The hand-offs sent in the period, read once for the three legs measured on them."""
    return (
        select(
            Handoff.beneficiary_id.label("person"),
            Handoff.to_structure_id.label("structure"),
            Beneficiary.qpv_id.label("qpv"),
            year_quarter(Handoff.sent_at).label("quarter"),
            utc_date(Handoff.sent_at).label("sent_on"),
            Handoff.answered_on.label("answered_on"),
            Handoff.first_contact_on.label("first_contact_on"),
            Handoff.status.label("status"),
        )
        .join(Beneficiary, Beneficiary.id == Handoff.beneficiary_id)
        .where(*handoffs_in(scope))
        .cte("sent")
    )


def _handoff_items(sent: CTE, leg: DelayLeg, today: date) -> Select[Any]:
    """Hand-offs sent in the period: to the answer (all but those withdrawn unanswered), or
    to the first contact, from the sending or from the acceptance (the accepted ones)."""
    h = sent.c
    condition: ColumnElement[bool]
    start: Any
    if leg is DelayLeg.SENT_TO_ANSWER:
        start, end = h.sent_on, h.answered_on
        condition = h.answered_on.is_not(None) | (h.status != HandoffStatus.WITHDRAWN)
    else:
        start = h.sent_on if leg is DelayLeg.SENT_TO_FIRST_CONTACT else h.answered_on
        end = h.first_contact_on
        condition = h.status.in_(ACCEPTED) & h.answered_on.is_not(None)
    return select(
        literal(LEGS.index(leg)).label("leg"),
        h.person,
        h.structure,
        h.qpv,
        h.quarter,
        days_between(start, end).label("days"),
        days_between(start, literal(today, Date)).label("elapsed"),
    ).where(condition)


def leg_items(scope: Scope, today: date) -> CTE:
    """The measured items of every leg (``leg``: its position in ``LEGS``), in one CTE."""
    sent = _handoffs_sent(scope)
    handoff_legs = [leg for leg in LEGS if leg is not DelayLeg.REGISTRATION_TO_DECISION]
    return union_all(
        _registration_items(scope, today),
        *(_handoff_items(sent, leg, today) for leg in handoff_legs),
    ).cte("items")


def band_code(
    days: ColumnElement[Any], elapsed: ColumnElement[Any], target: int, contract: int
) -> ColumnElement[int]:
    """The band of each item, as its position in ``DelayBand``."""
    return case(
        (days <= target, 0),
        (days <= contract, 1),
        (days.is_not(None), 2),
        (elapsed > contract, 3),
        else_=4,
    )


def delays_query(
    scope: Scope, *, today: date, target: int, contract: int
) -> Select[int, int, int, float | None, int]:
    """(leg, group key, band code, days, items): every leg's items counted by group, band and
    days taken (None: not reached), in one statement.

    The counts by band add up the rows of a group; its median is that of the days of its
    reached rows (``tables.histogram_median``): whole days, so a group has a few hundred rows
    at most, and no item is sorted. The people's cohorts are joined once for every leg.
    """
    items = leg_items(scope, today)
    i = items.c
    band = band_code(i.days, i.elapsed, target, contract)
    cohorts = beneficiary_cohorts.c
    by_cohort = (
        select(
            i.leg, (Breakdown.COHORT * GROUP_BASE + cohorts.cohort_id).label("grp"), band, i.days
        )
        .select_from(items)
        .join(beneficiary_cohorts, cohorts.beneficiary_id == i.person)
    )
    grouped = union_all(
        select(i.leg, literal(0).label("grp"), band.label("band"), i.days.label("days")),
        select(i.leg, Breakdown.STRUCTURE * GROUP_BASE + i.structure, band, i.days),
        select(i.leg, Breakdown.QPV * GROUP_BASE + func.coalesce(i.qpv, 0), band, i.days),
        select(i.leg, Breakdown.QUARTER * GROUP_BASE + i.quarter, band, i.days),
        by_cohort,
    ).subquery()
    g = grouped.c
    return select(g.leg, g.grp, g.band, g.days, func.count()).group_by(g.leg, g.grp, g.band, g.days)
