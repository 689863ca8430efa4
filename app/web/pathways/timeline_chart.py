"""The pathway timeline drawn as SVG on the server: one lane per structure, stages as spans,
barriers as markers, hand-offs as arrows coloured by state.

This module only computes the geometry from a ``Timeline`` (no identity is ever involved);
``templates/_timeline_svg.html`` draws it. The chart is an image with a title and a short
description; the chronological list below it on the page is its full text alternative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.models import PathwayStep, ReferenceItem
from app.services.pathways import Timeline
from app.web.labels import enum_label

Label = Callable[[ReferenceItem], str]

WIDTH = 960
LEFT = 210  # room for the lane labels
RIGHT = 20
TOP = 34  # room for the month ticks
LANE = 54
BOTTOM = 26


@dataclass(frozen=True)
class Span:
    x: float
    width: float
    y: float
    stage: str
    label: str


@dataclass(frozen=True)
class Band:
    """The time a structure followed the person, behind its lane."""

    x: float
    width: float
    y: float


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    status: str
    label: str


@dataclass(frozen=True)
class Arrow:
    x: float
    y1: float
    y2: float
    status: str
    label: str
    contact_x: float | None = None


@dataclass(frozen=True)
class Tick:
    x: float
    label: date


@dataclass
class Chart:
    width: int
    height: int
    lanes: list[tuple[float, str]] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    today_x: float | None = None
    start: date | None = None
    end: date | None = None


def _lanes(tl: Timeline) -> list[str]:
    """Structure names in order of first appearance in the pathway."""
    events: list[tuple[date, str]] = [(f.started_on, f.structure.name) for f in tl.follow_ups]
    events += [(s.started_on, s.structure.name) for s in tl.steps]
    for h in tl.handoffs:
        events += [
            (h.sent_at.date(), h.from_structure.name),
            (h.sent_at.date(), h.to_structure.name),
        ]
    events += [
        (b.identified_on, b.acting_structure.name) for b in tl.barriers if b.acting_structure
    ]
    seen: dict[str, None] = {}
    for _on, name in sorted(events, key=lambda e: e[0]):
        seen.setdefault(name, None)
    return list(seen)


def _bounds(tl: Timeline, today: date) -> tuple[date, date]:
    days = [f.started_on for f in tl.follow_ups] + [s.started_on for s in tl.steps]
    days += [b.identified_on for b in tl.barriers] + [h.sent_at.date() for h in tl.handoffs]
    start = min(days, default=today)
    return start.replace(day=1), max(today, start + timedelta(days=30))


def _month_ticks(start: date, end: date) -> list[date]:
    ticks, current = [], start
    step = 1 if (end - start).days < 400 else 3
    while current <= end:
        ticks.append(current)
        month = current.month - 1 + step
        current = date(current.year + month // 12, month % 12 + 1, 1)
    return ticks


def build_chart(tl: Timeline, today: date, label: Label) -> Chart:
    """The chart of one person's pathway, as shapes in SVG user units."""
    lanes = _lanes(tl)
    start, end = _bounds(tl, today)
    span_days = max((end - start).days, 1)
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + (day - start).days / span_days * plot, 1)

    lane_y = {name: TOP + i * LANE + LANE / 2 for i, name in enumerate(lanes)}
    chart = Chart(
        width=WIDTH, height=TOP + max(len(lanes), 1) * LANE + BOTTOM, start=start, end=end
    )
    chart.lanes = [(lane_y[name], name) for name in lanes]
    chart.ticks = [Tick(x(t), t) for t in _month_ticks(start, end)]
    chart.today_x = x(today)
    ends: dict[str, date] = {}
    for f in tl.follow_ups:
        until = f.ended_on or today
        chart.bands.append(
            Band(x(f.started_on), max(x(until) - x(f.started_on), 2), lane_y[f.structure.name] - 16)
        )
        ends[f.structure.name] = max(ends.get(f.structure.name, until), until)
    _add_spans(chart, tl, lane_y, x, today, label, ends)
    for b in tl.barriers:
        name = b.acting_structure.name if b.acting_structure else None
        y = lane_y.get(name) if name else None
        if y is None:
            y = chart.lanes[0][0] if chart.lanes else TOP + LANE / 2
        chart.markers.append(
            Marker(
                x(b.closed_on or b.identified_on),
                y + 14,
                b.status.value,
                f"{label(b.category)} · {enum_label(b.status)}",
            )
        )
    for h in tl.handoffs:
        chart.arrows.append(
            Arrow(
                x(h.sent_at.date()),
                lane_y[h.from_structure.name],
                lane_y[h.to_structure.name],
                h.status.value,
                f"{h.from_structure.name} → {h.to_structure.name} · {enum_label(h.status)}",
                x(h.first_contact_on) if h.first_contact_on else None,
            )
        )
    return chart


def _add_spans(
    chart: Chart,
    tl: Timeline,
    lane_y: dict[str, float],
    x: Callable[[date], float],
    today: date,
    label: Label,
    ends: dict[str, date],
) -> None:
    """Each step lasts until it ends, or until the next step recorded by the same structure,
    and never past the end of that structure's follow-up."""
    by_structure: dict[str, list[PathwayStep]] = {}
    for step in tl.steps:
        by_structure.setdefault(step.structure.name, []).append(step)
    for name, steps in by_structure.items():
        for n, step in enumerate(steps):
            following = steps[n + 1].started_on if n + 1 < len(steps) else today
            until = min(step.ended_on or following, ends.get(name, today))
            left = x(step.started_on)
            right = x(max(until, step.started_on))
            chart.spans.append(
                Span(
                    left, max(right - left, 4), lane_y[name] - 9, step.stage.code, label(step.stage)
                )
            )
