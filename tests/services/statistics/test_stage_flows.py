"""The flow of stage transitions (the Sankey's table): exact counts equal a direct count of
the records, repeats merge, ends read on the end of the period, filters and protection."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.disclosure import protect
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import Beneficiary, ReferenceItem
from app.services.statistics.dashboard import Dashboard, View, dashboard
from app.services.statistics.flows import FlowEnd
from app.services.statistics.scope import DashboardFilters, resolve_scope
from tests import factories
from tests.services.statistics.flow_reference import (
    add_step,
    expected_flows,
    random_world,
    records,
)
from tests.world import END, START, World, at

TODAY = factories.TODAY  # 2026-11-25: the ends are read on it (the period ends later)


def board(world: World, k: int = 1, **filters: object) -> Dashboard:
    world.session.flush()
    scope = resolve_scope(
        world.session,
        DashboardFilters(start=START, end=END, **filters),  # type: ignore[arg-type]
        today=TODAY,
    )
    view = View.EXACT if k == 1 else View.PUBLICATION
    return dashboard(world.session, scope, k=k, view=view, today=TODAY)


_recorded = iter(range(1, 10_000))


def step(world: World, person: Beneficiary, stage: str, day: date, n: int | None = None) -> None:
    """A step recorded at a known moment ``n`` (steps of one day are ordered by it)."""
    add_step(world, person.id, stage, day, n if n is not None else next(_recorded))


def cells(result: Dashboard) -> dict[tuple[str, str], int | None]:
    table = result.stage_flows
    found: dict[tuple[str, str], int | None] = {}
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            value = table.published.cells[i][j]
            if value != 0:
                code = column.code if isinstance(column, ReferenceItem) else str(column)
                found[(row.code, code)] = value  # type: ignore[union-attr]
    return found


def test_transitions_and_ends_of_a_known_world(world: World) -> None:
    p1, p2, p3, p4, p5, p6, p7 = (world.person() for _ in range(7))
    # p1: orientation twice (one stage), then training, then employment: ends in work.
    step(world, p1, "orientation", date(2026, 2, 1))
    step(world, p1, "orientation", date(2026, 2, 10))
    step(world, p1, "training", date(2026, 3, 1))
    step(world, p1, "employment", date(2026, 6, 1))
    # p2: oriented before the period, barriers, back to orientation, then nothing: lost.
    step(world, p2, "orientation", date(2025, 11, 1))
    step(world, p2, "barriers", date(2026, 1, 15))
    step(world, p2, "orientation", date(2026, 4, 1))
    # p3: one recent orientation: still there.
    step(world, p3, "orientation", date(2026, 10, 1))
    # p4: orientation then training the same day (in the order recorded); a recent barrier.
    step(world, p4, "training", date(2026, 3, 1), n=20_001)
    step(world, p4, "orientation", date(2026, 3, 1), n=20_000)
    world.barrier(p4, "mobility", BarrierStatus.IDENTIFIED, date(2026, 10, 10), None)
    # p5: one old orientation, but a recent hand-off: still there.
    step(world, p5, "orientation", date(2026, 1, 5))
    world.handoff(p5, world.a, world.b, HandoffStatus.SENT, at(date(2026, 9, 1)))
    # p6: everything before the period: neither a transition nor an end.
    step(world, p6, "orientation", date(2025, 5, 1))
    step(world, p6, "training", date(2025, 6, 1))
    # p7: oriented in May; training after the period does not count: lost on the period's end.
    step(world, p7, "orientation", date(2026, 5, 1))
    step(world, p7, "training", date(2027, 1, 10))

    assert cells(board(world)) == {
        ("orientation", "training"): 2,  # p1, p4
        ("training", "employment"): 1,  # p1
        ("orientation", "barriers"): 1,  # p2
        ("barriers", "orientation"): 1,  # p2
        ("employment", "stayed"): 1,  # p1: a final stage
        ("orientation", "lost"): 2,  # p2, p7
        ("orientation", "stayed"): 2,  # p3, p5
        ("training", "stayed"): 1,  # p4 (the barrier)
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_flows_equal_a_direct_count_of_the_records(world: World, seed: int) -> None:
    people = random_world(world, seed)
    result = cells(board(world))
    assert result == expected_flows(records(world, set(people)), START, END, TODAY)
    assert result  # the world has flows


def test_population_filters_keep_their_people(world: World) -> None:
    people = random_world(world, 7, people=45)
    singles = {p for i, p in enumerate(people) if i % 3 == 0}
    through_c = {p for i, p in enumerate(people) if i % 3 == 1}
    for filters, kept in (
        ({"cohort": "single_parent"}, singles),
        ({"structure": "IND-C"}, through_c),
    ):
        result = cells(board(world, **filters))
        assert result == expected_flows(records(world, kept), START, END, TODAY), filters
        assert result != cells(board(world))


def test_publication_view_hides_small_flows(world: World) -> None:
    for _ in range(12):  # twelve people oriented then trained, one then employed
        person = world.person()
        step(world, person, "orientation", date(2026, 2, 1))
        step(world, person, "training", date(2026, 3, 1))
    step(world, person, "employment", date(2026, 11, 1))
    exact, published = cells(board(world)), cells(board(world, k=11))
    assert exact == {
        ("orientation", "training"): 12,
        ("training", "employment"): 1,
        ("training", "lost"): 11,
        ("employment", "stayed"): 1,
    }
    assert published[("training", "employment")] is None  # 1: "< 11"
    assert published[("employment", "stayed")] is None
    table = board(world, k=11).stage_flows
    raw = board(world).stage_flows.published.cells
    assert table.published == protect([[v or 0 for v in row] for row in raw], 11)
    values = [v for row in table.published.cells for v in row]
    assert all(v is None or v == 0 or v >= 11 for v in values)
    assert table.column_total(FlowEnd.STAYED) is None


@pytest.mark.parametrize(
    ("days", "ends"),
    [
        (90, {("orientation", "lost"): 1, ("orientation", "stayed"): 1}),
        (30, {("orientation", "lost"): 2}),  # 55 days without news is lost after 30
        (400, {("orientation", "stayed"): 2}),
    ],
)
def test_the_ends_follow_the_lost_from_view_setting(
    world: World, days: int, ends: dict[tuple[str, str], int]
) -> None:
    """``RELAIS_LOST_FROM_VIEW_DAYS`` reaches the flows through ``dashboard()``."""
    old, recent = world.person(), world.person()
    step(world, old, "orientation", date(2026, 4, 1))  # 238 days before TODAY
    step(world, recent, "orientation", date(2026, 10, 1))  # 55 days before TODAY
    world.session.flush()
    scope = resolve_scope(world.session, DashboardFilters(start=START, end=END), today=TODAY)
    result = dashboard(
        world.session, scope, k=1, view=View.EXACT, today=TODAY, lost_after_days=days
    )
    assert cells(result) == ends
