"""National tables gathered from territories' protected tables: nothing hidden can be worked
out from the national tables and every territory's publication together (Hypothesis, exact
linear algebra over the underlying counts of two territories, as in
``test_disclosure_linked``).

Each territory counts its hand-offs by (sender, receiver, state, quarter, decline reason) and
publishes the dashboard's four linked tables (sender × receiver, receiver × state, quarter ×
state, reason × declined), protected together. Its national file holds the two tables that
do not name its structures (quarter × state and the decline reasons); the national instance
adds them up (``merge_tables``). The adversary knows every published value of both
territories' four tables and of the two national tables, and every zero atom by atom.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.disclosure import determined
from app.domain.disclosure_links import Link, protect_linked
from app.domain.disclosure_merge import MergeError, check_published, merge_list, merge_tables
from tests.domain.test_disclosure_linked import _tables as territory_tables
from tests.domain.test_disclosure_linked import _values, assert_nothing_hidden_is_known

K = 11
DECLINED = 0
counts = st.one_of(st.just(0), st.just(0), st.integers(1, K - 1), st.integers(K, 60))


@st.composite
def two_territories(draw: st.DrawFn) -> list[dict[tuple[int, ...], int]]:
    """The atoms of two territories with the same states, quarters and reasons (the national
    headings) and structures of their own."""
    states, quarters, reasons = draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2
    found = []
    for _territory in range(2):
        senders, receivers = draw(st.integers(1, 2)), draw(st.integers(1, 3))
        atoms: dict[tuple[int, ...], int] = {}
        for s, r, state, q in product(
            range(senders), range(receivers), range(states), range(quarters)
        ):
            for reason in range(reasons if state == DECLINED else 1):
                atoms[(s, r, state, q, reason)] = draw(counts)
        found.append(atoms)
    return found


def _rows(values: dict[tuple[int, int], int | None]) -> list[list[int | None]]:
    n_rows = max(i for i, _j in values)
    n_cols = max(j for _i, j in values)
    return [[values[(i, j)] for j in range(n_cols + 1)] for i in range(n_rows + 1)]


def _gather(
    territories: list[dict[tuple[int, ...], int]], k: int
) -> tuple[dict[Any, int], list[dict[tuple[int, int], int | None]], list[Callable]]:
    """Every atom (tagged with its territory), every table published (the territories' four
    each, then the two national ones) and the atoms under each position."""
    atoms: dict[Any, int] = {}
    published: list[dict[tuple[int, int], int | None]] = []
    members: list[Callable] = []
    files = []
    for t, own in enumerate(territories):
        atoms.update({(t, *atom): value for atom, value in own.items()})
        tables, links, own_members = territory_tables(own)  # type: ignore[arg-type]
        values = [_values(r) for r in protect_linked(tables, links, k)]
        published += values
        members += [_tagged(t, m) for m in own_members]
        files.append([_rows(values[2]), _rows(values[3])])  # quarter × state, reasons
    n_quarters, n_states = len(files[0][0]) - 1, len(files[0][0][0]) - 1
    n_reasons = len(files[0][1]) - 1
    links = [Link((1, (n_reasons, j)), (0, (n_quarters, DECLINED))) for j in (0, 1)]
    national = merge_tables(files, links, k)
    published += [_values(r) for r in national]
    members += [_national(territories, 2), _national(territories, 3)]
    assert n_states == len(national[0].column_totals)
    return atoms, published, members


def _tagged(t: int, members: Callable) -> Callable:
    return lambda position: {(t, *atom) for atom in members(position)}


def _national(territories: list[dict[tuple[int, ...], int]], table: int) -> Callable:
    own = [territory_tables(atoms)[2][table] for atoms in territories]  # type: ignore[arg-type]
    return lambda position: {(t, *a) for t, m in enumerate(own) for a in m(position)}


@given(two_territories(), st.sampled_from([3, K]))
@settings(max_examples=200, deadline=None)
def test_nothing_hidden_can_be_worked_out_from_the_national_and_territory_tables(
    territories: list[dict[tuple[int, ...], int]], k: int
) -> None:
    atoms, published, members = _gather(territories, k)
    assert_nothing_hidden_is_known(atoms, published, members)


@given(two_territories())
@settings(max_examples=150, deadline=None)
def test_a_national_value_is_hidden_where_a_territory_hid_it_and_never_small(
    territories: list[dict[tuple[int, ...], int]],
) -> None:
    _atoms, published, _members = _gather(territories, K)
    national = published[-2:]
    for t in range(2):
        for own, merged in zip(published[4 * t + 2 : 4 * t + 4], national, strict=True):
            for position, value in own.items():
                if value is None:
                    assert merged[position] is None
    for values in national:
        assert all(v is None or v == 0 or v >= K for v in values.values())


def test_published_values_add_up_and_a_hidden_one_stays_hidden() -> None:
    # Two rows × two columns in two territories: the first hid its four cells, the second
    # published everything.
    first = [[None, None, 30], [None, None, 20], [25, 25, 50]]
    second = [[11, 0, 11], [12, 13, 25], [23, 13, 36]]
    (merged,) = merge_tables([[first], [second]], [], K)
    assert merged.cells == ((None, None), (None, None))
    assert merged.row_totals == (41, 45)
    assert merged.column_totals == (48, 38)
    assert merged.total == 86
    assert not merged.small


def test_the_national_table_hides_more_when_a_territory_protected_less() -> None:
    # A territory whose file hides one cell of a row with its total published (its own
    # protection was weaker than the rule): the national table, checked as any published
    # table, hides more, until no hidden value is determined by what it publishes.
    first = [[None, 20, 40], [15, 15, 30], [35, 35, 70]]
    second = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    (merged,) = merge_tables([[first], [second]], [], K)
    hidden = {
        (i, j)
        for i, row in enumerate(_rows(_values(merged)))
        for j, value in enumerate(row)
        if value is None
    }
    assert (0, 0) in hidden
    assert len(hidden) >= 4
    assert not determined(2, 2, hidden)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[3, 20, 23], [3, 20, 23]], "below the threshold"),
        ([[11, 20, 31], [11, 20, 30]], "do not add up"),
        ([[11, 20], [11, 20, 31]], "rectangle"),
        ([[11], [11]], "rectangle"),
        ([[11, -1, 10], [11, -1, 10]], "not a count"),
        ([[11, "x", 11], [11, 0, 11]], "not a count"),
    ],
)
def test_tables_that_cannot_be_added_up_are_refused(table: Any, message: str) -> None:
    with pytest.raises(MergeError, match=message):
        check_published(table, K)
    with pytest.raises(MergeError, match=message):
        merge_tables([[table], [[[0, 0, 0], [0, 0, 0]]]], [], K)


def test_tables_without_rows_add_up() -> None:
    # A table with no row (no decline reason used) is its total row alone.
    (merged,) = merge_tables([[[[0, 0]]], [[[0, 0]]]], [], K)
    assert merged.cells == ()
    assert merged.column_totals == (0,)
    assert merged.total == 0


def test_tables_of_different_shapes_are_refused() -> None:
    with pytest.raises(MergeError, match="same headings"):
        merge_tables([[[[11, 11], [11, 11]]], [[[0, 0, 0], [0, 0, 0]]]], [], K)


def test_a_list_is_published_where_every_territory_published_it() -> None:
    assert merge_list([[12, None, 0, 0], [30, 40, 0, 11]], K) == [42, None, 0, 11]
    with pytest.raises(MergeError, match="below the threshold"):
        merge_list([[3], [30]], K)
    with pytest.raises(MergeError, match="same headings"):
        merge_list([[12], [30, 0]], K)
