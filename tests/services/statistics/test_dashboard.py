"""The dashboard: exact counts and medians by SQL, filters, and protection of every figure.

The rows are written directly (no service in between) so that every date is under control.
With ``k=1`` nothing is hidden and the tests check the raw figures; with the default k they
check that each table is exactly the protected version of the raw one.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.disclosure import protect
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.periods import Quarter
from app.models import ReferenceItem, ReferenceKind
from app.services.statistics.dashboard import Dashboard, View, dashboard
from app.services.statistics.headings import ChainEnd, HandoffGroup, Heading, Metric
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.tables import CountTable
from app.services.structures import add_reference_item
from tests import factories
from tests.world import END, START, World, at


def board(world: World, k: int = 1, view: View = View.PUBLICATION, **filters: object) -> Dashboard:
    world.session.flush()
    scope = resolve_scope(
        world.session,
        DashboardFilters(start=START, end=END, **filters),  # type: ignore[arg-type]
        today=factories.TODAY,
    )
    return dashboard(world.session, scope, k=k, view=view)


def funnel(result: Dashboard) -> dict[str, int | None]:
    return {
        row.code: value
        for row, value in zip(result.funnel.rows, result.funnel.values, strict=True)
        if isinstance(row, ReferenceItem)
    }


def test_funnel_counts_each_person_once_per_stage_within_the_period(world: World) -> None:
    first, second, third = world.person(), world.person(), world.person()
    for person in (first, second, third):
        world.step(person, "orientation", date(2026, 2, 1), world.a)
    world.step(first, "orientation", date(2026, 5, 1), world.b)  # a second orientation
    world.step(first, "training", date(2026, 3, 1), world.b)
    world.step(second, "training", date(2025, 12, 31), world.b)  # before the period
    world.step(third, "employment", date(2027, 1, 1), world.c)  # after it

    result = board(world)

    assert funnel(result) == {
        "orientation": 3,
        "barriers": 0,
        "training": 1,
        "employment": 0,
        "exit_other": 0,
    }
    assert result.people == 3


def test_period_bounds_are_inclusive_on_both_days(world: World) -> None:
    person = world.person()
    world.step(person, "orientation", START, world.a)
    world.step(person, "training", END, world.a)
    world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(END, 23))

    result = board(world)

    assert funnel(result)["orientation"] == 1
    assert funnel(result)["training"] == 1
    assert result.quarters.published.total == 1


def test_stage_medians_for_odd_and_even_numbers_of_people(world: World) -> None:
    for days in (10, 30, 20):  # median 20
        person = world.person()
        world.step(person, "orientation", date(2026, 2, 1), world.a)
        world.step(person, "orientation", date(2026, 2, 20), world.a)  # not the first
        world.step(person, "training", date(2026, 2, 1) + timedelta(days=days), world.b)
    for days in (100, 60):  # median 80
        person = world.person()
        world.step(person, "orientation", date(2026, 1, 5), world.a)
        world.step(person, "employment", date(2026, 1, 5) + timedelta(days=days), world.c)
    late = world.person()  # employment before orientation: not a duration
    world.step(late, "employment", date(2026, 3, 1), world.c)
    world.step(late, "orientation", date(2026, 4, 1), world.a)

    medians = {m.metric: m.days for m in board(world).stage_medians}

    assert medians == {Metric.TO_TRAINING: 20.0, Metric.TO_EMPLOYMENT: 80.0}
    hidden = {m.metric: m.days for m in board(world, k=4).stage_medians}
    assert hidden == {Metric.TO_TRAINING: None, Metric.TO_EMPLOYMENT: None}
    assert {m.metric: m.days for m in board(world, k=3).stage_medians} == {
        Metric.TO_TRAINING: 20.0,
        Metric.TO_EMPLOYMENT: None,
    }


def test_barriers_by_category_and_acting_structure(world: World) -> None:
    person = world.person()
    world.barrier(person, "mobility", BarrierStatus.LIFTED, date(2026, 3, 1), world.b)
    world.barrier(person, "mobility", BarrierStatus.IN_PROGRESS, date(2026, 3, 2), world.b)
    world.barrier(person, "childcare", BarrierStatus.IDENTIFIED, date(2026, 3, 3), None)
    world.barrier(person, "housing", BarrierStatus.LIFTED, date(2025, 3, 3), world.c)  # before

    result = board(world)
    mobility = world.ref(ReferenceKind.BARRIER_CATEGORY, "mobility")
    childcare = world.ref(ReferenceKind.BARRIER_CATEGORY, "childcare")

    by_category = result.barriers_by_category
    assert by_category.cell(mobility, BarrierStatus.LIFTED) == 1
    assert by_category.cell(mobility, BarrierStatus.IN_PROGRESS) == 1
    assert by_category.row_total(mobility) == 2
    assert by_category.cell(childcare, BarrierStatus.IDENTIFIED) == 1
    assert by_category.published.total == 3
    by_structure = result.barriers_by_structure
    assert by_structure.rows == (world.b, Heading.NO_STRUCTURE)
    assert by_structure.row_total(world.b) == 2
    assert by_structure.cell(Heading.NO_STRUCTURE, BarrierStatus.IDENTIFIED) == 1


def test_handoff_tables_delays_and_loop_closure(world: World) -> None:
    day = at(date(2026, 4, 1))
    people = [world.person() for _ in range(6)]
    world.handoff(people[0], world.a, world.b, HandoffStatus.SENT, day)
    world.handoff(
        people[1], world.a, world.b, HandoffStatus.ACCEPTED, day, answered_after=2, contact_after=5
    )
    world.handoff(
        people[2],
        world.a,
        world.b,
        HandoffStatus.COMPLETED,
        day,
        answered_after=4,
        contact_after=9,
    )
    world.handoff(
        people[3],
        world.b,
        world.c,
        HandoffStatus.DECLINED,
        day,
        answered_after=1,
        reason="no_capacity",
    )
    world.handoff(
        people[4],
        world.c,
        world.a,
        HandoffStatus.DECLINED,
        day,
        answered_after=3,
        reason="no_capacity",
    )
    world.handoff(people[5], world.c, world.a, HandoffStatus.EXPIRED, day)

    result = board(world)

    matrix = result.handoff_matrix
    assert matrix.rows == (world.a, world.b, world.c)
    assert matrix.columns == (world.a, world.b, world.c)
    assert matrix.cell(world.a, world.b) == 3
    assert matrix.cell(world.c, world.a) == 2
    assert matrix.published.total == 6
    receivers = result.handoffs_by_receiver
    assert receivers.cell(world.b, HandoffGroup.PENDING) == 1
    assert receivers.cell(world.b, HandoffGroup.ACCEPTED) == 1
    assert receivers.cell(world.b, HandoffGroup.OUTCOME) == 1
    assert receivers.cell(world.a, HandoffGroup.DECLINED) == 1
    assert receivers.cell(world.a, HandoffGroup.EXPIRED) == 1
    no_capacity = world.ref(ReferenceKind.DECLINE_REASON, "no_capacity")
    assert result.decline_reasons.cell(no_capacity, HandoffGroup.DECLINED) == 2

    times = {t.structure: t for t in result.receiver_times}
    assert times[world.b].to_answer == pytest.approx(3.0)  # 2 and 4 days
    assert times[world.b].to_first_contact == pytest.approx(7.0)  # 5 and 9 days
    assert times[world.b].loop_closure == pytest.approx(0.5)
    everyone = times[Heading.ALL_STRUCTURES]
    assert everyone.to_answer == pytest.approx(2.5)  # 1, 2, 3, 4
    assert everyone.loop_closure == pytest.approx(0.5)
    assert times[world.c].loop_closure is None  # nothing accepted: no share


def test_redirect_chains_by_length_and_end(world: World) -> None:
    day = at(date(2026, 6, 1))
    person = world.person()
    first = world.handoff(person, world.a, world.b, HandoffStatus.REDIRECTED, day, answered_after=1)
    second = world.handoff(
        person, world.b, world.c, HandoffStatus.REDIRECTED, day, answered_after=2, parent=first
    )
    world.handoff(
        person,
        world.c,
        world.a,
        HandoffStatus.ACCEPTED,
        day + timedelta(days=3),
        answered_after=1,
        parent=second,
    )
    other = world.person()
    world.handoff(other, world.a, world.c, HandoffStatus.SENT, day)
    third = world.person()
    start = world.handoff(third, world.a, world.b, HandoffStatus.REDIRECTED, day, answered_after=1)
    world.handoff(third, world.b, world.c, HandoffStatus.WITHDRAWN, day, parent=start)

    chains = board(world).chains

    assert chains.cell(3, ChainEnd.TAKEN_IN) == 1
    assert chains.cell(1, ChainEnd.PENDING) == 1
    assert chains.cell(2, ChainEnd.NOT_TAKEN_IN) == 1
    assert chains.published.total == 3


def test_quarters_and_the_network_by_pair(world: World) -> None:
    person = world.person()
    world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(date(2026, 2, 1)))
    world.handoff(
        person,
        world.b,
        world.a,
        HandoffStatus.ACCEPTED,
        at(date(2026, 3, 31), 23),
        answered_after=1,
    )
    world.handoff(
        person,
        world.a,
        world.c,
        HandoffStatus.DECLINED,
        at(date(2026, 4, 1), 0),
        answered_after=1,
        reason="no_capacity",
    )
    world.handoff(
        person, world.a, world.c, HandoffStatus.ACCEPTED, at(date(2026, 11, 2)), answered_after=1
    )

    result = board(world, view=View.EXACT)

    q1, q2 = Quarter(2026, 1), Quarter(2026, 2)
    assert result.quarters.rows == (q1, q2, Quarter(2026, 3), Quarter(2026, 4))
    assert result.quarters.row_total(q1) == 2
    assert result.quarters.row_total(q2) == 1
    network = result.network
    assert network.senders == (world.a, world.b)  # A sent 3, B 1: the busiest first
    assert network.receivers == (world.c, world.a, world.b)  # C received 2, then by name
    to_c = network.cell(world.a, world.c)
    assert to_c is not None
    assert to_c.count == 2
    assert to_c.accepted_share == pytest.approx(0.5)  # one accepted, one declined
    assert to_c.change == 1  # Q4 (the last full quarter): 1, Q3: 0
    to_b = network.cell(world.a, world.b)
    assert to_b is not None
    assert to_b.accepted_share is None
    assert network.cell(world.b, world.c) is None  # no hand-off
    assert (network.previous, network.last) == (Quarter(2026, 3), Quarter(2026, 4))
    assert result.structures == [world.a, world.b, world.c]


def test_the_network_publishes_nothing_the_hand_off_matrix_hides(world: World) -> None:
    # A -> B: 12 hand-offs, B -> A: 3 (hidden in the matrix, and so in the network).
    for n in range(15):
        person = world.person()
        sender, receiver = (world.a, world.b) if n < 12 else (world.b, world.a)
        world.handoff(
            person, sender, receiver, HandoffStatus.ACCEPTED, at(date(2026, 2, 1)), answered_after=2
        )
    published = board(world, k=11)
    assert published.handoff_matrix.cell(world.b, world.a) is None
    hidden = published.network.cell(world.b, world.a)
    assert hidden is not None
    assert hidden.count is None
    assert hidden.small
    assert hidden.accepted_share is None  # no pair's share in the publication view
    assert published.network.receiver_shares[world.a.id] is None  # its 3 accepted are hidden
    assert published.network.senders[-1] == world.b  # a hidden total sorts last
    exact = board(world, k=11, view=View.EXACT)
    shown = exact.network.cell(world.b, world.a)
    assert shown is not None
    assert shown.count == 3
    assert shown.accepted_share == 1.0


def test_linked_tables_hide_a_shared_total_everywhere(world: World) -> None:
    # 12 hand-offs to B and 3 to C: C's total is hidden in the matrix (its column) and in
    # "by receiver" (its row) alike, and the declined total in "by receiver" and the reasons.
    for n in range(15):
        person = world.person()
        receiver = world.b if n < 12 else world.c
        world.handoff(person, world.a, receiver, HandoffStatus.SENT, at(date(2026, 2, 1)))
    result = board(world, k=11)
    assert result.handoff_matrix.column_total(world.c) is None
    assert result.handoffs_by_receiver.row_total(world.c) is None
    assert result.handoff_matrix.column_total(world.b) is None  # or C's = 15 - 12
    assert result.handoffs_by_receiver.published.total == 15


def test_population_filters(world: World) -> None:
    qpv = add_reference_item(
        world.session, None, ReferenceKind.QPV, "QN090TEST", "Quartier test", "Test area"
    )
    in_qpv = world.person(qpv=qpv, cohorts=("single_parent",))
    elsewhere = world.person()
    world.follow(in_qpv, world.c)
    for person in (in_qpv, elsewhere):
        world.step(person, "orientation", date(2026, 2, 1), world.a)
        world.barrier(person, "mobility", BarrierStatus.IDENTIFIED, date(2026, 2, 2), world.b)
        world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(date(2026, 2, 3)))

    for filters in ({"qpv": "QN090TEST"}, {"cohort": "single_parent"}, {"structure": "IND-C"}):
        result = board(world, **filters)
        assert result.people == 1, filters
        assert funnel(result)["orientation"] == 1
        assert result.barriers_by_category.published.total == 1
        assert result.handoff_matrix.published.total == 1
    assert board(world).people == 2


def test_every_table_is_the_protected_raw_table(world: World) -> None:
    day = at(date(2026, 5, 5))
    for n in range(14):
        person = world.person()
        world.step(person, "orientation", date(2026, 5, 1), world.a)
        receiver = world.b if n < 12 else world.c
        world.handoff(person, world.a, receiver, HandoffStatus.SENT, day)
        status = BarrierStatus.LIFTED if n % 2 else BarrierStatus.IDENTIFIED
        world.barrier(
            person, "mobility" if n < 13 else "digital", status, date(2026, 5, 2), world.b
        )

    raw, protected = board(world, k=1), board(world, k=11)

    for name, table in protected.tables().items():
        plain = raw.tables()[name]
        if isinstance(table, CountTable):
            assert isinstance(plain, CountTable)
            if table.rows:
                cells = [[v or 0 for v in row] for row in plain.published.cells]
                assert table.published == protect(cells, 11), name
        else:
            assert all(v is None or v == 0 or v >= 11 for v in table.values), name
    assert protected.handoff_matrix.cell(world.a, world.c) is None  # 2 hand-offs
    assert protected.handoff_matrix.cell(world.a, world.b) is None  # would give it away
    assert protected.people == 14
    hidden = protected.network.cell(world.a, world.c)
    assert hidden is not None
    assert hidden.count is None
