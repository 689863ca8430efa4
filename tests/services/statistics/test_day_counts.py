"""The dashboard's medians from days counted by value (``queries.day_counts`` and
``tables.medians_by_group``) equal the medians computed in SQL as they were (window functions
on SQLite, ``percentile_cont`` on PostgreSQL: ``delay_reference._medians``), for each duration
the dashboard measures, on a random world."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Subquery

from app.models import ReferenceKind
from app.services.statistics.funnel import stage_medians
from app.services.statistics.queries import day_counts, handoff_durations
from app.services.statistics.scope import Scope
from app.services.statistics.sql import uses_percentile
from app.services.statistics.tables import histogram_median, medians_by_group
from app.services.statistics.trend_queries import trend_durations
from app.services.statistics.trends import trend_day_counts
from tests.services.statistics.delay_reference import _medians, random_delays_world
from tests.services.statistics.flow_reference import random_world
from tests.services.statistics.median_reference import stage_medians_query
from tests.world import World

SCOPE = Scope(start=date(2026, 1, 1), end=date(2026, 11, 30))


def durations(world: World) -> dict[str, Subquery]:
    stage = {
        code: world.ref(ReferenceKind.STAGE, code).id
        for code in ("orientation", "training", "employment")
    }
    ids = (stage["orientation"], stage["training"], stage["employment"])
    return {
        "hand-offs": handoff_durations(SCOPE),
        "trends": trend_durations(SCOPE, *ids),
    }


def rounded(found: dict[Any, tuple[Any, Any]]) -> dict[Any, tuple[float, int]]:
    return {group: (round(float(value), 6), int(n)) for group, (value, n) in found.items()}


@pytest.mark.parametrize("seed", [3, 2026])
def test_counted_days_give_the_sql_medians(world: World, seed: int) -> None:
    random_world(world, seed, people=80)
    random_delays_world(world, seed)
    percentile = uses_percentile(world.session)
    for name, found in durations(world).items():
        group, value = found.c[0], found.c[1]
        old = {
            g: (v, n)
            for g, v, n in world.session.execute(_medians(group, value, percentile=percentile))
        }
        new = medians_by_group(world.session.execute(day_counts(group, value)))
        assert len(old) >= 2, name  # groups with values
        assert rounded(new) == rounded(old), name


def test_a_median_of_counted_values() -> None:
    assert histogram_median([]) is None
    assert histogram_median([(4.0, 0)]) is None
    assert histogram_median([(7.0, 1)]) == (7.0, 1)
    assert histogram_median([(9.0, 1), (2.0, 1)]) == (5.5, 2)  # an even count: the mean
    assert histogram_median([(1.0, 3), (10.0, 1), (4.0, 2)]) == (2.5, 6)  # 1 1 1 4 4 10
    assert histogram_median([(1.0, 2), (10.0, 1), (4.0, 2)]) == (4.0, 5)  # 1 1 4 4 10


@pytest.mark.parametrize("seed", [3, 2026])
def test_the_stage_medians_are_the_trends_days_of_every_quarter(world: World, seed: int) -> None:
    random_world(world, seed, people=80)
    stages = [
        world.ref(ReferenceKind.STAGE, code) for code in ("orientation", "training", "employment")
    ]
    ids = [stage.id for stage in stages]
    percentile = uses_percentile(world.session)
    old = {
        metric: (round(float(value), 6), n)
        for metric, value, n in world.session.execute(
            stage_medians_query(SCOPE, *ids, percentile=percentile)
        )
    }
    found = stage_medians(trend_day_counts(world.session, SCOPE, stages), k=1)
    assert len(old) == 2
    assert {m.metric.value: round(m.days, 6) for m in found if m.days is not None} == {
        metric: value for metric, (value, _n) in old.items()
    }
