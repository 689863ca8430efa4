"""The funnel section: people entering each stage, and the median time to training and to work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from app.domain.disclosure import protect_value
from app.models import ReferenceItem
from app.services.statistics.headings import Metric
from app.services.statistics.queries import funnel_query
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    CountList,
    Median,
    medians_by_group,
    protected_median,
)
from app.services.statistics.trend_queries import (
    MEDIAN_GROUP_BASE,
    MEDIAN_TO_EMPLOYMENT,
    MEDIAN_TO_TRAINING,
)

# The stages the medians run between; without one of them there is no median to compute.
ORIENTATION, TRAINING, EMPLOYMENT = "orientation", "training", "employment"


def stage_funnel(
    session: Session, scope: Scope, stages: Sequence[ReferenceItem], k: int
) -> CountList:
    """People entering each stage in the period, in the order of the stages (a list: a person
    counts in every stage they entered, so no total sums it)."""
    counts: dict[int, int] = dict(session.execute(funnel_query(scope)).all())
    return CountList(
        name="funnel",
        rows=tuple(stages),
        values=tuple(protect_value(counts.get(stage.id, 0), k) for stage in stages),
    )


def stage_medians(day_counts: Iterable[tuple[int, float, int]], k: int) -> list[Median]:
    """Median days from the first orientation to the first training and first employment, of
    the people who reached them in the period: the days of the quarterly trends' medians
    (``trends.trend_day_counts``, by quarter) added up over the quarters - the same people,
    measured alike, so no statement of its own."""
    bases = {MEDIAN_TO_TRAINING: Metric.TO_TRAINING, MEDIAN_TO_EMPLOYMENT: Metric.TO_EMPLOYMENT}
    found = medians_by_group(
        (bases[base], days, n)
        for group, days, n in day_counts
        if (base := group - group % MEDIAN_GROUP_BASE) in bases
    )
    return [
        protected_median(metric, found.get(metric), k)
        for metric in (Metric.TO_TRAINING, Metric.TO_EMPLOYMENT)
    ]
