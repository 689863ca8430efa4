"""Small-count protection of the statistics shown or exported to coordinators.

A table of counts of people is published with its row totals, column totals and grand
total. Counts from 1 to k-1 are hidden (primary suppression: with fewer than k people, someone
could be singled out). Then more values are hidden (secondary suppression) until no hidden
value can be computed back from what is published: every line of the table - a row with its
total, a column with its total, the row totals with the grand total, the column totals with
the grand total - is an equation, and a hidden value is safe only if the published values do
not determine it.

The rule works in two passes:

1. each equation must hide none or at least two of its values: when exactly one is hidden,
   the smallest published value of that equation is hidden too (interior cells before totals);
2. that is not always enough across several equations, so an exact check follows (Gaussian
   elimination over the rationals): while some hidden value is determined by the published
   ones, one more value of an equation holding it is hidden, and the check runs again.

Zeros are published: an empty cell does not single anyone out. The tables of a dashboard are
small (tens of rows and columns), for which the exact check is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_THRESHOLD = 11

Position = tuple[int, int]  # (row, column) in the table extended with its totals


@dataclass(frozen=True)
class ProtectedTable:
    """Counts safe to publish; ``None`` marks a hidden value."""

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None

    @property
    def hidden_count(self) -> int:
        values = [v for row in self.cells for v in row]
        values += [*self.row_totals, *self.column_totals, self.total]
        return sum(1 for v in values if v is None)


def _extended(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The table with a total column on the right and a total row at the bottom."""
    rows = [[*row, sum(row)] for row in cells]
    columns = len(cells[0]) if cells else 0
    rows.append([sum(row[j] for row in rows) for j in range(columns + 1)])
    return rows


def _equations(n_rows: int, n_cols: int) -> list[list[Position]]:
    """Each equation lists its members first and its total last (sum(members) = total)."""
    equations = []
    for i in range(n_rows + 1):  # every row, the total row included
        equations.append([(i, j) for j in range(n_cols)] + [(i, n_cols)])
    for j in range(n_cols + 1):  # every column, the total column included
        equations.append([(i, j) for i in range(n_rows)] + [(n_rows, j)])
    return equations


def _is_total(position: Position, n_rows: int, n_cols: int) -> bool:
    return position[0] == n_rows or position[1] == n_cols


def _weight(value: int, position: Position, n_rows: int, n_cols: int) -> tuple[int, int, Position]:
    """Which value to hide first: interior cells before totals, then the smallest."""
    return (int(_is_total(position, n_rows, n_cols)), value, position)


def determined(equations: Sequence[Sequence[Position]], hidden: set[Position]) -> set[Position]:
    """The hidden positions whose value the published values determine.

    Each equation is ``sum(members) - total = 0``; published values are constants, so only the
    hidden variables matter. A hidden variable is determined exactly when its unit vector lies
    in the row space of the equations restricted to the hidden variables.
    """
    order = sorted(hidden)
    index = {p: n for n, p in enumerate(order)}
    matrix: list[list[Fraction]] = []
    for equation in equations:
        row = [Fraction(0)] * len(order)
        for position in equation[:-1]:
            if position in index:
                row[index[position]] += 1
        if equation[-1] in index:
            row[index[equation[-1]]] -= 1
        if any(row):
            matrix.append(row)
    reduced = _row_echelon(matrix)
    return {p for p in order if _in_row_space(reduced, index[p], len(order))}


