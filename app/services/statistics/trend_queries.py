"""The grouped queries of the quarterly trends: groups by quarter, never people.

- ``trend_people_query``: people entering the network (their first step), reaching training
  and reaching employment, by quarter;
- ``answers_by_quarter_query``: hand-offs sent each quarter by how soon they were answered;
- ``trend_medians_query``: the stage medians and the median time to answer, by quarter.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    SQLColumnExpression,
    Subquery,
    case,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from app.domain.deadlines import deadline_cutoff
from app.models import Handoff, PathwayStep
from app.services.statistics.queries import day_counts
from app.services.statistics.scope import Scope, handoffs_in, population, steps_in
from app.services.statistics.sql import days_between, utc_date, year_quarter


class TrendSeries(StrEnum):
    """The people counted each quarter (columns of the "quarterly-trends" table)."""

    ENTRIES = "entries"  # first step of their pathway, any stage
    TRAINING = "reached_training"  # started a training step
    EMPLOYMENT = "reached_employment"  # started an employment step


class AnswerTime(StrEnum):
    """How soon the hand-offs sent in a quarter were answered ("answers-by-quarter")."""

    WITHIN = "within"  # answered within the deadline (10 days)
    LATE = "late"  # answered after it
    UNANSWERED = "unanswered"  # no answer, sent more than 10 days ago
    WAITING = "waiting"  # no answer yet, sent less than 10 days ago


# Series codes of ``trend_people_query``.
ENTRIES, TRAINING, EMPLOYMENT = 0, 1, 2
SERIES_OF_CODE = {
    ENTRIES: TrendSeries.ENTRIES,
    TRAINING: TrendSeries.TRAINING,
    EMPLOYMENT: TrendSeries.EMPLOYMENT,
}
# Groups of ``answers_by_quarter_query``.
WITHIN, LATE, UNANSWERED, WAITING = 0, 1, 2, 3
ANSWER_OF_CODE = {
    WITHIN: AnswerTime.WITHIN,
    LATE: AnswerTime.LATE,
    UNANSWERED: AnswerTime.UNANSWERED,
    WAITING: AnswerTime.WAITING,
}
# Metric bases of ``trend_medians_query`` (group key: base + year * 10 + quarter).
MEDIAN_GROUP_BASE = 1_000_000
MEDIAN_TO_TRAINING, MEDIAN_TO_EMPLOYMENT, MEDIAN_TO_ANSWER = (
    MEDIAN_GROUP_BASE,
    2 * MEDIAN_GROUP_BASE,
    3 * MEDIAN_GROUP_BASE,
)


class date_quarter(FunctionElement[int]):  # noqa: N801 - used like an SQL function
    """The calendar quarter of a date as ``year * 10 + quarter`` (a date has no time zone)."""

    type = Integer()
    inherit_cache = True
    name = "date_quarter"

    def __init__(self, day: SQLColumnExpression[Any]) -> None:
        super().__init__(day)


@compiles(date_quarter, "sqlite")
def _date_quarter_sqlite(element: date_quarter, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"(CAST(strftime('%Y', {day}) AS INTEGER) * 10"
        f" + (CAST(strftime('%m', {day}) AS INTEGER) + 2) / 3)"
    )


@compiles(date_quarter, "postgresql")
def _date_quarter_postgresql(element: date_quarter, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(next(iter(element.clauses)), **kw)
    return f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) * 10 + CAST(EXTRACT(QUARTER FROM {day}) AS INTEGER))"


def trend_people_query(scope: Scope, training: int, employment: int) -> Select[int, int, int]:
    """(quarter, series, people): people whose first step of any stage started in the quarter
    (``ENTRIES``), and people who started a training (employment) step in the quarter."""
    firsts = (
        select(func.min(PathwayStep.started_on).label("first"))
        .where(*population(scope, PathwayStep.beneficiary_id))
        .group_by(PathwayStep.beneficiary_id)
        .subquery()
    )
    entered = date_quarter(firsts.c.first)
    entries = (
        select(entered.label("quarter"), literal(ENTRIES).label("series"), func.count())
        .where(firsts.c.first >= scope.start, firsts.c.first <= scope.end)
        .group_by(entered)
    )
    started = date_quarter(PathwayStep.started_on)
    series = case((PathwayStep.stage_id == training, TRAINING), else_=EMPLOYMENT)
    reached = (
        select(started, series, func.count(distinct(PathwayStep.beneficiary_id)))
        .where(*steps_in(scope), PathwayStep.stage_id.in_([training, employment]))
        .group_by(started, series)
    )
    found = union_all(entries, reached).subquery()
    return select(found.c.quarter, found.c.series, found.c[2])


def answers_by_quarter_query(scope: Scope, now: datetime, days: int) -> Select[int, int, int]:
    """(quarter, group, hand-offs): the hand-offs sent each quarter, answered within ``days``
    whole days of their (UTC) day of sending (``WITHIN``), answered later (``LATE``), not
    answered and sent more than ``days`` days before ``now`` (``UNANSWERED``), or not answered
    yet and sent less than ``days`` days ago (``WAITING``)."""
    quarter = year_quarter(Handoff.sent_at)
    waited = days_between(utc_date(Handoff.sent_at), Handoff.answered_on)
    group = case(
        (Handoff.answered_on.is_not(None) & (waited <= days), WITHIN),
        (Handoff.answered_on.is_not(None), LATE),
        (Handoff.sent_at < deadline_cutoff(now, days), UNANSWERED),
        else_=WAITING,
    )
    return select(quarter, group, func.count()).where(*handoffs_in(scope)).group_by(quarter, group)


def trend_medians_query(
    scope: Scope, orientation: int, training: int, employment: int
) -> Select[int, float, int]:
    """(group, days, n): the durations of ``trend_durations`` counted by group and days, for
    their medians (``tables.medians_by_group``)."""
    durations = trend_durations(scope, orientation, training, employment)
    return day_counts(durations.c.grp, durations.c.days)


def trend_durations(scope: Scope, orientation: int, training: int, employment: int) -> Subquery:
    """(group, days): days from a person's first orientation to their first training
    (employment) step, by the quarter of that first step; and days to answer a hand-off, by
    the quarter of its sending (the definitions of the dashboard's medians)."""
    firsts = (
        select(
            func.min(case((PathwayStep.stage_id == orientation, PathwayStep.started_on))).label(
                "oriented"
            ),
            func.min(case((PathwayStep.stage_id == training, PathwayStep.started_on))).label(
                "trained"
            ),
            func.min(case((PathwayStep.stage_id == employment, PathwayStep.started_on))).label(
                "employed"
            ),
        )
        .where(
            PathwayStep.stage_id.in_([orientation, training, employment]),
            *population(scope, PathwayStep.beneficiary_id),
        )
        .group_by(PathwayStep.beneficiary_id)
        .cte("trend_firsts")
    )
    return union_all(
        select(
            (literal(MEDIAN_TO_TRAINING) + date_quarter(firsts.c.trained)).label("grp"),
            days_between(firsts.c.oriented, firsts.c.trained).label("days"),
        ).where(
            firsts.c.trained >= scope.start,
            firsts.c.trained <= scope.end,
            firsts.c.oriented <= firsts.c.trained,
        ),
        select(
            literal(MEDIAN_TO_EMPLOYMENT) + date_quarter(firsts.c.employed),
            days_between(firsts.c.oriented, firsts.c.employed),
        ).where(
            firsts.c.employed >= scope.start,
            firsts.c.employed <= scope.end,
            firsts.c.oriented <= firsts.c.employed,
        ),
        select(
            literal(MEDIAN_TO_ANSWER) + year_quarter(Handoff.sent_at),
            days_between(utc_date(Handoff.sent_at), Handoff.answered_on),
        ).where(Handoff.answered_on.is_not(None), *handoffs_in(scope)),
    ).subquery()
