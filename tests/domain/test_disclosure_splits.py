"""The pairs' hand-offs split by quarter, published with the four linked hand-off tables:
nothing hidden can be worked out from all of them together (property-based, exact linear
algebra over the underlying counts, as in ``test_disclosure_linked``)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.disclosure_links import protect_linked
from app.domain.disclosure_splits import REST, protect_split, split_table
from tests.domain.test_disclosure_linked import (
    Atom,
    K,
    RowSpace,
    _shape,
    _tables,
    _values,
    families,
)


def _published_split(atoms: dict[Atom, int], k: int):
    tables, links, members = _tables(atoms)
    published = [_values(r) for r in protect_linked(tables, links, k)]
    n_s, n_r, n_st, n_q, _n_reason = _shape(atoms)
    matrix, by_quarter = published[0], published[2]
    pair_totals = {(s, r): matrix[(s, r)] for s in range(n_s) for r in range(n_r)}
    quarter_totals = {q: by_quarter[(q, n_st)] for q in range(n_q)}
    counts: dict[tuple[tuple[int, int], int], int] = {}
    for atom, value in atoms.items():
        key = ((atom[0], atom[1]), atom[3])
        counts[key] = counts.get(key, 0) + value
    focus = list(range(n_q))[-2:]
    split = split_table(counts, pair_totals, quarter_totals, focus, k)
    return published, members, split


@given(families(), st.sampled_from([3, K]))
@settings(max_examples=250, deadline=None)
def test_nothing_hidden_can_be_worked_out_from_the_tables_and_the_split(
    atoms: dict[Atom, int], k: int
) -> None:
    published, members, split = _published_split(atoms, k)
    known = RowSpace()

    def learn(under: set[Atom], value: int) -> None:
        known.add(dict.fromkeys(under, Fraction(1)))
        if value == 0:
            for atom in under:
                known.add({atom: Fraction(1)})

    for t, values in enumerate(published):
        for position, value in values.items():
            if value is not None:
                learn(members[t](position), value)
    split_members: dict[tuple[object, object], set[Atom]] = {}
    if split is not None:
        shown = [c for c in split.columns if c != REST]
        for i, pair in enumerate(split.rows):
            for j, column in enumerate(split.columns):
                under = {
                    a
                    for a in atoms
                    if (a[0], a[1]) == pair
                    and (a[3] == column if column != REST else a[3] not in shown)
                }
                split_members[(pair, column)] = under
                value = split.cells[i][j]
                if value is not None:
                    learn(under, value)
    for t, values in enumerate(published):
        for position, value in values.items():
            under = members[t](position)
            if value is None and sum(atoms[a] for a in under):
                assert not known.contains(dict.fromkeys(under, Fraction(1))), (t, position)
    if split is not None:
        for (pair, column), under in split_members.items():
            value = split.cell(pair, column)  # type: ignore[arg-type]
            if value is None and sum(atoms[a] for a in under):
                assert not known.contains(dict.fromkeys(under, Fraction(1))), (pair, column)


@given(families())
@settings(max_examples=100, deadline=None)
def test_the_split_shows_no_small_count(atoms: dict[Atom, int]) -> None:
    _published, _members, split = _published_split(atoms, K)
    if split is not None:
        assert all(v is None or v == 0 or v >= K for row in split.cells for v in row)


def test_a_small_count_is_covered_by_another_cell_of_its_row_and_column() -> None:
    assert protect_split([[3, 20], [15, 15]], K) == [[None, None], [None, None]]
    assert protect_split([[3, 20, 12], [15, 15, 30], [40, 40, 40]], K) == [
        [None, 20, None],
        [None, 15, None],
        [40, 40, 40],
    ]
    assert protect_split([[12, 20], [15, 15]], K) == [[12, 20], [15, 15]]


def test_a_split_that_cannot_be_protected_is_not_published() -> None:
    assert protect_split([[3, 0], [0, 15]], K) is None  # only zeros could cover the 3
    assert protect_split([[3, 20]], K) is None  # one row: its cells are the known totals
    assert protect_split([[3, 20]], 1) == [[3, 20]]


@pytest.mark.parametrize("cells", [[[1, 2], [3]], [[-1, 2]]])
def test_a_split_must_be_a_rectangle_of_counts(cells: list[list[int]]) -> None:
    with pytest.raises(ValueError, match="rectangle"):
        protect_split(cells, K)
