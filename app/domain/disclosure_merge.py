"""National tables from the protected tables of several territories (the national layer).

Each territory publishes its tables protected (``app.domain.disclosure``,
``app.domain.disclosure_links``); a national instance adds them up, heading by heading. It
never sees an exact count of a territory, only what the territory published, so:

1. **a national value is published only if every territory published its part**: a value
   hidden in one territory (a small count, or a secondary suppression) makes the national
   value hidden, whatever the others published. A heading a territory does not have counts
   zero there (its tables list every heading with a count);
2. then the national tables go through the same secondary suppression as any family of
   tables published together (``suppress_linked``), from those hidden values, so that the
   national family, read alone, meets the rule every published family meets.

Why nothing hidden can be worked out, from the national tables and every territory's file
together (docs/scaling.md, "The national layer: protected aggregates"): by rule 1 each
published national value is the sum of published territory values, so it tells nothing that
the territories' files do not tell already. The territories count different people (their
underlying counts are different unknowns), so what the files tell splits into one part per
territory: a sum of values of several territories is known only when each territory's part
is known. A hidden national value has at least one hidden territory part, which that
territory's own protection keeps undetermined; a hidden territory value was protected by its
territory. ``tests/domain/test_disclosure_merge.py`` checks it by exact linear algebra over
the underlying counts of two territories. Rule 2 hides more (published sums only): it adds
no knowledge, and keeps the national family safe by itself should a territory's protection
be weaker than this one.

The national hidden values are not marked small: whether one is a small count is not known,
and saying so would tell something about the territories' secondary suppressions.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.disclosure import Position, ProtectedTable, protect_value
from app.domain.disclosure_links import Link, suppress_linked

# A published table with its totals: its rows then the total row, each with its cells then
# the row's total; ``None`` for a hidden value.
Published = Sequence[Sequence[int | None]]


class MergeError(ValueError):
    """Territories' tables that cannot be added up (the message says why)."""


def merge_tables(
    parts: Sequence[Sequence[Published]], links: Sequence[Link], k: int
) -> list[ProtectedTable]:
    """The national tables of a family: ``parts[t][n]`` is territory t's table n, aligned on
    the national headings (zeros where the territory has no such heading); ``links`` join the
    family's shared totals, as for ``protect_linked``; ``k`` is the national threshold.

    ``MergeError`` when the territories' tables do not have the same shapes, publish a count
    from 1 to k-1, or publish lines that do not add up.
    """
    if not parts:
        raise MergeError("nothing to merge")
    shapes = [(len(table) - 1, len(table[0]) - 1) for table in parts[0]]
    for part in parts:
        if [(len(table) - 1, len(table[0]) - 1) for table in part] != shapes:
            raise MergeError("the territories' tables do not have the same headings")
        for table in part:
            check_published(table, k)
    extended: list[list[list[int]]] = []
    hidden: list[set[Position]] = []
    for n, (n_rows, n_cols) in enumerate(shapes):
        values = [[0] * (n_cols + 1) for _ in range(n_rows + 1)]
        unknown: set[Position] = set()
        for i in range(n_rows + 1):
            for j in range(n_cols + 1):
                found = [part[n][i][j] for part in parts]
                if any(value is None for value in found):
                    unknown.add((i, j))  # rule 1: hidden somewhere, hidden here
                else:
                    values[i][j] = sum(value for value in found if value is not None)
                    if 0 < values[i][j] < k:  # cannot happen with checked parts: kept as a guard
                        unknown.add((i, j))
        extended.append(values)
        hidden.append(unknown)
    return suppress_linked(extended, shapes, links, hidden)


def merge_list(parts: Sequence[Sequence[int | None]], k: int) -> list[int | None]:
    """A list of counts that no total sums (one person may count in several rows): a national
    value is published when every territory published its part, and is not from 1 to k-1."""
    if not parts or any(len(part) != len(parts[0]) for part in parts):
        raise MergeError("the territories' lists do not have the same headings")
    merged: list[int | None] = []
    for values in zip(*parts, strict=True):
        for value in values:
            if value is not None:
                _check_count(value, k)
        if any(value is None for value in values):
            merged.append(None)
        else:
            merged.append(protect_value(sum(v for v in values if v is not None), k))
    return merged


def check_published(table: Published, k: int) -> None:
    """``MergeError`` unless ``table`` (with its totals) is a rectangle of counts, none from 1
    to k-1, whose fully published lines add up."""
    width = len(table[0]) if table else 0
    if not table or width < 2 or any(len(row) != width for row in table):
        raise MergeError("a table is not a rectangle of counts with its totals")
    for row in table:
        for value in row:
            if value is not None:
                _check_count(value, k)
    lines = [list(row) for row in table]
    lines += [[row[j] for row in table] for j in range(width)]
    for line in lines:
        members, total = line[:-1], line[-1]
        if total is not None and None not in members and sum(v or 0 for v in members) != total:
            raise MergeError("a table's published values do not add up to its totals")


def _check_count(value: object, k: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MergeError("a table holds something that is not a count")
    if 0 < value < k:
        raise MergeError(f"a table publishes a count below the threshold ({k})")
