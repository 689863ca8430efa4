"""The dashboard's charts, drawn as SVG on the server from protected indicators.

This module computes geometry only; ``templates/dashboard/_charts.html`` draws it. Every chart
is an image with a title and a description, and the table under it (in the page and in its
CSV export) holds the same numbers: the table is the text alternative.

Hidden values (small-count protection) are never drawn as if they were known: a hidden bar is
replaced by a label, a hidden part of a stacked bar is drawn hatched only as the remainder of
a published total (which the published values already give away), a hidden cell of a matrix is
hatched, a hidden link of the network is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.models import Structure
from app.services.statistics.headings import Label
from app.services.statistics.network import NetworkQuarter
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


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    value: int | None
    level: int  # 0 (zero) to 5 (the largest values); -1 hidden
    label: str


@dataclass(frozen=True)
class Heatmap:
    cells: list[Cell]
    rows: list[tuple[float, str, str]]  # (y, short name, full name)
    columns: list[tuple[float, str, str]]  # (x, short name, full name)
    width: float
    height: float
    size: float
    left: float
    top: float


def heatmap(table: CountTable, short: Name, name: Name) -> Heatmap:
    """A matrix of counts: rows are senders, columns receivers, darker for more."""
    size = 30.0
    left, top = 110.0, 70.0
    values = [v for row in table.published.cells for v in row if v]
    biggest = max(values, default=0)
    cells = []
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            value = table.published.cells[i][j]
            if value is None:
                level = -1
            elif value == 0 or not biggest:
                level = 0
            else:
                level = max(1, math.ceil(5 * value / biggest))
            shown = "—" if value is None else str(value)
            cells.append(
                Cell(
                    x=left + j * size,
                    y=top + i * size,
                    value=value,
                    level=level,
                    label=f"{name(row)} → {name(column)}: {shown}",
                )
            )
    return Heatmap(
        cells=cells,
        rows=[(top + i * size, short(r), name(r)) for i, r in enumerate(table.rows)],
        columns=[(left + j * size, short(c), name(c)) for j, c in enumerate(table.columns)],
        width=left + len(table.columns) * size + 10,
        height=top + len(table.rows) * size + 10,
        size=size,
        left=left,
        top=top,
    )


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    code: str
    name: str
    active: bool
    anchor: str  # text-anchor of the label
    met: bool = False  # took part in a network event in the period of the picture


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    weight: int
    label: str


@dataclass
class NetworkPicture:
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    hidden_links: int = 0
    size: float = 0


def network_pictures(
    total: NetworkQuarter,
    quarters: Sequence[NetworkQuarter],
    structures: Sequence[Structure],
    quarter_name: Callable[[NetworkQuarter], str],
    whole_title: str,
    met: Sequence[set[int]] | None = None,
) -> tuple[NetworkPicture, list[NetworkPicture]]:
    """The network of the period, large, and one small picture per quarter.

    Every picture puts each partner at the same place on a circle, so links can be compared
    from one quarter to the next; line widths use one scale for all quarters. ``met`` gives,
    per quarter, the structures that took part in a network event (ringed in the picture).
    """
    per_quarter = list(met) if met is not None else [set() for _ in quarters]
    ordered = sorted(structures, key=lambda s: s.code)
    biggest_total = max((link.weight for link in total.links), default=0)
    biggest_quarter = max((link.weight for q in quarters for link in q.links), default=0)
    large = _picture(total, ordered, 560.0, 8.0, biggest_total, whole_title, labels=True)
    small = [
        _picture(q, ordered, 220.0, 4.0, biggest_quarter, quarter_name(q), labels=False, met=ids)
        for q, ids in zip(quarters, per_quarter, strict=True)
    ]
    return large, small


def _picture(
    network: NetworkQuarter,
    structures: Sequence[Structure],
    size: float,
    thickest: float,
    biggest: int,
    title: str,
    *,
    labels: bool,
    met: set[int] | None = None,
) -> NetworkPicture:
    margin = 95.0 if labels else 14.0
    radius = size / 2 - margin
    centre = size / 2
    where: dict[int, tuple[float, float, float]] = {}
    for n, structure in enumerate(structures):
        angle = -math.pi / 2 + 2 * math.pi * n / max(1, len(structures))
        where[structure.id] = (
            centre + radius * math.cos(angle),
            centre + radius * math.sin(angle),
            math.cos(angle),
        )
    linked = {link.first.id for link in network.links} | {link.second.id for link in network.links}
    picture = NetworkPicture(title=title, hidden_links=network.hidden_links, size=size)
    for link in network.links:
        x1, y1, _ = where[link.first.id]
        x2, y2, _ = where[link.second.id]
        width = max(1.0, thickest * math.sqrt(link.weight / biggest)) if biggest else 1.0
        picture.edges.append(
            Edge(
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                width=width,
                weight=link.weight,
                label=f"{link.first.name} ↔ {link.second.name}: {link.weight}",
            )
        )
    for structure in structures:
        x, y, cos = where[structure.id]
        anchor = "start" if cos > 0.2 else "end" if cos < -0.2 else "middle"
        picture.nodes.append(
            Node(
                x=x,
                y=y,
                code=structure.code,
                name=structure.name,
                active=structure.id in linked,
                anchor=anchor,
                met=structure.id in (met or set()),
            )
        )
    return picture
