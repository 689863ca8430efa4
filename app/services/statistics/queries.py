"""The grouped queries of the statistics: each returns groups, never people.

No row of a person is ever loaded into Python, only counts and medians per group (a few
hundred numbers at most, whatever the number of people). The section builders read these
queries; the benchmark (``bench/dashboard.py``) runs the same queries to compare them
with hand-written SQL, and the erasure tests to check that erasing keeps the figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    case,
    distinct,
    exists,
    func,
    literal,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import aliased

from app.domain.handoffs import HandoffStatus
from app.models import Barrier, Handoff, PathwayStep
from app.services.statistics.headings import ChainEnd, Metric
from app.services.statistics.scope import Scope, barriers_in, handoffs_in, steps_in
from app.services.statistics.sql import days_between, utc_date, year_quarter


def people_query(scope: Scope) -> Select[int]:
    """People with at least one event (step, barrier, hand-off) in the period."""
    events = union(
        select(PathwayStep.beneficiary_id.label("person")).where(*steps_in(scope)),
        select(Barrier.beneficiary_id.label("person")).where(*barriers_in(scope)),
        select(Handoff.beneficiary_id.label("person")).where(*handoffs_in(scope)),
    ).subquery()
    return select(func.count()).select_from(events)


def funnel_query(scope: Scope) -> Select[int, int]:
    """People entering each stage in the period (a person counts once per stage)."""
    return (
        select(PathwayStep.stage_id, func.count(distinct(PathwayStep.beneficiary_id)))
        .where(*steps_in(scope))
        .group_by(PathwayStep.stage_id)
    )


def day_counts(group: ColumnElement[Any], value: ColumnElement[Any]) -> Select[Any, float, int]:
    """(group, value, how many): the values of each group counted by value, for their medians
    (``tables.medians_by_group``).

    The values are whole days (between two dates), so a group has a few hundred distinct ones
    whatever the number of people: grouping them is a hash aggregate, where a median in SQL
    sorts every value (window functions on SQLite, ``percentile_cont`` on PostgreSQL). The
    median of the counted values is the same (the middle value, or the mean of the two middle
    ones); measured in docs/performance.md, "Dashboards and figures at 100,000 people".
    """
    return select(group, value, func.count()).where(value.is_not(None)).group_by(group, value)


def barriers_query(scope: Scope) -> Select[int, int | None, str, int]:
    """Barriers identified in the period by category, acting structure and current status.

    The status comes back as its stored text (not converted to the enum row by row, which
    cost more than the rest of the dashboard's Python); the builder maps it once per code.
    """
    status = type_coerce(Barrier.status, String)
    return (
        select(Barrier.category_id, Barrier.acting_structure_id, status, func.count())
        .where(*barriers_in(scope))
        .group_by(Barrier.category_id, Barrier.acting_structure_id, status)
    )


def handoffs_query(scope: Scope) -> Select[int, int, int, str, int | None, int]:
    """Hand-offs sent in the period by quarter, sender, receiver, state and decline reason."""
    quarter = year_quarter(Handoff.sent_at)
    status = type_coerce(Handoff.status, String)  # its stored text, as in barriers_query
    return (
        select(
            quarter,
            Handoff.from_structure_id,
            Handoff.to_structure_id,
            status,
            Handoff.decline_reason_id,
            func.count(),
        )
        .where(*handoffs_in(scope))
        .group_by(
            quarter,
            Handoff.from_structure_id,
            Handoff.to_structure_id,
            status,
            Handoff.decline_reason_id,
        )
    )


ALL_RECEIVERS = 0  # the group of every receiving structure in the delay medians
TO_ANSWER_GROUP = 1_000_000  # group keys: metric base + receiving structure id (or 0)
TO_CONTACT_GROUP = 2_000_000


def delay_group(metric: Metric, structure_id: int) -> int:
    """The key of a group of ``handoff_delays_query``."""
    base = TO_ANSWER_GROUP if metric is Metric.TO_ANSWER else TO_CONTACT_GROUP
    return base + structure_id


def handoff_delays_query(scope: Scope) -> Select[int, float, int]:
    """Days from sending to the answer and to the first contact, counted by (group, days):
    their medians per receiver and for all (``tables.medians_by_group``)."""
    durations = handoff_durations(scope)
    return day_counts(durations.c.grp, durations.c.answer)


def handoff_durations(scope: Scope) -> Subquery:
    """(group, days) from sending to the answer and to the first contact, per receiver and all.

    Whole days, from the (UTC) day of sending to the day the answer or the first contact
    happened (their effective dates, ``answered_on`` and ``first_contact_on``, not the day
    they were recorded). The answered hand-offs of the scope are read once (a CTE used four
    times, which both databases materialise); each is then counted in its receiver's group
    and in the group of all receivers (``delay_group``, integer keys: cheaper to sort than
    texts).
    """
    sent = utc_date(Handoff.sent_at)
    answered = (
        select(
            Handoff.to_structure_id.label("receiver"),
            days_between(sent, Handoff.answered_on).label("answer"),
            days_between(sent, Handoff.first_contact_on).label("contact"),
        )
        .where(Handoff.answered_on.is_not(None), *handoffs_in(scope))
        .cte("answered")
    )
    contacted = answered.c.contact.is_not(None)
    return union_all(
        select((answered.c.receiver + TO_ANSWER_GROUP).label("grp"), answered.c.answer),
        select(literal(TO_ANSWER_GROUP + ALL_RECEIVERS), answered.c.answer),
        select(answered.c.receiver + TO_CONTACT_GROUP, answered.c.contact).where(contacted),
        select(literal(TO_CONTACT_GROUP + ALL_RECEIVERS), answered.c.contact).where(contacted),
    ).subquery()


# How a chain ended, by the code of its last hand-off in ``chains_query`` (the highest code of
# the chain: 0 is ``redirected``, which is never the last).
CHAIN_END_OF_CODE = {3: ChainEnd.TAKEN_IN, 2: ChainEnd.PENDING, 1: ChainEnd.NOT_TAKEN_IN}


def chains_query(scope: Scope) -> Select[int, int, int]:
    """Chains of redirects started in the period: their length and how they ended.

    A chain starts with a hand-off that no redirect created; each redirect adds one. Only the
    last hand-off of a chain is not ``redirected``, so its state is the chain's end.

    Most chains are one hand-off: those (no redirect made from them, looked up on the index of
    ``parent_id``) are counted as they are, and only the chains with a redirect are walked
    (``WITH RECURSIVE``), from their first hand-off down the same index (the redirects only).
    Walking from every hand-off of the period, PostgreSQL estimated the walk at ten times the
    period and joined it by reading the whole table.
    """
    end_code = _chain_end_code(Handoff)
    child = aliased(Handoff)
    # "parent_id IS NOT NULL", implied by each join, lets PostgreSQL read the redirects alone
    # from ix_handoffs_parent_id (a tenth of the hand-offs) rather than the whole table.
    redirected = exists().where(child.parent_id.is_not(None), child.parent_id == Handoff.id)
    first = [Handoff.parent_id.is_(None), *handoffs_in(scope)]
    alone = (
        select(literal(1).label("length"), end_code.label("end_code"), func.count().label("n"))
        .where(*first, ~redirected)
        .group_by(end_code)
    )
    roots = (
        select(
            Handoff.id.label("root"),
            Handoff.id.label("id"),
            literal(1).label("depth"),
            end_code.label("end_code"),
        )
        .where(*first, redirected)
        .cte("chain", recursive=True)
    )
    chain = roots.union_all(
        select(roots.c.root, Handoff.id, roots.c.depth + 1, end_code).where(
            Handoff.parent_id.is_not(None), Handoff.parent_id == roots.c.id
        )
    )
    per_chain = (
        select(
            func.max(chain.c.depth).label("length"),
            func.max(chain.c.end_code).label("end_code"),
        )
        .group_by(chain.c.root)
        .subquery()
    )
    capped = case((per_chain.c.length >= 4, 4), else_=per_chain.c.length)
    longer = select(capped, per_chain.c.end_code, func.count()).group_by(
        capped, per_chain.c.end_code
    )
    found = union_all(alone, longer).subquery()
    return select(found.c.length, found.c.end_code, found.c.n)


def _chain_end_code(handoff: type[Handoff]) -> ColumnElement[int]:
    """The code of a hand-off's state in a chain (``CHAIN_END_OF_CODE``; 0: redirected)."""
    return case(
        (
            handoff.status.in_(
                [
                    HandoffStatus.ACCEPTED,
                    HandoffStatus.IN_PROGRESS,
                    HandoffStatus.COMPLETED,
                    HandoffStatus.NOT_COMPLETED,
                ]
            ),
            3,
        ),
        (handoff.status == HandoffStatus.SENT, 2),
        (handoff.status == HandoffStatus.REDIRECTED, 0),
        else_=1,
    )
