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
2. that is not always enough across several equations, so an exact check follows (a hidden
   value is determined exactly when it lies on no cycle of hidden values, see
   ``determined``): while some hidden value is determined by the published ones, one more
   value of an equation holding it is hidden, and the check runs again.

Zeros are published: an empty cell does not single anyone out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 11

Position = tuple[int, int]  # (row, column) in the table extended with its totals


@dataclass(frozen=True)
class ProtectedTable:
    """Counts safe to publish; ``None`` marks a hidden value."""

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None
    # The hidden values that are small counts (1 to k-1, primary suppression), by position in
    # the table extended with its totals (row ``len(cells)`` is the total row, column
    # ``len(cells[0])`` the total column). The other hidden values hide nothing small
    # themselves (secondary suppression): they are shown as secret, never as "< k".
    small: frozenset[Position] = frozenset()

    def is_small(self, row: int, column: int) -> bool:
        """Whether the hidden value at (``row``, ``column``) of the extended table is small."""
        return (row, column) in self.small

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


def hiding_order(
    value: int, position: Position, n_rows: int, n_cols: int
) -> tuple[int, int, int, Position]:
    """Which value to hide first: never a zero while anything else can be hidden (nothing is
    negative, so hidden zeros in a line summing to zero would be known to be zeros), then
    interior cells before totals, then the smallest."""
    return (int(value == 0), int(_is_total(position, n_rows, n_cols)), value, position)


def determined(n_rows: int, n_cols: int, hidden: set[Position]) -> set[Position]:
    """The hidden positions whose value the published values determine.

    The equations of a table with its totals are those of a graph: one node per line of the
    extended table (its ``n_rows + 1`` rows and ``n_cols + 1`` columns), one edge per value,
    joining its row and its column. Every value sits in exactly two equations with a
    coefficient of +1 or -1, and scaling equations and unknowns by -1 turns the system into
    the signed incidence matrix of that graph. Restricted to the hidden values (the published
    ones are constants), its row space is the cut space of the graph of hidden values; the
    unit vector of a hidden value lies in it - the value is determined - exactly when its
    edge is a *bridge* of that graph (on no cycle of hidden values). Bridges are found in
    linear time, so the exact check stays cheap on a matrix of a hundred partners.
    """
    adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], Position]]] = {}
    for position in hidden:
        row, column = ("r", position[0]), ("c", position[1])
        adjacency.setdefault(row, []).append((column, position))
        adjacency.setdefault(column, []).append((row, position))
    return _bridges(adjacency)


def _bridges(
    adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], Position]]],
) -> set[Position]:
    """The edges of a simple graph that lie on no cycle (iterative depth-first search)."""
    order: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    found: set[Position] = set()
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        # Each frame: the node, the edge it was reached by, and where it is in its neighbours.
        stack: list[tuple[tuple[str, int], Position | None, int]] = [(root, None, 0)]
        while stack:
            node, via, index = stack[-1]
            neighbours = adjacency[node]
            if index < len(neighbours):
                stack[-1] = (node, via, index + 1)
                other, edge = neighbours[index]
                if edge == via:
                    continue
                if other in order:
                    low[node] = min(low[node], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, edge, 0))
            else:
                stack.pop()
                if stack and via is not None:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.add(via)
    return found


def protect(cells: Sequence[Sequence[int]], k: int = DEFAULT_THRESHOLD) -> ProtectedTable:
    """Hide what must be hidden in ``cells`` (a non-empty rectangle of counts) and its totals.

    Tables published together with shared totals go through
    ``app.domain.disclosure_links.protect_linked`` instead.
    """
    n_rows, n_cols, table = checked_table(cells, k)
    hidden = {(i, j) for i, row in enumerate(table) for j, value in enumerate(row) if 0 < value < k}
    small = frozenset(hidden)
    protect_alone(table, hidden, n_rows, n_cols)
    return published_table(table, hidden, small, n_rows, n_cols)


def checked_table(cells: Sequence[Sequence[int]], k: int) -> tuple[int, int, list[list[int]]]:
    """The table's size and the table extended with its totals; ``ValueError`` for anything
    that is not a non-empty rectangle of counts, or a threshold below 1."""
    if k < 1:
        raise ValueError("the threshold k must be at least 1")
    if not cells or not cells[0] or any(len(row) != len(cells[0]) for row in cells):
        raise ValueError("counts must form a non-empty rectangle")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("counts cannot be negative")
    return len(cells), len(cells[0]), _extended(cells)


def protect_alone(table: list[list[int]], hidden: set[Position], n_rows: int, n_cols: int) -> bool:
    """Hide more values of ``table`` (extended) until none of ``hidden`` is determined by the
    table alone. Returns False when everything is hidden and some still is."""
    equations = _equations(n_rows, n_cols)
    while True:
        _pair_up(table, equations, hidden, n_rows, n_cols)
        exposed = determined(n_rows, n_cols, hidden)
        if not exposed:
            return True
        if not _hide_one_more(table, equations, hidden, exposed, n_rows, n_cols):
            return False


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
            choice = min(
                candidates, key=lambda p: hiding_order(table[p[0]][p[1]], p, n_rows, n_cols)
            )
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
    hidden.add(min(candidates, key=lambda p: hiding_order(table[p[0]][p[1]], p, n_rows, n_cols)))
    return True


def published_table(
    table: list[list[int]],
    hidden: set[Position],
    small: frozenset[Position],
    n_rows: int,
    n_cols: int,
) -> ProtectedTable:
    def show(i: int, j: int) -> int | None:
        return None if (i, j) in hidden else table[i][j]

    return ProtectedTable(
        cells=tuple(tuple(show(i, j) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(show(i, n_cols) for i in range(n_rows)),
        column_totals=tuple(show(n_rows, j) for j in range(n_cols)),
        total=show(n_rows, n_cols),
        small=small,
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
