"""Small-count protection of tables published together, whose totals are shared.

See ``app/domain/disclosure.py`` for the protection of one table, and ``docs/statistics.md``,
"Tables published together", for the rule and how it is tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.disclosure import (
    DEFAULT_THRESHOLD,
    Position,
    ProtectedTable,
    checked_table,
    hiding_order,
    protect_alone,
    published_table,
)


@dataclass(frozen=True)
class Link:
    """Two values of tables published together that are the same number: (table, position)
    each, positions in the tables extended with their totals."""

    first: tuple[int, Position]
    second: tuple[int, Position]


def protect_linked(
    tables: Sequence[Sequence[Sequence[int]]], links: Sequence[Link], k: int = DEFAULT_THRESHOLD
) -> list[ProtectedTable]:
    """Protect tables published together whose totals are shared (``links``).

    The hand-offs of a dashboard are counted by sender and receiver, by receiver and state,
    by quarter and state: the receivers' totals of the first table are those of the second,
    the states' totals of the second those of the third. Protected one by one, a value hidden
    in one table could be published in another, and relations that each table alone leaves
    open could be combined. Here:

    - a shared value hidden in any table is hidden in all of them;
    - in each table, besides having no hidden value determined by the table alone (no bridge),
      the only relations among its hidden *shared* values are the sums of the total lines
      that it shares (which its linked table holds too): in the graph of hidden values,
      removing the nodes of the shared total lines (``link nodes``) must not split what was
      connected. A relation among shared values alone is what another table could combine
      with; excluding every other one keeps each table's hidden values as undetermined with
      the others published as alone. ``tests/domain/test_disclosure_linked.py`` checks it on
      random families of tables by exact linear algebra over the underlying counts.

    A link must join whole total lines (every value of a total row or column of one table,
    grand total included, shared); a value linked to itself or links between different
    numbers raise ``ValueError``.
    """
    checked = [checked_table(cells, k) for cells in tables]
    shapes = [(n_rows, n_cols) for n_rows, n_cols, _table in checked]
    extended = [table for _n_rows, _n_cols, table in checked]
    hidden = [
        {(i, j) for i, row in enumerate(table) for j, value in enumerate(row) if 0 < value < k}
        for table in extended
    ]
    small = [frozenset(h) for h in hidden]
    classes = _link_classes(links, extended, shapes, [set() for _ in tables])
    return _suppress(extended, shapes, classes, hidden, small)


def suppress_linked(
    extended: Sequence[list[list[int]]],
    shapes: Sequence[tuple[int, int]],
    links: Sequence[Link],
    hidden: Sequence[set[Position]],
) -> list[ProtectedTable]:
    """Hide more values of tables published together, starting from ``hidden``, as
    ``protect_linked`` does after its primary suppression.

    For tables whose hidden values are not known (the national tables gathered from the
    territories' protected ones, ``app.domain.disclosure_merge``): ``extended`` holds each
    table with its totals, ``shapes`` their sizes without totals, and the values at the
    ``hidden`` positions are never read (any number will do). The hidden values returned are
    none of them marked small: which of them are small counts is not known.

    A link may here join a whole total line of one table to a single total of another that
    is not a whole line of it (the decline reasons' total, the declined column's total of the
    hand-offs by quarter, without the receivers' table that shares that whole line in a
    territory): such a value is hidden in both tables or in neither, but takes no part in the
    rule on the pieces of the graph of hidden values (which needs whole lines).
    """
    classes = _link_classes(links, list(extended), list(shapes), list(hidden))
    return _suppress(
        list(extended),
        list(shapes),
        classes,
        [set(h) for h in hidden],
        [frozenset()] * len(hidden),
        strict=False,
    )


def _suppress(
    extended: list[list[list[int]]],
    shapes: list[tuple[int, int]],
    classes: list[list[tuple[int, Position]]],
    hidden: list[set[Position]],
    small: list[frozenset[Position]],
    strict: bool = True,
) -> list[ProtectedTable]:
    shared: list[set[Position]] = [set() for _ in extended]
    for t, position in (member for members in classes for member in members):
        shared[t].add(position)
    link_nodes = [_link_nodes(shared[t], *shapes[t], strict) for t in range(len(extended))]
    while True:
        before = sum(len(h) for h in hidden)
        _hide_everywhere(classes, hidden)
        for t, table in enumerate(extended):
            _protect_one(table, hidden[t], link_nodes[t], *shapes[t])
        if sum(len(h) for h in hidden) == before:
            break  # nothing more hidden anywhere: every shared value is hidden in all or none
    return [
        published_table(table, hidden[t], small[t], *shapes[t]) for t, table in enumerate(extended)
    ]


def _hide_everywhere(
    classes: list[list[tuple[int, Position]]], hidden: list[set[Position]]
) -> None:
    """A shared value hidden in one table is hidden in every table that shares it."""
    for members in classes:
        if any(position in hidden[t] for t, position in members):
            for t, position in members:
                hidden[t].add(position)


Node = tuple[str, int]  # ("r", row) or ("c", column) of a table extended with its totals


def _link_classes(
    links: Sequence[Link],
    extended: list[list[list[int]]],
    shapes: list[tuple[int, int]],
    unknown: list[set[Position]],
) -> list[list[tuple[int, Position]]]:
    """The groups of linked values (a value shared by three tables is one group). Linked
    values must be the same number, unless one of them is ``unknown``."""
    parent: dict[tuple[int, Position], tuple[int, Position]] = {}

    def root(item: tuple[int, Position]) -> tuple[int, Position]:
        while parent.get(item, item) != item:
            item = parent[item]
        return item

    for link in links:
        for t, (i, j) in (link.first, link.second):
            n_rows, n_cols = shapes[t]
            if not (0 <= i <= n_rows and 0 <= j <= n_cols):
                raise ValueError("a link names a value outside its table")
        (ta, (ia, ja)), (tb, (ib, jb)) = link.first, link.second
        if link.first == link.second:
            raise ValueError("a value cannot be linked to itself")
        known = (ia, ja) not in unknown[ta] and (ib, jb) not in unknown[tb]
        if known and extended[ta][ia][ja] != extended[tb][ib][jb]:
            raise ValueError("linked values must be the same number")
        parent.setdefault(link.first, link.first)
        parent.setdefault(link.second, link.second)
        parent[root(link.first)] = root(link.second)
    groups: dict[tuple[int, Position], list[tuple[int, Position]]] = {}
    for item in parent:
        groups.setdefault(root(item), []).append(item)
    return [sorted(members) for members in groups.values()]


def _link_nodes(shared: set[Position], n_rows: int, n_cols: int, strict: bool = True) -> set[Node]:
    """The total lines of a table all of whose values are shared; every shared value must lie
    on one of them (unless not ``strict``: see ``suppress_linked``)."""
    nodes: set[Node] = set()
    if all((n_rows, j) in shared for j in range(n_cols + 1)):
        nodes.add(("r", n_rows))
    if all((i, n_cols) in shared for i in range(n_rows + 1)):
        nodes.add(("c", n_cols))
    for i, j in shared:
        if strict and not ({("r", i), ("c", j)} & nodes):
            raise ValueError("a link must join whole total lines of its tables")
    return nodes


def _protect_one(
    table: list[list[int]], hidden: set[Position], link_nodes: set[Node], n_rows: int, n_cols: int
) -> None:
    """Hide more values of one table until none is determined by the table alone and its
    shared total lines hold no other relation among hidden values than their own sums."""
    while True:
        if not protect_alone(table, hidden, n_rows, n_cols):
            return
        split = _split_by_link_nodes(hidden, link_nodes)
        if split is None or not _join(table, hidden, split, n_rows, n_cols):
            return


def _split_by_link_nodes(
    hidden: set[Position], link_nodes: set[Node]
) -> tuple[set[Node], set[Node]] | None:
    """Two pieces of one connected part of the graph of hidden values that only the link
    nodes join (None when removing them splits nothing)."""
    if not link_nodes or not hidden:
        return None
    adjacency: dict[Node, set[Node]] = {}
    for i, j in hidden:
        adjacency.setdefault(("r", i), set()).add(("c", j))
        adjacency.setdefault(("c", j), set()).add(("r", i))
    seen: set[Node] = set()
    for start in adjacency:
        if start in seen:
            continue
        component = _reach(adjacency, start, set())
        seen |= component
        others = [node for node in component if node not in link_nodes]
        if not others:
            continue
        piece = _reach(adjacency, others[0], link_nodes)
        rest = {node for node in others if node not in piece}
        if rest:
            return piece, rest
    return None


def _reach(adjacency: dict[Node, set[Node]], start: Node, avoid: set[Node]) -> set[Node]:
    found, stack = {start}, [start]
    while stack:
        for other in adjacency[stack.pop()]:
            if other not in found and other not in avoid:
                found.add(other)
                stack.append(other)
    return found


def _join(
    table: list[list[int]],
    hidden: set[Position],
    split: tuple[set[Node], set[Node]],
    n_rows: int,
    n_cols: int,
) -> bool:
    """Hide the smallest published value joining the two pieces (interior cells first); if
    none joins them directly, one next to the smaller piece. False when nothing is left."""
    piece, rest = split

    def joins(position: Position) -> bool:
        row, column = ("r", position[0]), ("c", position[1])
        return (row in piece and column in rest) or (row in rest and column in piece)

    published = [
        (i, j) for i in range(n_rows + 1) for j in range(n_cols + 1) if (i, j) not in hidden
    ]
    candidates = [p for p in published if joins(p)]
    if not candidates:
        smaller = min(piece, rest, key=len)
        candidates = [p for p in published if ("r", p[0]) in smaller or ("c", p[1]) in smaller]
    if not candidates:
        candidates = published
    if not candidates:
        return False
    hidden.add(min(candidates, key=lambda p: hiding_order(table[p[0]][p[1]], p, n_rows, n_cols)))
    return True
