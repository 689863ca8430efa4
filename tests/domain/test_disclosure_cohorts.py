"""The cohort outcomes' linked tables: entrants by quarter × training band and by quarter ×
employment band share their row totals (the entrants of each quarter, and of all). Nothing
hidden can be worked out from both together (Hypothesis, exact linear algebra over the
underlying counts, as in ``test_disclosure_linked``)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.disclosure_links import Link, protect_linked
from tests.domain.test_disclosure_linked import _values, assert_nothing_hidden_is_known

K = 11
BANDS = 4  # within 3 months, 3 to 6, 6 to 12, not reached
counts = st.one_of(st.just(0), st.just(0), st.integers(1, K - 1), st.integers(K, 40))

Atom = tuple[int, int, int]  # quarter, training band, employment band


@st.composite
def families(draw: st.DrawFn) -> dict[Atom, int]:
    quarters = draw(st.integers(1, 4))
    return {atom: draw(counts) for atom in product(range(quarters), range(BANDS), range(BANDS))}


def _tables(atoms: dict[Atom, int]) -> tuple[list[list[list[int]]], list[Link], list[Callable]]:
    quarters = max(a[0] for a in atoms) + 1

    def table(column: int) -> tuple[list[list[int]], Callable]:
        cells = [[0] * BANDS for _ in range(quarters)]
        for atom, value in atoms.items():
            cells[atom[0]][atom[column]] += value

        def members(position: tuple[int, int]) -> set[Atom]:
            i, j = position
            return {
                a for a in atoms if (i == quarters or a[0] == i) and (j == BANDS or a[column] == j)
            }

        return cells, members

    training, t_atoms = table(1)
    employment, e_atoms = table(2)
    # As ``Shared(0, "rows", 1, "rows")`` links them: every row total, and the grand total.
    links = [Link((0, (i, BANDS)), (1, (i, BANDS))) for i in range(quarters + 1)]
    return [training, employment], links, [t_atoms, e_atoms]


@given(families(), st.sampled_from([3, K]))
@settings(max_examples=200, deadline=None)
def test_nothing_hidden_can_be_worked_out_from_the_two_outcome_tables(
    atoms: dict[Atom, int], k: int
) -> None:
    tables, links, members = _tables(atoms)
    published = [_values(r) for r in protect_linked(tables, links, k)]
    assert_nothing_hidden_is_known(atoms, published, members)
    for link in links:
        (ta, pa), (tb, pb) = link.first, link.second
        assert (published[ta][pa] is None) == (published[tb][pb] is None)
