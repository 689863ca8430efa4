"""Small-count protection: property-based tests of the suppression rule (no app, no database)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.disclosure import ProtectedTable, _equations, determined, protect

K = 11
counts = st.one_of(st.just(0), st.integers(1, K - 1), st.integers(K, 200))


@st.composite
def tables(draw: st.DrawFn, max_side: int = 5) -> list[list[int]]:
    n_rows = draw(st.integers(1, max_side))
    n_cols = draw(st.integers(1, max_side))
    return [[draw(counts) for _ in range(n_cols)] for _ in range(n_rows)]


def _published_positions(result: ProtectedTable) -> dict[tuple[int, int], int | None]:
    n_rows, n_cols = len(result.cells), len(result.cells[0])
    values: dict[tuple[int, int], int | None] = {}
    for i, row in enumerate(result.cells):
        for j, value in enumerate(row):
            values[(i, j)] = value
        values[(i, n_cols)] = result.row_totals[i]
    for j, value in enumerate(result.column_totals):
        values[(n_rows, j)] = value
    values[(n_rows, n_cols)] = result.total
    return values


@given(tables())
@settings(max_examples=300, deadline=None)
def test_no_small_count_is_published(cells: list[list[int]]) -> None:
    published = _published_positions(protect(cells, K))
    assert all(v is None or v == 0 or v >= K for v in published.values())


@given(tables())
@settings(max_examples=300, deadline=None)
def test_published_values_are_the_true_ones(cells: list[list[int]]) -> None:
    result = protect(cells, K)
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            assert result.cells[i][j] in (None, value)
        assert result.row_totals[i] in (None, sum(row))
    for j in range(len(cells[0])):
        assert result.column_totals[j] in (None, sum(row[j] for row in cells))
    assert result.total in (None, sum(map(sum, cells)))


@given(tables())
@settings(max_examples=300, deadline=None)
def test_no_hidden_value_can_be_derived(cells: list[list[int]]) -> None:
    """Independent check: solve for each hidden value from everything published."""
    result = protect(cells, K)
    published = _published_positions(result)
    hidden = {p for p, v in published.items() if v is None}
    equations = _equations(len(cells), len(cells[0]))
    # Not the module's own method (row space): here, the null space of the equations over the
    # hidden values; a value is derivable when every solution leaves it unchanged.
    for position in hidden:
        assert not _isolated(equations, hidden, position), position


def _isolated(
    equations: list[list[tuple[int, int]]], hidden: set[tuple[int, int]], target: tuple[int, int]
) -> bool:
    """Whether ``target`` is fixed by the equations once published values are known.

    ``target`` is fixed iff the homogeneous system (differences between two tables with the
    same published values) forces its difference to 0, i.e. every solution has it at 0.
    """
    order = sorted(hidden)
    col = {p: n for n, p in enumerate(order)}
    rows = []
    for eq in equations:
        r = [Fraction(0)] * len(order)
        for p in eq[:-1]:
            if p in col:
                r[col[p]] += 1
        if eq[-1] in col:
            r[col[eq[-1]]] -= 1
        rows.append(r)
    # Null space basis by elimination; target fixed iff every basis vector has 0 at target.
    width = len(order)
    pivots: list[int] = []
    m = [r[:] for r in rows]
    rank = 0
    for c in range(width):
        pivot = next((r for r in range(rank, len(m)) if m[r][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        m[rank] = [v / m[rank][c] for v in m[rank]]
        for r in range(len(m)):
            if r != rank and m[r][c] != 0:
                f = m[r][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[rank], strict=True)]
        pivots.append(c)
        rank += 1
    free = [c for c in range(width) if c not in pivots]
    t = col[target]
    for f in free:
        vector = [Fraction(0)] * width
        vector[f] = Fraction(1)
        for r, c in enumerate(pivots):
            vector[c] = -m[r][f]
        if vector[t] != 0:
            return False
    return True


@given(tables())
@settings(max_examples=100, deadline=None)
def test_module_check_agrees_with_the_independent_one(cells: list[list[int]]) -> None:
    published = _published_positions(protect(cells, 3))
    hidden = {p for p, v in published.items() if v is None}
    n_rows, n_cols = len(cells), len(cells[0])
    equations = _equations(n_rows, n_cols)
    assert determined(n_rows, n_cols, hidden) == {
        p for p in hidden if _isolated(equations, hidden, p)
    }


@st.composite
def hidden_sets(draw: st.DrawFn) -> tuple[int, int, set[tuple[int, int]]]:
    """Any set of hidden positions of a table with its totals, not only the rule's own."""
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    positions = [(i, j) for i in range(n_rows + 1) for j in range(n_cols + 1)]
    return n_rows, n_cols, set(draw(st.lists(st.sampled_from(positions), unique=True)))


@given(hidden_sets())
@settings(max_examples=300, deadline=None)
def test_the_graph_check_is_exact_for_any_hidden_set(
    drawn: tuple[int, int, set[tuple[int, int]]],
) -> None:
    """A value is determined exactly when its edge is a bridge: checked against elimination."""
    n_rows, n_cols, hidden = drawn
    equations = _equations(n_rows, n_cols)
    assert determined(n_rows, n_cols, hidden) == {
        p for p in hidden if _isolated(equations, hidden, p)
    }


def test_a_large_matrix_is_protected_quickly() -> None:
    """A hundred partners with many small counts: the rule ends (no time asserted here)."""
    cells = [[(i * 7 + j * 3) % 14 for j in range(100)] for i in range(100)]
    result = protect(cells, K)
    assert all(v is None or v == 0 or v >= K for row in result.cells for v in row)


@given(
    st.lists(
        st.lists(st.one_of(st.just(0), st.integers(K, 500)), min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    )
)
def test_nothing_is_hidden_when_every_count_is_large_or_zero(cells: list[list[int]]) -> None:
    # Sums of zeros and counts of at least K are zero or at least K too: nothing to hide.
    assert protect(cells, K).hidden_count == 0


def test_a_lone_small_cell_takes_a_second_one_with_it() -> None:
    result = protect([[3, 40, 50], [20, 30, 60]], K)
    assert result.cells[0][0] is None
    hidden_in_row = sum(v is None for v in result.cells[0])
    assert hidden_in_row >= 2
    assert result.row_totals == (93, 110)


def test_a_one_dimensional_list_hides_two_values() -> None:
    result = protect([[25], [4], [30]], K)
    assert result.cells[1] == (None,)
    assert sum(row[0] is None for row in result.cells) >= 2
    assert result.total == 59


@pytest.mark.parametrize("bad", [[], [[]], [[1, 2], [3]], [[-1]]])
def test_bad_input_is_refused(bad: list[list[int]]) -> None:
    with pytest.raises(ValueError, match="count|rectangle"):
        protect(bad, K)
