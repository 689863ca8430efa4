"""The funnel section: people entering each stage, and the median time to training and to work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.domain.disclosure import protect_value
from app.models import ReferenceItem
from app.services.statistics.headings import Metric
from app.services.statistics.queries import funnel_query, stage_medians_query
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    CountList,
    Median,
    Sample,
    medians_by_group,
    protected_median,
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


def stage_medians(
    session: Session, scope: Scope, stages: Sequence[ReferenceItem], k: int
) -> list[Median]:
    """Median days from the first orientation to the first training and first employment."""
    by_code = {stage.code: stage.id for stage in stages}
    found: dict[str, Sample] = {}
    if {ORIENTATION, TRAINING, EMPLOYMENT} <= by_code.keys():
        query = stage_medians_query(
            scope, by_code[ORIENTATION], by_code[TRAINING], by_code[EMPLOYMENT]
        )
        found = medians_by_group(session.execute(query))
    return [
        protected_median(metric, found.get(metric.value), k)
        for metric in (Metric.TO_TRAINING, Metric.TO_EMPLOYMENT)
    ]
