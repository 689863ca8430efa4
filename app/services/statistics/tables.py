"""Protected tables, lists and medians: the only shapes in which figures leave the package.

The section builders count in ``Counts`` (raw, never returned) and publish through
``protected_table`` and ``protected_median``, which apply ``app/domain/disclosure.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.domain.disclosure import ProtectedTable, protect, statistic_is_safe
from app.models import ReferenceItem, Structure
from app.services.statistics.headings import Label, Metric

# Raw counts by (row, column): what a builder adds up before protecting it.
Counts = dict[tuple[Label, Label], int]

# A median from a query and the number of people or hand-offs behind it.
Sample = tuple[float, int]


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
    if not rows or not columns:
        empty = ProtectedTable(cells=(), row_totals=(), column_totals=(0,) * len(columns), total=0)
        return CountTable(name=name, rows=(), columns=tuple(columns), published=empty)
    cells = [[counts.get((row, column), 0) for column in columns] for row in rows]
    return CountTable(
        name=name, rows=tuple(rows), columns=tuple(columns), published=protect(cells, k)
    )


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
