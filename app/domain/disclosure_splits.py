"""Small-count protection of a split of published counts: each partner pair's hand-offs of the
period (published in the hand-off matrix) split by quarter.

The pairs' totals are known (the matrix publishes them) and so, in the worst case, are the
quarters' totals; only the cells of the split can be hidden. Counts from 1 to k-1 are hidden,
then more cells until no hidden cell is determined by the known totals and the published
cells (the bridge test of ``app.domain.disclosure.determined``, with every total published).
Zeros are never hidden (a zero may be known from other tables, so it would hide nothing):
when a small count cannot be covered without hiding a zero, or the split has a single row
or column (its cells are its totals), nothing of the split is published (``None``).

``split_table`` chooses what may be split at all: only the pairs that the matrix publishes
(not zero), and only the quarters whose total the quarter table publishes, the rest of the
period in one column. See ``docs/statistics.md``, "The quarter-over-quarter change".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.domain.disclosure import DEFAULT_THRESHOLD, Position, determined

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)

REST = "rest"  # the column of the rest of the period


def protect_split(
    cells: Sequence[Sequence[int]], k: int = DEFAULT_THRESHOLD
) -> list[list[int | None]] | None:
    """The cells to publish (``None``: hidden), or None when nothing can be published."""
    if k < 1:
        raise ValueError("the threshold k must be at least 1")
    n_rows = len(cells)
    n_cols = len(cells[0]) if cells else 0
    if any(len(row) != n_cols for row in cells) or any(v < 0 for row in cells for v in row):
        raise ValueError("counts must form a rectangle of non-negative numbers")
    hidden = {(i, j) for i in range(n_rows) for j in range(n_cols) if 0 < cells[i][j] < k}
    if hidden and (n_rows < 2 or n_cols < 2):
        return None
    while True:
        exposed = determined(n_rows, n_cols, hidden)
        if not exposed:
            break
        target = min(exposed)
        choice = _cover(cells, hidden, target, n_rows, n_cols)
        if choice is None:
            return None
        hidden.add(choice)
    return [
        [None if (i, j) in hidden else cells[i][j] for j in range(n_cols)] for i in range(n_rows)
    ]


def _cover(
    cells: Sequence[Sequence[int]],
    hidden: set[Position],
    target: Position,
    n_rows: int,
    n_cols: int,
) -> Position | None:
    """The cell to hide next: the smallest non-zero published cell that closes a cycle with
    the target's hidden values, else the smallest of the target's row or column, else any."""
    piece = _component(hidden, target)
    published = [
        (cells[i][j], (i, j))
        for i in range(n_rows)
        for j in range(n_cols)
        if (i, j) not in hidden and cells[i][j] > 0
    ]
    closing = [p for p in published if ("r", p[1][0]) in piece and ("c", p[1][1]) in piece]
    near = [p for p in published if p[1][0] == target[0] or p[1][1] == target[1]]
    found = min(closing or near or published, default=None)
    return found[1] if found else None


def _component(hidden: set[Position], start: Position) -> set[tuple[str, int]]:
    """The rows and columns joined to ``start``'s by hidden cells."""
    found = {("r", start[0]), ("c", start[1])}
    grew = True
    while grew:
        grew = False
        for i, j in hidden:
            if (("r", i) in found) != (("c", j) in found):
                found |= {("r", i), ("c", j)}
                grew = True
    return found


@dataclass(frozen=True)
class Split(Generic[R, C]):
    """A split as published: rows (pairs), columns (quarters, then ``REST``), cells."""

    rows: tuple[R, ...]
    columns: tuple[C | str, ...]
    cells: tuple[tuple[int | None, ...], ...]

    def cell(self, row: R, column: C) -> int | None:
        if row not in self.rows or column not in self.columns:
            return None
        return self.cells[self.rows.index(row)][self.columns.index(column)]


def split_table(
    counts: Mapping[tuple[R, C], int],
    pair_totals: Mapping[R, int | None],
    quarter_totals: Mapping[C, int | None],
    focus: Sequence[C],
    k: int = DEFAULT_THRESHOLD,
) -> Split[R, C] | None:
    """The protected split of the published pairs over the ``focus`` quarters.

    ``pair_totals`` and ``quarter_totals`` are the published totals (``None``: hidden) of
    the pairs and of every quarter of the period; ``counts`` the raw counts by (pair,
    quarter). The focus quarters whose total is hidden are left out (a split of them could
    give their total away); the other quarters of the period make one more column.
    """
    rows = tuple(pair for pair, total in pair_totals.items() if total)
    columns = [q for q in focus if quarter_totals.get(q) is not None]
    if not rows or not columns:
        return None
    rests: dict[R, int] = {}
    shown = set(columns)
    for (pair, quarter), value in counts.items():
        if quarter not in shown:
            rests[pair] = rests.get(pair, 0) + value
    cells = [[*(counts.get((row, q), 0) for q in columns), rests.get(row, 0)] for row in rows]
    published = protect_split(cells, k)
    if published is None:
        return None
    return Split(
        rows=rows,
        columns=(*columns, REST),
        cells=tuple(tuple(line) for line in published),
    )
