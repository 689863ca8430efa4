"""The flow of stage transitions (the dashboard's Sankey): where people go after each stage,
and where they stop.

Each person's steps, ordered by the day they started, then the moment they were recorded
(then their id), are read as a sequence of stages; consecutive steps of the same stage are
one (orientation, orientation, training is one transition, orientation → training). Counted:

- a **transition** from stage A to stage B when the step of B (the first step after A that
  is not of A) started in the period: one person per transition, however often they made it;
- an **end** for every person with a step in the period, in the row of their last stage (the
  last step started by the end of the period): *still there* when they had an event (a step
  started, a barrier identified, a hand-off sent) in the ``lost_after_days`` days (the setting
  ``RELAIS_LOST_FROM_VIEW_DAYS``, by default ``LOST_AFTER_DAYS``) up to the
  end of the period (or today when it ends later), or when that stage is where pathways end
  (employment, exit); *lost from view* otherwise.

Everything is one grouped query (``stage_flows_query``: one pass of the window functions
``lag`` and ``lead`` over the steps of the people with a step in the period); the table it
fills is protected as any other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, case, distinct, exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.models import Barrier, Handoff, PathwayStep, ReferenceItem
from app.services.statistics.scope import Scope, population
from app.services.statistics.tables import Counts, CountTable, protected_table

# No event for this many days before the end of the period: lost from view (the default of
# the setting ``LOST_FROM_VIEW_DAYS``, which the dashboard passes).
LOST_AFTER_DAYS = 90
# The stages where a pathway ends: a person whose last step is one of them is not lost.
FINAL_STAGES = ("employment", "exit_other")

TRANSITION, END = 0, 1  # the two kinds of groups of ``stage_flows_query``
STAYED_CODE, LOST_CODE = 0, 1


class FlowEnd(StrEnum):
    """Where a person's pathway stands after their last stage (the end columns)."""

    STAYED = "stayed"  # no further step, but followed recently (or a final stage)
    LOST = "lost"  # no further step and no event for ``lost_after_days`` days


def as_of(scope: Scope, today: date) -> date:
    """The day the ends are read on: the end of the period, or today when it ends later."""
    return min(scope.end, today)


def stage_flows_query(
    scope: Scope,
    today: date,
    final_stages: Sequence[int],
    lost_after_days: int = LOST_AFTER_DAYS,
) -> Select[int, int | None, int, int]:
    """(kind, from stage, to stage or end code, people): the transitions whose second step
    started in the period (``from`` None: no stage before, not published), and the ends of
    the people with a step in the period (``from``: their last stage; ``to``: ``STAYED_CODE``
    or ``LOST_CODE``)."""
    day = as_of(scope, today)
    cutoff = day - timedelta(days=lost_after_days)
    person = PathwayStep.beneficiary_id
    in_order = (PathwayStep.started_on, PathwayStep.created_at, PathwayStep.id)
    # Only the people with a step in the period have a transition or an end in it.
    active = select(PathwayStep.beneficiary_id).where(
        PathwayStep.started_on >= scope.start, PathwayStep.started_on <= scope.end
    )
    # One pass of window functions over each person's steps, in order: the stage of the step
    # before (a change of stage is a transition from it: the steps between were of that
    # stage) and whether a step follows (none: the last step, whose day is the last).
    steps = (
        select(
            person.label("person"),
            PathwayStep.stage_id.label("stage"),
            PathwayStep.started_on.label("started_on"),
            func.lag(PathwayStep.stage_id)
            .over(partition_by=person, order_by=in_order)
            .label("before"),
            func.lead(PathwayStep.stage_id)
            .over(partition_by=person, order_by=in_order)
            .label("after"),
        )
        .where(
            PathwayStep.started_on <= scope.end,
            person.in_(active),
            *population(scope, person),
        )
        .cte("steps")  # read twice below: computed once
    )
    s = steps.c
    transitions = (
        select(
            literal(TRANSITION).label("kind"),
            s.before.label("origin"),
            s.stage.label("target"),
            func.count(distinct(s.person)).label("people"),
        )
        .where(
            s.before.is_not(None),
            s.before != s.stage,
            s.started_on >= scope.start,
            s.started_on <= scope.end,
        )
        .group_by(s.before, s.stage)
    )
    # NOT EXISTS, looked up by person on their index, and not NOT IN (subquery): PostgreSQL
    # can hash a NOT IN list only while it fits in work_mem; past that (about a million
    # people) it rescans the list for every row, and the query became quadratic.
    recent_barrier = exists().where(
        Barrier.beneficiary_id == s.person,
        Barrier.identified_on >= cutoff,
        Barrier.identified_on <= day,
    )
    recent_handoff = exists().where(
        Handoff.beneficiary_id == s.person,
        Handoff.sent_at >= _moment(cutoff),
        Handoff.sent_at < _moment(day + timedelta(days=1)),
    )
    lost = and_(
        s.stage.not_in(list(final_stages) or [-1]),
        s.started_on < cutoff,
        ~recent_barrier,
        ~recent_handoff,
    )
    end = case((lost, LOST_CODE), else_=STAYED_CODE)
    ends = (
        select(literal(END), s.stage, end, func.count())
        .where(s.after.is_(None), s.started_on >= scope.start)
        .group_by(s.stage, end)
    )
    combined = union_all(transitions, ends).subquery()
    return select(*combined.c)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def stage_flows(
    session: Session,
    scope: Scope,
    stages: Sequence[ReferenceItem],
    k: int,
    today: date,
    lost_after_days: int = LOST_AFTER_DAYS,
) -> CountTable:
    """The protected table of the flows: rows are the stages people left (or stopped at),
    columns the stages they went to, then the two ends."""
    final = [stage.id for stage in stages if stage.code in FINAL_STAGES]
    stage_of = {stage.id: stage for stage in stages}
    counts: Counts = defaultdict(int)
    query = stage_flows_query(scope, today, final, lost_after_days)
    for kind, origin, target, people in session.execute(query):
        row = stage_of.get(origin) if origin is not None else None
        if row is None:
            continue
        if kind == TRANSITION:
            column: ReferenceItem | FlowEnd | None = stage_of.get(target)
        else:
            column = FlowEnd.LOST if target == LOST_CODE else FlowEnd.STAYED
        if column is not None:
            counts[(row, column)] += people
    present = {label for pair in counts for label in pair}
    rows = tuple(stage for stage in stages if stage.active or stage in present)
    return protected_table("stage-flows", rows, (*rows, *FlowEnd), counts, k)