def _row_echelon(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """Reduced row echelon form (every pivot 1, zeros above and below)."""
    rows = [row[:] for row in matrix]
    width = len(rows[0]) if rows else 0
    pivot_row = 0
    for column in range(width):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        pivot = rows[pivot_row][column]
        rows[pivot_row] = [value / pivot for value in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def _in_row_space(reduced: list[list[Fraction]], variable: int, width: int) -> bool:
    """Whether the unit vector of ``variable`` is a combination of the reduced rows."""
    # In reduced form, a combination equal to e_v must use the rows whose pivot columns are
    # non-zero in e_v: only the row pivoting on ``variable``, and it must be e_v itself.
    for row in reduced:
        pivot = next(c for c in range(width) if row[c] != 0)
        if pivot == variable:
            return all(row[c] == 0 for c in range(width) if c != variable)
    return False


def protect(cells: Sequence[Sequence[int]], k: int = DEFAULT_THRESHOLD) -> ProtectedTable:
    """Hide what must be hidden in ``cells`` (a non-empty rectangle of counts) and its totals."""
    if k < 1:
        raise ValueError("the threshold k must be at least 1")
    if not cells or not cells[0] or any(len(row) != len(cells[0]) for row in cells):
        raise ValueError("counts must form a non-empty rectangle")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("counts cannot be negative")
    n_rows, n_cols = len(cells), len(cells[0])
    table = _extended(cells)
    equations = _equations(n_rows, n_cols)
    hidden = {(i, j) for i, row in enumerate(table) for j, value in enumerate(row) if 0 < value < k}
    while True:
        _pair_up(table, equations, hidden, n_rows, n_cols)
        exposed = determined(equations, hidden)
        if not exposed or not _hide_one_more(table, equations, hidden, exposed, n_rows, n_cols):
            break
    return _published(table, hidden, n_rows, n_cols)


def _pair_up(
    table: list[list[int]],
    equations: list[list[Position]],
    hidden: set[Position],
    n_rows: int,
    n_cols: int,
) -> None:
    """Until no equation hides exactly one value, hide its smallest published value."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            if sum(1 for p in equation if p in hidden) != 1:
                continue
            candidates = [p for p in equation if p not in hidden]
            if not candidates:  # pragma: no cover - an equation has at least two members
                continue
            choice = min(candidates, key=lambda p: _weight(table[p[0]][p[1]], p, n_rows, n_cols))
            hidden.add(choice)
            changed = True


def _hide_one_more(
    table: list[list[int]],
    equations: list[list[Position]],
    hidden: set[Position],
    exposed: set[Position],
    n_rows: int,
    n_cols: int,
) -> bool:
    """Hide the smallest published value sharing an equation with an exposed hidden value.

    Returns False when nothing is left to hide (then nothing at all is published).
    """
    target = min(exposed)
    candidates = {
        p for equation in equations if target in equation for p in equation if p not in hidden
    }
    if not candidates:
        # Every value of these equations is hidden already; hide anything left in the table.
        candidates = {
            (i, j) for i in range(n_rows + 1) for j in range(n_cols + 1) if (i, j) not in hidden
        }
    if not candidates:
        return False
    hidden.add(min(candidates, key=lambda p: _weight(table[p[0]][p[1]], p, n_rows, n_cols)))
    return True


def _published(
    table: list[list[int]], hidden: set[Position], n_rows: int, n_cols: int
) -> ProtectedTable:
    def show(i: int, j: int) -> int | None:
        return None if (i, j) in hidden else table[i][j]

    return ProtectedTable(
        cells=tuple(tuple(show(i, j) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(show(i, n_cols) for i in range(n_rows)),
        column_totals=tuple(show(n_rows, j) for j in range(n_cols)),
        total=show(n_rows, n_cols),
    )


def protect_value(value: int, k: int = DEFAULT_THRESHOLD) -> int | None:
    """A count shown on its own, not as part of a published total: hidden from 1 to k-1.

    Use it only for values that no published total sums (a headline figure, or the people
    reaching each stage, where one person counts in several stages). Parts of a total go
    through :func:`protect`.
    """
    if k < 1:
        raise ValueError("the threshold k must be at least 1")
    if value < 0:
        raise ValueError("counts cannot be negative")
    return None if 0 < value < k else value


def statistic_is_safe(people: int, k: int = DEFAULT_THRESHOLD) -> bool:
    """A statistic about a group (a median, a share) is shown only for at least k people."""
    return people >= k
