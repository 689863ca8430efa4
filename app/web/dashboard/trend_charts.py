"""The quarterly trends as a line chart in three panels on one time axis: geometry only
(drawn by the ``trend_chart`` macro of ``templates/dashboard/_trends.html``).

Panels: the counts (people entering, reaching training, reaching employment; hand-offs
sent), the median delays in days, and the share of hand-offs answered within the deadline.
Each value sits in the middle of its quarter; a hidden or missing value breaks its line (it
is never drawn as if known). The network events (temps d'interconnaissance) are marks on the
time axis at their date, numbered; the list under the chart links each to its page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from app.domain.periods import Quarter
from app.services.directory.network_events import EventMark
from app.services.statistics.tables import CountTable
from app.services.statistics.trend_queries import TrendSeries
from app.services.statistics.trends import QuarterTrend, Trends

WIDTH = 640.0
LEFT = 56.0
RIGHT = 16.0
PANEL_HEIGHT = 120.0
PANEL_GAP = 44.0
EVENTS_ROOM = 48.0  # above the first panel: the numbered marks of the events


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    quarter: Quarter


@dataclass(frozen=True)
class Line:
    series: str  # CSS class suffix
    label: str
    segments: list[list[Point]]  # runs of known values (a hidden value breaks the line)

    @property
    def points(self) -> list[Point]:
        return [p for run in self.segments for p in run]


@dataclass(frozen=True)
class Panel:
    key: str  # "counts", "delays" or "share"
    title: str
    top: float
    height: float
    ticks: list[tuple[float, float]]  # (y, value)
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class EventMarker:
    x: float
    number: int
    event: EventMark


@dataclass(frozen=True)
class TrendChart:
    panels: list[Panel]
    quarters: list[tuple[float, float, Quarter]]  # (x where it starts, x of its middle, quarter)
    events: list[EventMarker]
    width: float
    height: float
    left: float = LEFT
    right: float = WIDTH - RIGHT


Value = Callable[[QuarterTrend], float | None]


def trend_chart(
    trends: Trends,
    handoffs: CountTable,
    events: Sequence[EventMark],
    titles: dict[str, str],
    names: dict[str, str],
) -> TrendChart:
    """``handoffs`` is the published "handoffs-by-quarter" table (its quarters' totals are
    the hand-offs sent); ``titles`` name the panels and ``names`` the series."""
    quarters = [q.quarter for q in trends.quarters]
    if not quarters:
        return TrendChart([], [], [], WIDTH, EVENTS_ROOM)
    start, end = quarters[0].starts_on, quarters[-1].next().starts_on
    span = (end - start).days or 1

    def x_of(day: date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / span

    def middle(q: Quarter) -> float:
        return (x_of(q.starts_on) + x_of(q.next().starts_on)) / 2

    people = trends.people
    counts: dict[str, list[float | None]] = {
        series.value: [_cell(people, q, series) for q in quarters] for series in TrendSeries
    }
    counts["handoffs"] = [handoffs.row_total(q) if q in handoffs.rows else None for q in quarters]
    delays: dict[str, list[float | None]] = {
        "to_training": [t.to_training for t in trends.quarters],
        "to_employment": [t.to_employment for t in trends.quarters],
        "to_answer": [t.to_answer for t in trends.quarters],
    }
    shares = {"within": [t.answered_within for t in trends.quarters]}
    panels = []
    top = EVENTS_ROOM
    for key, values, ceiling in (("counts", counts, None), ("delays", delays, None)):
        panels.append(_panel(key, titles[key], top, values, names, quarters, middle, ceiling))
        top += PANEL_HEIGHT + PANEL_GAP
    panels.append(_panel("share", titles["share"], top, shares, names, quarters, middle, 1.0))
    top += PANEL_HEIGHT + 24
    markers = [
        EventMarker(x_of(event.held_on), n, event)
        for n, event in enumerate(sorted(events, key=lambda e: (e.held_on, e.id)), start=1)
        if start <= event.held_on < end
    ]
    return TrendChart(
        panels=panels,
        quarters=[(x_of(q.starts_on), middle(q), q) for q in quarters],
        events=markers,
        width=WIDTH,
        height=top,
    )


def _cell(table: CountTable, quarter: Quarter, series: TrendSeries) -> float | None:
    if quarter not in table.rows:
        return None
    value = table.cell(quarter, series)
    return None if value is None else float(value)


def _panel(
    key: str,
    title: str,
    top: float,
    values: dict[str, list[float | None]],
    names: dict[str, str],
    quarters: list[Quarter],
    middle: Callable[[Quarter], float],
    ceiling: float | None,
) -> Panel:
    known = [v for series in values.values() for v in series if v is not None]
    biggest = ceiling if ceiling is not None else _nice(max(known, default=0.0))
    bottom = top + PANEL_HEIGHT

    def y_of(value: float) -> float:
        return bottom - PANEL_HEIGHT * value / biggest if biggest else bottom

    ticks = [(y_of(biggest * n / 4), biggest * n / 4) for n in range(5)]
    lines = []
    for series, found in values.items():
        segments: list[list[Point]] = []
        run: list[Point] = []
        for quarter, value in zip(quarters, found, strict=True):
            if value is None:
                if run:
                    segments.append(run)
                run = []
                continue
            run.append(Point(middle(quarter), y_of(value), value, quarter))
        if run:
            segments.append(run)
        lines.append(Line(series=series, label=names[series], segments=segments))
    return Panel(key=key, title=title, top=top, height=PANEL_HEIGHT, ticks=ticks, lines=lines)


def _nice(value: float) -> float:
    """A round ceiling for an axis: 1, 2, 2.5 or 5 times a power of ten, at least 4."""
    if value <= 4:
        return 4.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - 10 * power is always enough
