"""The dashboard's charts, drawn as SVG on the server from protected indicators.

This module computes geometry only; ``templates/dashboard/_charts.html`` draws it. Every chart
is an image with a title and a description, and the table under it (in the page and in its
CSV export) holds the same numbers: the table is the text alternative.

Hidden values (small-count protection) are never drawn as if they were known: a hidden bar is
replaced by a label, a hidden part of a stacked bar is drawn hatched only as the remainder of
a published total (which the published values already give away). The network's heatmap is
in ``network_chart.py``, the quarterly trends in ``trend_charts.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.models import Structure
from app.services.statistics.headings import Label
from app.services.statistics.tables import CountList, CountTable
from app.web.svg_text import centred_lines

Name = Callable[[Label], str]

WIDTH = 600
LABEL_WIDTH = 200
VALUE_ROOM = 70
ROW = 26
TOP = 8
LABEL_CHARS = 25  # of a row label's line (13 px in LABEL_WIDTH): wrapped on two, never cut


def label_lines(label: str) -> list[tuple[float, str]]:
    """A row label on one or two lines (baseline offsets from the single line's)."""
    return centred_lines(label, LABEL_CHARS, 12, 2)


@dataclass(frozen=True)
class Bar:
    y: float
    label: str
    value: int | None
    width: float
    small: bool = True  # a hidden value is a small count ("< k"), not a secret one

    @property
    def lines(self) -> list[tuple[float, str]]:
        return label_lines(self.label)


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: float
    width: int = WIDTH
    label_width: int = LABEL_WIDTH


def bar_chart(values: CountList | CountTable, name: Name) -> BarChart:
    """One horizontal bar per row (of a list, or of a one-column table); hidden values get no
    bar."""
    if isinstance(values, CountTable):
        if len(values.columns) != 1:
            raise ValueError("a bar chart draws a list or a table of one column")
        counts = [row[0] for row in values.published.cells]
        small = [values.published.is_small(i, 0) for i in range(len(counts))]
    else:
        counts = list(values.values)
        small = [True] * len(counts)
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    biggest = max((v for v in counts if v), default=0)
    bars = [
        Bar(
            y=TOP + i * ROW,
            label=name(row),
            value=value,
            width=(room * value / biggest) if value and biggest else 0.0,
            small=small[i],
        )
        for i, (row, value) in enumerate(zip(values.rows, counts, strict=True))
    ]
    return BarChart(bars=bars, height=TOP * 2 + len(bars) * ROW)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    series: str  # CSS class suffix: the column's code
    value: int | None  # None: the hidden remainder of the row
    label: str


@dataclass(frozen=True)
class StackedBar:
    y: float
    label: str
    total: int | None
    segments: list[Segment]
    end: float
    small: bool = True  # a hidden total is a small count ("< k"), not a secret one

    @property
    def lines(self) -> list[tuple[float, str]]:
        return label_lines(self.label)


@dataclass(frozen=True)
class StackedChart:
    bars: list[StackedBar]
    legend: list[tuple[str, str]]  # (series, label)
    height: float
    width: int = WIDTH
    label_width: int = LABEL_WIDTH


def _code(label: Label) -> str:
    if isinstance(label, Structure):
        return label.code
    code = getattr(label, "code", None)
    if isinstance(code, str):
        return code
    return str(getattr(label, "value", label))


def stacked_chart(table: CountTable, name: Name) -> StackedChart:
    """One bar per row, as long as the row's total, split by column."""
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    totals = table.published.row_totals
    biggest = max((t for t in totals if t), default=0)
    bars = []
    for i, row in enumerate(table.rows):
        total = totals[i]
        x = float(LABEL_WIDTH)
        segments: list[Segment] = []
        if total and biggest:
            scale = room / biggest
            shown = 0
            for column, value in zip(table.columns, table.published.cells[i], strict=True):
                if value:
                    segments.append(
                        Segment(x, value * scale, _code(column), value, f"{name(column)}: {value}")
                    )
                    x += value * scale
                    shown += value
            if shown < total:
                rest = total - shown
                segments.append(Segment(x, rest * scale, "hidden", None, ""))
                x += rest * scale
        bars.append(
            StackedBar(
                y=TOP + i * ROW,
                label=name(row),
                total=total,
                segments=segments,
                end=x,
                small=table.published.is_small(i, len(table.columns)),
            )
        )
    legend = [(_code(column), name(column)) for column in table.columns]
    return StackedChart(bars=bars, legend=legend, height=TOP * 2 + len(bars) * ROW)
