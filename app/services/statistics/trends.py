"""The quarterly trends: people entering the network and reaching training and employment,
median delays, and how soon the hand-offs are answered, quarter by quarter.

The people counts are one protected table ("quarterly-trends": quarters × series). Medians
and the share answered within 10 days are shown only with at least k people or hand-offs
behind them. The hand-offs by how soon they were answered ("answers-by-quarter") are a table
of the exact view only: its columns split the hand-offs' states (only an answered hand-off
is answered in time), a relation with "handoffs-by-quarter" that the protection of linked
tables does not cover, so it is never published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.domain.periods import Quarter
from app.models import ReferenceItem
from app.services.statistics.funnel import EMPLOYMENT, ORIENTATION, TRAINING
from app.services.statistics.headings import Metric
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Sample,
    medians_by_group,
    protected_median,
    protected_table,
)
from app.services.statistics.trend_queries import (
    ANSWER_OF_CODE,
    MEDIAN_TO_ANSWER,
    MEDIAN_TO_EMPLOYMENT,
    MEDIAN_TO_TRAINING,
    SERIES_OF_CODE,
    AnswerTime,
    TrendSeries,
    answers_by_quarter_query,
    trend_medians_query,
    trend_people_query,
)

ANSWER_DAYS = 10  # "answered within 10 days": the hand-off's answer deadline


@dataclass(frozen=True)
class QuarterTrend:
    """The medians and the share of one quarter (``None``: none, or fewer than k behind)."""

    quarter: Quarter
    to_training: float | None
    to_employment: float | None
    to_answer: float | None
    answered_within: float | None  # of the hand-offs answered or past the deadline


@dataclass(frozen=True)
class Trends:
    people: CountTable  # quarters × TrendSeries
    quarters: list[QuarterTrend]
    answers: CountTable | None  # quarters × AnswerTime, exact view only (k = 1)


def trend_quarters(scope: Scope, found: Counts) -> tuple[Quarter, ...]:
    """The quarters of the period (and, should a count fall outside them, its own)."""
    extra = {q for q, _column in found if isinstance(q, Quarter)}
    return tuple(sorted({*scope.quarters(), *extra}))


def count_answers(session: Session, scope: Scope, now: datetime) -> Counts:
    """Raw counts of the hand-offs by (quarter of sending, ``AnswerTime``)."""
    counts: Counts = defaultdict(int)
    for key, code, count in session.execute(answers_by_quarter_query(scope, now, ANSWER_DAYS)):
        counts[(Quarter.from_key(key), ANSWER_OF_CODE[code])] += count
    return counts


DayCounts = Sequence[tuple[int, float, int]]  # (group, days, how many): trend_medians_query


def trend_day_counts(
    session: Session, scope: Scope, stages: Sequence[ReferenceItem]
) -> list[tuple[int, float, int]]:
    """The days of the trends' medians counted by group (``trend_medians_query``): the quarters'
    medians, and the stage medians of the whole period (``funnel.stage_medians``), come from
    them. None without the stages orientation, training and employment."""
    by_code = {stage.code: stage.id for stage in stages}
    if not {ORIENTATION, TRAINING, EMPLOYMENT} <= by_code.keys():
        return []
    query = trend_medians_query(scope, by_code[ORIENTATION], by_code[TRAINING], by_code[EMPLOYMENT])
    return [(int(group), float(days), int(n)) for group, days, n in session.execute(query)]


def quarterly_trends(
    session: Session,
    scope: Scope,
    stages: Sequence[ReferenceItem],
    answers: Counts,
    k: int,
    day_counts: DayCounts,
) -> Trends:
    """The trends of the period; ``answers`` are the raw counts of ``count_answers``,
    ``day_counts`` those of ``trend_day_counts``."""
    by_code = {stage.code: stage.id for stage in stages}
    people: Counts = defaultdict(int)
    medians: dict[int, Sample] = medians_by_group(day_counts)
    if {ORIENTATION, TRAINING, EMPLOYMENT} <= by_code.keys():
        query = trend_people_query(scope, by_code[TRAINING], by_code[EMPLOYMENT])
        for key, code, count in session.execute(query):
            people[(Quarter.from_key(key), SERIES_OF_CODE[code])] += count
    quarters = trend_quarters(scope, people)
    table = protected_table("quarterly-trends", quarters, tuple(TrendSeries), people, k)
    exact = None
    if k == 1:
        rows = trend_quarters(scope, answers)
        exact = protected_table("answers-by-quarter", rows, tuple(AnswerTime), answers, 1)
    return Trends(
        people=table,
        quarters=[_quarter(q, medians, answers, k) for q in quarters],
        answers=exact,
    )


def _quarter(
    quarter: Quarter, medians: Mapping[int, Sample], answers: Counts, k: int
) -> QuarterTrend:
    key = quarter.year * 10 + quarter.number

    def median(metric: Metric, base: int) -> float | None:
        return protected_median(metric, medians.get(base + key), k).days

    return QuarterTrend(
        quarter=quarter,
        to_training=median(Metric.TO_TRAINING, MEDIAN_TO_TRAINING),
        to_employment=median(Metric.TO_EMPLOYMENT, MEDIAN_TO_EMPLOYMENT),
        to_answer=median(Metric.TO_ANSWER, MEDIAN_TO_ANSWER),
        answered_within=_share_within(quarter, answers, k),
    )


def _share_within(quarter: Quarter, answers: Counts, k: int) -> float | None:
    """Answered within the deadline, of those answered or past it: shown only when at least
    k hand-offs are behind it."""
    within = answers.get((quarter, AnswerTime.WITHIN), 0)
    late = answers.get((quarter, AnswerTime.LATE), 0)
    behind = within + late + answers.get((quarter, AnswerTime.UNANSWERED), 0)
    if not behind or not statistic_is_safe(behind, k):
        return None
    return within / behind
