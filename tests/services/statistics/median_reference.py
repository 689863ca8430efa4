"""The stage medians as they were computed before they came from the quarterly trends' day
counts (``funnel.stage_medians``): their own statement over each person's first steps."""

from __future__ import annotations

from sqlalchemy import Select, case, func, literal, select, union_all

from app.models import PathwayStep
from app.services.statistics.headings import Metric
from app.services.statistics.scope import Scope, population
from app.services.statistics.sql import days_between
from tests.services.statistics.delay_reference import _medians


def stage_medians_query(
    scope: Scope, orientation: int, training: int, employment: int, *, percentile: bool = False
) -> Select[str, float, int]:
    """Median days from a person's first orientation to their first training / employment.

    Counted for the people whose first training (or employment) started in the period, after
    their first orientation.
    """
    firsts = (
        select(
            PathwayStep.beneficiary_id,
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
        .cte("firsts")  # read twice below: a CTE is computed once (a subquery would be twice)
    )
    durations = union_all(
        select(
            literal(Metric.TO_TRAINING.value).label("metric"),
            days_between(firsts.c.oriented, firsts.c.trained).label("days"),
        ).where(
            firsts.c.trained >= scope.start,
            firsts.c.trained <= scope.end,
            firsts.c.oriented <= firsts.c.trained,
        ),
        select(
            literal(Metric.TO_EMPLOYMENT.value).label("metric"),
            days_between(firsts.c.oriented, firsts.c.employed).label("days"),
        ).where(
            firsts.c.employed >= scope.start,
            firsts.c.employed <= scope.end,
            firsts.c.oriented <= firsts.c.employed,
        ),
    ).subquery()
    return _medians(durations.c.metric, durations.c.days, percentile=percentile)
