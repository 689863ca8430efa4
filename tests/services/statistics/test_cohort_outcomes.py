"""Outcomes at 3, 6 and 12 months by entry quarter: exact counts equal a direct count of the
records, "not yet" before a horizon has elapsed, shares only over k entrants, filters, and the
two tables protected together."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.periods import Quarter
from app.models import Beneficiary
from app.services.statistics.cohorts import BANDS, NOT_REACHED, OutcomeBand
from app.services.statistics.dashboard import Dashboard, View, dashboard
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.tables import CountTable
from tests import factories
from tests.services.statistics.flow_reference import (
    add_step,
    expected_cohorts,
    random_world,
    records,
)
from tests.world import END, START, World

TODAY = factories.TODAY  # 2026-11-25
Q1, Q2, Q3, Q4 = (Quarter(2026, n) for n in (1, 2, 3, 4))
_recorded = iter(range(1, 10_000))


def board(world: World, k: int = 1, today: date = TODAY, **filters: object) -> Dashboard:
    world.session.flush()
    scope = resolve_scope(
        world.session,
        DashboardFilters(start=START, end=END, **filters),  # type: ignore[arg-type]
        today=today,
    )
    view = View.EXACT if k == 1 else View.PUBLICATION
    return dashboard(world.session, scope, k=k, view=view, today=today)


def step(world: World, person: Beneficiary, stage: str, day: date) -> None:
    add_step(world, person.id, stage, day, next(_recorded))


def cells(table: CountTable, stage: str) -> dict[tuple[Quarter, str, int], int]:
    return {
        (row, stage, j): value  # type: ignore[misc]
        for i, row in enumerate(table.rows)
        for j, value in enumerate(table.published.cells[i])
        if value
    }


def everything(result: Dashboard) -> dict[tuple[Quarter, str, int], int]:
    outcomes = result.cohort_outcomes
    return {**cells(outcomes.training, "training"), **cells(outcomes.employment, "employment")}


def test_a_known_cohort(world: World) -> None:
    a, b, c, d = (world.person() for _ in range(4))
    step(world, a, "orientation", date(2026, 1, 10))  # Q1
    step(world, a, "training", date(2026, 3, 1))  # 50 days: within 3 months
    step(world, a, "employment", date(2026, 9, 1))  # 234 days: 6 to 12 months
    step(world, b, "orientation", date(2026, 2, 1))  # Q1
    step(world, b, "training", date(2026, 6, 1))  # 120 days: 3 to 6 months
    step(world, c, "orientation", date(2025, 12, 1))  # entered before the period: no cohort
    step(world, c, "training", date(2026, 1, 5))
    step(world, d, "orientation", date(2026, 5, 2))  # Q2
    step(world, d, "employment", date(2026, 7, 1))  # 60 days: within 3 months

    result = board(world)
    outcomes = result.cohort_outcomes
    # On 25 November 2026: Q1's 3 and 6 months have elapsed (31 March + 182 days), not its
    # 12; Q2's 3 months only; Q3 and Q4 none.
    assert outcomes.elapsed == {Q1: 2, Q2: 1, Q3: 0, Q4: 0}
    assert everything(result) == {
        (Q1, "training", 0): 1,
        (Q1, "training", 1): 1,
        (Q1, "employment", NOT_REACHED): 2,  # a's 6 to 12 months: not yet elapsed
        (Q2, "training", NOT_REACHED): 1,
        (Q2, "employment", 0): 1,
    }
    assert outcomes.not_yet(Q1, OutcomeBand.WITHIN_12)
    assert not outcomes.not_yet(Q1, OutcomeBand.WITHIN_6)
    assert not outcomes.not_yet(Q4, OutcomeBand.NOT_REACHED)
    first, second, third, fourth = outcomes.rows
    assert first.entrants == 2
    assert second.entrants == 1
    assert third.entrants == 0
    assert [r.count for r in first.training] == [1, 2, None]
    assert [r.share for r in first.training] == [0.5, 1.0, None]
    assert [r.elapsed for r in first.training] == [True, True, False]
    assert [r.count for r in second.employment] == [1, None, None]
    assert not any(r.elapsed for r in fourth.training)

    later = board(world, today=date(2028, 1, 1)).cohort_outcomes  # every horizon elapsed
    assert later.employment.cell(Q1, OutcomeBand.WITHIN_12) == 1
    assert [r.count for r in later.rows[0].employment] == [0, 0, 1]


@pytest.mark.parametrize(("seed", "today"), [(1, TODAY), (2, TODAY), (3, date(2028, 3, 1))])
def test_exact_outcomes_equal_a_direct_count_of_the_records(
    world: World, seed: int, today: date
) -> None:
    people = random_world(world, seed)
    found = records(world, set(people))
    result = everything(board(world, today=today))
    assert result == expected_cohorts(found, START, END, today)
    assert result


def test_population_filters_keep_their_people(world: World) -> None:
    people = random_world(world, 11, people=45)
    singles = {p for i, p in enumerate(people) if i % 3 == 0}
    through_c = {p for i, p in enumerate(people) if i % 3 == 1}
    for filters, kept in (
        ({"cohort": "single_parent"}, singles),
        ({"structure": "IND-C"}, through_c),
    ):
        result = everything(board(world, **filters))
        assert result == expected_cohorts(records(world, kept), START, END, TODAY), filters
        assert result != everything(board(world))


def test_publication_view_protects_both_tables_together_and_hides_small_shares(
    world: World,
) -> None:
    for n in range(14):  # fourteen entrants in Q1, three of them trained within 3 months
        person = world.person()
        step(world, person, "orientation", date(2026, 2, 1))
        if n < 3:
            step(world, person, "training", date(2026, 3, 1))
    for _ in range(4):  # four entrants in Q2
        step(world, world.person(), "orientation", date(2026, 5, 1))

    outcomes = board(world, k=11).cohort_outcomes
    training, employment = outcomes.training, outcomes.employment
    for table in (training, employment):
        values = [v for row in table.published.cells for v in row]
        assert all(v is None or v == 0 or v >= 11 for v in values)
    # Q2's 4 entrants are hidden in both tables, so the grand total cannot give them away.
    assert training.row_total(Q2) is None
    assert employment.row_total(Q2) is None
    assert training.published.total == employment.published.total
    assert training.cell(Q1, OutcomeBand.WITHIN_3) is None  # 3
    first, second = outcomes.rows[0], outcomes.rows[1]
    assert first.training[0].count is None
    assert first.training[0].share is None
    assert second.entrants is None
    assert second.small
    assert second.employment[0].share is None
    exact = board(world).cohort_outcomes
    assert exact.rows[1].employment[0].share == 0.0  # exact view: 0 of 4
    assert exact.rows[0].training[0].share == pytest.approx(3 / 14)
    assert BANDS[NOT_REACHED] is OutcomeBand.NOT_REACHED
