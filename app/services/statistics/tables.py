"""Protected tables, lists and medians: the only shapes in which figures leave the package.

The section builders count in ``Counts`` (raw, never returned) and publish through
``protected_table`` and ``protected_median``, which apply ``app/domain/disclosure.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.disclosure import ProtectedTable, statistic_is_safe
from app.domain.disclosure_links import Link, protect_linked
from app.models import ReferenceItem, Structure
from app.services.statistics.headings import Label, Metric

# Raw counts by (row, column): what a builder adds up before protecting it.
Counts = dict[tuple[Label, Label], int]

# A median from a query and the number of people or hand-offs behind it.
Sample = tuple[float, int]


def histogram_median(histogram: Iterable[tuple[float, int]]) -> Sample | None:
    """The median of values given as (value, how many) pairs, and how many values.

    The middle value, or the mean of the two middle ones of an even count: what
    ``percentile_cont(0.5)`` and the window medians the statistics used before returned. A query
    grouping whole days by value returns a few hundred such pairs where the values themselves
    are tens of thousands: no sort of every value, in the database or here.
    """
    pairs = sorted((float(value), int(n)) for value, n in histogram if n)
    total = sum(n for _value, n in pairs)
    if not total:
        return None
    ranks = ((total + 1) // 2, (total + 2) // 2)  # 1-based, as in queries._medians
    middle: list[float] = []
    seen = 0
    for value, n in pairs:
        seen += n
        while len(middle) < len(ranks) and seen >= ranks[len(middle)]:
            middle.append(value)
        if len(middle) == len(ranks):
            break
    return ((middle[0] + middle[1]) / 2, total)


def medians_by_group(rows: Iterable[tuple[Any, Any, int]]) -> dict[Any, Sample]:
    """The median and count of each group of (group, value, how many) rows
    (``queries.day_counts``)."""
    found: dict[Any, list[tuple[float, int]]] = {}
    for group, value, n in rows:
        found.setdefault(group, []).append((value, n))
    medians = {group: histogram_median(values) for group, values in found.items()}
    return {group: sample for group, sample in medians.items() if sample is not None}


@dataclass(frozen=True)
class CountTable:
    """A protected table of counts with its totals (``None``: hidden)."""

    name: str
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]
    published: ProtectedTable

    def cell(self, row: Label, column: Label) -> int | None:
        return self.published.cells[self.rows.index(row)][self.columns.index(column)]

    def row_total(self, row: Label) -> int | None:
        return self.published.row_totals[self.rows.index(row)]

    def column_total(self, column: Label) -> int | None:
        return self.published.column_totals[self.columns.index(column)]

    @property
    def empty(self) -> bool:
        return not self.rows or self.published.total == 0


@dataclass(frozen=True)
class CountList:
    """Counts that no published total sums (one person may count in several rows)."""

    name: str
    rows: tuple[Label, ...]
    values: tuple[int | None, ...]

    @property
    def empty(self) -> bool:
        return not any(self.values) and None not in self.values


@dataclass(frozen=True)
class Median:
    """A median duration in days; ``None`` when fewer than k people or hand-offs are behind it."""

    metric: Metric
    days: float | None


def protected_table(
    name: str,
    rows: Sequence[Label],
    columns: Sequence[Label],
    counts: Counts,
    k: int,
) -> CountTable:
    """The table of ``counts`` over ``rows`` × ``columns`` (missing pairs count 0), protected."""
    (table,) = protected_tables([TableSpec(name, tuple(rows), tuple(columns), counts)], (), k)
    return table


@dataclass(frozen=True)
class TableSpec:
    """A table to publish: its name, row and column headings, and raw counts."""

    name: str
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]
    counts: Counts

    def cells(self) -> list[list[int]]:
        return [[self.counts.get((row, column), 0) for column in self.columns] for row in self.rows]


@dataclass(frozen=True)
class Shared:
    """Totals that two tables published together share: the totals of ``first``'s columns
    (``first_axis`` "columns") or rows ("rows"), grand total included, are those of
    ``second``'s, heading by heading. With ``second_heading``, the whole total line of
    ``first`` is instead one total of ``second``: that column's (or row's) total."""

    first: int
    first_axis: str
    second: int
    second_axis: str
    second_heading: Label | None = None


def protected_tables(
    specs: Sequence[TableSpec], shared: Sequence[Shared], k: int
) -> list[CountTable]:
    """Tables published together, protected as one family (``protect_linked``): a total they
    share is hidden in all or none, and nothing hidden can be worked out from them all."""
    present = [i for i, spec in enumerate(specs) if spec.rows and spec.columns]
    index_of = {i: n for n, i in enumerate(present)}
    links: list[Link] = []
    for share in shared:
        if share.first in index_of and share.second in index_of:
            links.extend(_links(specs, share, index_of))
    published = protect_linked([specs[i].cells() for i in present], links, k)
    tables: list[CountTable] = []
    for i, spec in enumerate(specs):
        if i in index_of:
            tables.append(
                CountTable(
                    name=spec.name,
                    rows=spec.rows,
                    columns=spec.columns,
                    published=published[index_of[i]],
                )
            )
        else:
            empty = ProtectedTable(
                cells=(), row_totals=(), column_totals=(0,) * len(spec.columns), total=0
            )
            tables.append(
                CountTable(name=spec.name, rows=(), columns=spec.columns, published=empty)
            )
    return tables


def _total_line(spec: TableSpec, axis: str) -> list[tuple[Label | None, tuple[int, int]]]:
    """The positions of a total line, by heading (None: the grand total)."""
    n_rows, n_cols = len(spec.rows), len(spec.columns)
    if axis == "columns":  # the totals of the columns: the total row
        line = [(column, (n_rows, j)) for j, column in enumerate(spec.columns)]
    else:
        line = [(row, (i, n_cols)) for i, row in enumerate(spec.rows)]
    return [*line, (None, (n_rows, n_cols))]


def _links(specs: Sequence[TableSpec], share: Shared, index_of: dict[int, int]) -> list[Link]:
    first, second = specs[share.first], specs[share.second]
    a, b = index_of[share.first], index_of[share.second]
    line = _total_line(first, share.first_axis)
    if share.second_heading is not None:
        (position,) = [
            p for heading, p in _total_line(second, share.second_axis)
            if heading == share.second_heading
        ]  # fmt: skip
        return [Link((a, p), (b, position)) for _heading, p in line]
    other = dict(_total_line(second, share.second_axis))
    if set(other) != {heading for heading, _p in line}:
        raise ValueError(f"{first.name} and {second.name} do not share the same headings")
    return [Link((a, p), (b, other[heading])) for heading, p in line]


def protected_median(metric: Metric, found: Sample | None, k: int) -> Median:
    """The median, shown only when at least k people or hand-offs are behind it."""
    if found is None or not statistic_is_safe(found[1], k):
        return Median(metric=metric, days=None)
    return Median(metric=metric, days=float(found[0]))


def items_in_use(items: Sequence[ReferenceItem], counts: Counts) -> tuple[Label, ...]:
    """The items of a reference list that are active or have counts, in list order."""
    present = {row for row, _column in counts}
    return tuple(item for item in items if item.active or item in present)


def sorted_labels(labels: Iterable[Label]) -> tuple[Label, ...]:
    """Structures by code, then the other headings."""
    found = list(dict.fromkeys(labels))
    found.sort(key=lambda x: (0, x.code) if isinstance(x, Structure) else (1, str(x)))
    return tuple(found)
