"""Linked tables published together: no hidden value can be worked out from everything
published at once (property-based, exact linear algebra over the underlying counts).

The family is the dashboard's hand-offs: counts by (sender, receiver, state, quarter, decline
reason) - the atoms - published as four tables: sender × receiver, receiver × state,
quarter × state, and reason × declined. The adversary knows every published value of the four
tables, and that a published zero means every atom under it is zero; a hidden value is
derivable exactly when its sum of atoms is a linear combination of what the adversary knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.disclosure import ProtectedTable
from app.domain.disclosure_links import Link, protect_linked

K = 11
counts = st.one_of(st.just(0), st.just(0), st.integers(1, K - 1), st.integers(K, 60))

Atom = tuple[int, int, int, int, int]  # sender, receiver, state, quarter, reason
DECLINED = 0  # the state whose hand-offs have a reason


@st.composite
def families(draw: st.DrawFn) -> dict[Atom, int]:
    senders, receivers = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    states, quarters, reasons = draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2
    atoms: dict[Atom, int] = {}
    for s, r, state, q in product(range(senders), range(receivers), range(states), range(quarters)):
        for reason in range(reasons if state == DECLINED else 1):
            atoms[(s, r, state, q, reason)] = draw(counts)
    return atoms


def _shape(atoms: dict[Atom, int]) -> tuple[int, ...]:
    return tuple(max(a[i] for a in atoms) + 1 for i in range(5))


def _tables(atoms: dict[Atom, int]) -> tuple[list[list[list[int]]], list[Link], list[Callable]]:
    """The four tables, their links, and for each table a function giving the atoms of a
    position of its extended table."""
    n_s, n_r, n_st, n_q, n_reason = _shape(atoms)

    def table(rows: int, cols: int, key: Callable[[Atom], tuple[int, int] | None]):
        cells = [[0] * cols for _ in range(rows)]
        for atom, value in atoms.items():
            found = key(atom)
            if found is not None:
                cells[found[0]][found[1]] += value

        def members(position: tuple[int, int]) -> set[Atom]:
            i, j = position
            return {
                atom
                for atom in atoms
                if (found := key(atom)) is not None
                and (i == rows or found[0] == i)
                and (j == cols or found[1] == j)
            }

        return cells, members

    matrix, m_atoms = table(n_s, n_r, lambda a: (a[0], a[1]))
    by_receiver, r_atoms = table(n_r, n_st, lambda a: (a[1], a[2]))
    by_quarter, q_atoms = table(n_q, n_st, lambda a: (a[3], a[2]))
    reasons, d_atoms = table(n_reason, 1, lambda a: (a[4], 0) if a[2] == DECLINED else None)
    links = [Link((0, (n_s, j)), (1, (j, n_st))) for j in range(n_r + 1)]
    links += [Link((1, (n_r, j)), (2, (n_q, j))) for j in range(n_st + 1)]
    links += [Link((3, (n_reason, j)), (1, (n_r, DECLINED))) for j in (0, 1)]
    return [matrix, by_receiver, by_quarter, reasons], links, [m_atoms, r_atoms, q_atoms, d_atoms]


def _values(result: ProtectedTable) -> dict[tuple[int, int], int | None]:
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


class RowSpace:
    """Vectors over the atoms, reduced as they are added (exact, with fractions)."""

    def __init__(self) -> None:
        self.rows: dict[Atom, dict[Atom, Fraction]] = {}  # pivot -> row, pivot coefficient 1

    def reduce(self, vector: dict[Atom, Fraction]) -> dict[Atom, Fraction]:
        vector = {a: v for a, v in vector.items() if v}
        changed = True
        while changed:
            changed = False
            for pivot in sorted(vector):
                if pivot in self.rows and vector.get(pivot):
                    factor = vector[pivot]
                    for a, v in self.rows[pivot].items():
                        vector[a] = vector.get(a, Fraction(0)) - factor * v
                        if not vector[a]:
                            del vector[a]
                    changed = True
                    break
        return vector

    def add(self, vector: dict[Atom, Fraction]) -> None:
        rest = self.reduce(vector)
        if not rest:
            return
        pivot = min(rest)
        scale = rest[pivot]
        row = {a: v / scale for a, v in rest.items()}
        for other in self.rows.values():
            if other.get(pivot):
                factor = other[pivot]
                for a, v in row.items():
                    other[a] = other.get(a, Fraction(0)) - factor * v
                    if not other[a]:
                        del other[a]
        self.rows[pivot] = row

    def contains(self, vector: dict[Atom, Fraction]) -> bool:
        return not self.reduce(vector)


def assert_nothing_hidden_is_known(
    atoms: Mapping[Any, int],
    published: Sequence[dict[tuple[int, int], int | None]],
    members: Sequence[Callable[[tuple[int, int]], Any]],
) -> None:
    """Every value published, each a sum of atoms (``members``), with the zeros known atom by
    atom (nothing is negative): no hidden value other than a zero lies in their span."""
    known = RowSpace()
    for t, values in enumerate(published):
        for position, value in values.items():
            if value is None:
                continue
            under = members[t](position)
            known.add(dict.fromkeys(under, Fraction(1)))
            if value == 0:  # nothing is negative: every atom under a published zero is zero
                for atom in under:
                    known.add({atom: Fraction(1)})
    for t, values in enumerate(published):
        for position, value in values.items():
            under = members[t](position)
            # A hidden zero may be known to be zero (the atoms under it are zeros published
            # elsewhere): zeros are published anyway. No other hidden value is known.
            if value is None and sum(atoms[a] for a in under):
                assert not known.contains(dict.fromkeys(under, Fraction(1))), (t, position)


@given(families(), st.sampled_from([3, K]))
@settings(max_examples=250, deadline=None)
def test_nothing_hidden_can_be_worked_out_from_the_linked_tables(
    atoms: dict[Atom, int], k: int
) -> None:
    tables, links, members = _tables(atoms)
    published = [_values(r) for r in protect_linked(tables, links, k)]
    assert_nothing_hidden_is_known(atoms, published, members)


@given(families())
@settings(max_examples=150, deadline=None)
def test_linked_values_agree_and_small_ones_never_show(atoms: dict[Atom, int]) -> None:
    tables, links, _members = _tables(atoms)
    published = [_values(r) for r in protect_linked(tables, links, K)]
    for link in links:
        (ta, pa), (tb, pb) = link.first, link.second
        assert (published[ta][pa] is None) == (published[tb][pb] is None)
    for values in published:
        assert all(v is None or v == 0 or v >= K for v in values.values())


def test_a_hidden_receiver_total_is_hidden_in_both_tables() -> None:
    # Sender × receiver: receiver 1 gets 3 hand-offs (hidden); receiver × state publishes
    # its row total unless the link hides it there too.
    matrix = [[40, 3]]
    by_receiver = [[20, 20], [3, 0]]
    links = [Link((0, (1, j)), (1, (j, 2))) for j in range(3)]
    first, second = protect_linked([matrix, by_receiver], links, K)
    assert first.column_totals[1] is None
    assert second.row_totals[1] is None
    assert first.is_small(1, 1)
    assert second.is_small(1, 2)


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([Link((1, (0, 0)), (1, (0, 1)))], "whole total lines"),
        ([Link((0, (1, 1)), (1, (0, 2)))], "same number"),
        ([Link((0, (1, 0)), (0, (1, 0)))], "itself"),
        ([Link((0, (9, 0)), (1, (0, 2)))], "outside"),
    ],
)
def test_links_that_make_no_sense_are_refused(links: list[Link], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protect_linked([[[40, 3]], [[20, 20], [3, 0]]], links, K)
