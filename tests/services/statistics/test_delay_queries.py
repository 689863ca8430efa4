"""The delays page's one statement (``delays_query``: every leg, counts and days by group)
gives the counts and medians of the eight statements it replaced (``delay_reference``), on a
random world: several structures, cohorts and QPVs, decisions before and after the first
follow-up, hand-offs answered, contacted, open, withdrawn."""

from __future__ import annotations

from collections import defaultdict

import pytest

from app.services.statistics.delay_queries import LEGS, delays_query
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.sql import uses_percentile
from app.services.statistics.tables import histogram_median
from tests import factories
from tests.services.statistics import delay_reference
from tests.services.statistics.delay_reference import random_delays_world
from tests.world import END, START, World

TODAY = factories.TODAY

Found = tuple[dict[tuple[int, int, int], int], dict[tuple[int, int], tuple[float, int]]]


def eight_statements(world: World, target: int, contract: int) -> Found:
    scope = resolve_scope(world.session, DashboardFilters(start=START, end=END), today=TODAY)
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    medians: dict[tuple[int, int], tuple[float, int]] = {}
    percentile = uses_percentile(world.session)
    for code, leg in enumerate(LEGS):
        query = delay_reference.counts_query(
            scope, leg, today=TODAY, target=target, contract=contract
        )
        for group, band, n in world.session.execute(query):
            counts[(code, int(group), int(band))] += n
        query = delay_reference.medians_query(scope, leg, today=TODAY, percentile=percentile)
        for group, value, n in world.session.execute(query):
            medians[(code, int(group))] = (round(float(value), 6), int(n))
    return dict(counts), medians


def one_statement(world: World, target: int, contract: int) -> Found:
    scope = resolve_scope(world.session, DashboardFilters(start=START, end=END), today=TODAY)
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    days: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    query = delays_query(scope, today=TODAY, target=target, contract=contract)
    for code, group, band, taken, n in world.session.execute(query):
        counts[(int(code), int(group), int(band))] += n
        if taken is not None:
            days[(int(code), int(group))].append((float(taken), n))
    medians = {}
    for key, found in days.items():
        sample = histogram_median(found)
        if sample is not None:
            medians[key] = (round(sample[0], 6), sample[1])
    return dict(counts), medians


@pytest.mark.parametrize("seed", [7, 2026])
def test_one_statement_gives_what_the_eight_gave(world: World, seed: int) -> None:
    random_delays_world(world, seed)
    for target, contract in ((15, 30), (3, 10)):
        old_counts, old_medians = eight_statements(world, target, contract)
        new_counts, new_medians = one_statement(world, target, contract)
        assert sum(old_counts.values()) > 200  # the world is not empty
        assert new_counts == old_counts
        assert new_medians == old_medians
