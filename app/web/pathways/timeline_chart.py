"""The pathway timeline drawn as SVG on the server: one lane per structure, stages as spans,
barriers as dots, hand-offs as arrows coloured by state, their answers as diamonds, first
contacts as squares.

This module only computes the geometry from a ``Timeline`` (no identity is ever involved);
``templates/_timeline_svg.html`` draws it. The marks are placed from the chronology itself
(``Timeline.entries()``): each takes its own place on the time axis, in the order of the
chronology (``timeline_axis``: events of one day side by side, never stacked), and links to
its line of the chronology (``#entry-<n>``, the n-th line), so that keyboard and touch users
reach what the tooltips say. The legend is drawn inside the chart (``timeline_legend``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from app.domain.handoffs import HandoffEvent
from app.models import Barrier, FollowUp, Handoff, HandoffTransition, PathwayStep, ReferenceItem
from app.services.pathways import Timeline, TimelineEntry
from app.web.labels import enum_label
from app.web.pathways.timeline_axis import Axis, Tick, fit
from app.web.pathways.timeline_legend import Legend, layout, legend_groups
from app.web.svg_text import centred_lines

Label = Callable[[ReferenceItem], str]

WIDTH = 960
LEFT = 190  # room for the lane labels
RIGHT = 16
TOP = 40  # room for the ticks' labels and the brackets of widened days
LANE = 64
LABEL_CHARS = 27  # of a lane label's line (12 px)
LABEL_LINES = 3
# Hand-off events drawn on the chart (the reminders and the follow-through notes are not).
DRAWN_EVENTS = frozenset(HandoffEvent) - {
    HandoffEvent.REMIND,
    HandoffEvent.FOLLOW_UP_ENDED,
    HandoffEvent.FOLLOW_UP_KEPT,
}


@dataclass(frozen=True)
class Lane:
    y: float
    name: str
    lines: list[tuple[float, str]]  # (baseline offset, text): the name wrapped


@dataclass(frozen=True)
class Band:
    """The time a structure followed the person, behind its lane."""

    x: float
    width: float
    y: float


@dataclass(frozen=True)
class Span:
    x: float
    width: float
    y: float
    stage: str
    label: str
    anchor: str = ""  # the id of its line in the chronology


@dataclass(frozen=True)
class Marker:
    """A barrier identified, or closed (lifted, persisting, not addressed)."""

    x: float
    y: float
    status: str
    label: str
    anchor: str = ""


@dataclass(frozen=True)
class Arrow:
    """A hand-off sent, from the sender's lane to the receiver's, coloured by its state."""

    x: float
    y1: float
    y2: float
    status: str
    label: str
    anchor: str = ""

    @property
    def tip(self) -> float:
        """y of the arrow's point: at the edge of the receiver's stage bar."""
        return self.y2 - 10 if self.y2 > self.y1 else self.y2 + 10

    @property
    def tail(self) -> float:
        return self.y1 + 10 if self.y2 > self.y1 else self.y1 - 10

    @property
    def head(self) -> str:
        """The SVG path of the arrow's head."""
        back = self.tip - 8 if self.y2 > self.y1 else self.tip + 8
        return f"M{self.x - 5},{back} L{self.x},{self.tip} L{self.x + 5},{back} Z"


@dataclass(frozen=True)
class Answer:
    """An answer to a hand-off (diamond, coloured by the state it led to) or its first
    contact (square), on the receiver's lane."""

    x: float
    y: float
    shape: str  # answer or contact
    status: str
    label: str
    anchor: str = ""


@dataclass
class Chart:
    width: int
    height: float
    plot_bottom: float
    lanes: list[Lane] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    barrier_lines: list[tuple[float, float, float]] = field(default_factory=list)  # x1, x2, y
    arrows: list[Arrow] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    widened: list[tuple[float, float]] = field(default_factory=list)  # busy days: x1, x2
    today_x: float | None = None
    start: date | None = None
    end: date | None = None
    legend: Legend | None = None

    def marks(self) -> list[Span | Marker | Arrow | Answer]:
        """Every focusable mark, left to right (the order of the chronology)."""
        found: list[Span | Marker | Arrow | Answer] = [
            *self.spans,
            *self.markers,
            *self.arrows,
            *self.answers,
        ]
        return sorted(found, key=lambda m: m.x)


def anchor(n: int) -> str:
    """The id of the n-th line (from 1) of the chronology, as ``_pathway.html`` writes it."""
    return f"entry-{n}"


def drawn(entry: TimelineEntry) -> bool:
    """Whether the entry takes a place on the time axis (the reminders and follow-through
    notes of a hand-off do not, nor the orientation decisions - the pathway type is read beside
    the chart - nor the needs no partner was found for)."""
    if entry.kind in ("decision", "no_solution"):  # in the list only
        return False
    if entry.kind != "handoff_event":
        return True
    return isinstance(entry.item, HandoffTransition) and entry.item.event in DRAWN_EVENTS


def _lanes(entries: Sequence[TimelineEntry]) -> list[str]:
    """Structure names in order of first appearance in the chronology."""
    seen: dict[str, None] = {}
    for e in entries:
        if isinstance(e.extra, Handoff):
            seen.setdefault(e.extra.from_structure.name, None)
            seen.setdefault(e.extra.to_structure.name, None)
        elif e.structure:
            seen.setdefault(e.structure, None)
    return list(seen)


def _is_open(tl: Timeline) -> bool:
    return any(f.ended_on is None for f in tl.follow_ups) or not tl.follow_ups


def _span_of_days(tl: Timeline, placed: list[tuple[int, TimelineEntry]], today: date) -> Axis:
    """The axis of the drawn entries' days (and the steps' ends), to today while a structure
    still follows the person."""
    days = [e.on for _n, e in placed] + [s.ended_on for s in tl.steps if s.ended_on]
    first, last = min(days, default=today), max(days, default=today)
    if _is_open(tl):
        first, last = min(first, today), max(last, today)
    return fit(Counter(e.on for _n, e in placed), first, last, LEFT, WIDTH - LEFT - RIGHT)


def _places(axis: Axis, placed: list[tuple[int, TimelineEntry]]) -> dict[int, float]:
    """Each drawn entry's x: the k-th of its day's events, in the chronology's order."""
    per_day = Counter(e.on for _n, e in placed)
    seen: Counter[date] = Counter()
    xs: dict[int, float] = {}
    for n, e in placed:
        xs[n] = axis.slot(e.on, seen[e.on], per_day[e.on])
        seen[e.on] += 1
    return xs


def _legend_stages(tl: Timeline, stages: Iterable[ReferenceItem]) -> list[ReferenceItem]:
    """The stages given, then any stage of the pathway they miss (deactivated since)."""
    listed = list(stages)
    codes = {item.code for item in listed}
    for step in tl.steps:
        if step.stage.code not in codes:
            listed.append(step.stage)
            codes.add(step.stage.code)
    return listed


def build_chart(
    tl: Timeline,
    today: date,
    label: Label,
    stages: Iterable[ReferenceItem] = (),
) -> Chart:
    """The chart of one person's pathway, as shapes in SVG user units. ``stages``: the stages
    the legend lists (the active ones; a stage of the pathway missing from it is added)."""
    entries = tl.entries()
    placed = [(n, e) for n, e in enumerate(entries, start=1) if drawn(e)]
    axis = _span_of_days(tl, placed, today)
    width = max(WIDTH, round(axis.right + 12 + RIGHT))
    names = _lanes(entries) or [""]
    lane_y = {name: TOP + i * LANE + LANE / 2 for i, name in enumerate(names)}
    plot_bottom = TOP + len(names) * LANE
    chart = Chart(width=width, height=0, plot_bottom=plot_bottom, start=axis.start, end=axis.end)
    chart.lanes = [
        Lane(y, name, centred_lines(name, LABEL_CHARS, 14, LABEL_LINES))
        for name, y in lane_y.items()
    ]
    chart.ticks = axis.ticks()
    busy = Counter(e.on for _n, e in placed)
    chart.widened = [(axis.at(d) + 1, axis.until(d) - 1) for d, n in busy.items() if n > 1]
    if axis.start <= today <= axis.end:
        chart.today_x = axis.until(today)
    _Drawing(chart, axis, lane_y, _places(axis, placed), today, label).draw(placed)
    groups = legend_groups(_legend_stages(tl, stages), label)
    chart.legend = layout(groups, plot_bottom + 16, LEFT, width - RIGHT)
    chart.height = round(chart.legend.top + chart.legend.height + 10)
    return chart


class _Drawing:
    """Places the marks of the chronology's entries on a chart."""

    def __init__(
        self,
        chart: Chart,
        axis: Axis,
        lane_y: dict[str, float],
        xs: dict[int, float],
        today: date,
        label: Label,
    ) -> None:
        self.chart, self.axis, self.lane_y, self.xs = chart, axis, lane_y, xs
        self.label = label
        self.now_x = axis.until(today)
        self.first_lane = next(iter(lane_y.values()))

    def draw(self, placed: list[tuple[int, TimelineEntry]]) -> None:
        by_kind: dict[str, list[tuple[int, TimelineEntry]]] = {}
        for n, e in placed:
            by_kind.setdefault(e.kind, []).append((n, e))
        ends = self._bands(by_kind)
        self._spans(by_kind.get("step", []), ends)
        self._barriers(by_kind.get("barrier", []), by_kind.get("barrier_closed", []))
        for n, e in by_kind.get("handoff_event", []):
            self._handoff_event(n, e)

    def _bands(self, by_kind: dict[str, list[tuple[int, TimelineEntry]]]) -> dict[str, float]:
        """The follow-up bands; returns where each structure's follow-up ends (x)."""
        ended = {id(e.item): self.xs[n] for n, e in by_kind.get("follow_up_end", [])}
        ends: dict[str, float] = {}
        for n, e in by_kind.get("follow_up_start", []):
            assert isinstance(e.item, FollowUp)
            left = self.xs[n] - 5
            right = ended[id(e.item)] + 5 if id(e.item) in ended else self.now_x
            y = self.lane_y[e.structure]
            self.chart.bands.append(Band(left, round(max(right - left, 2), 1), y - 26))
            ends[e.structure] = max(ends.get(e.structure, right), right)
        return ends

    def _spans(self, steps: list[tuple[int, TimelineEntry]], ends: dict[str, float]) -> None:
        """Each step lasts until it ends, or until the next step recorded by the same
        structure, and never past the end of that structure's follow-up."""
        by_structure: dict[str, list[tuple[int, TimelineEntry]]] = {}
        for n, e in steps:
            by_structure.setdefault(e.structure, []).append((n, e))
        for name, found in by_structure.items():
            for k, (n, e) in enumerate(found):
                step = e.item
                assert isinstance(step, PathwayStep)
                following = self.xs[found[k + 1][0]] if k + 1 < len(found) else self.now_x
                if step.ended_on:
                    following = min(following, self.axis.until(step.ended_on))
                left = self.xs[n]
                right = min(following, ends.get(name, self.now_x))
                stage = _("Stage: %(stage)s", stage=self.label(step.stage))
                what = f"{stage} ({name})"
                self.chart.spans.append(
                    Span(
                        left,
                        round(max(right - left, 6), 1),
                        self.lane_y[name] - 9,
                        step.stage.code,
                        f"{format_date(e.on)} · {what}",
                        anchor(n),
                    )
                )

    def _barriers(
        self, opened: list[tuple[int, TimelineEntry]], closed: list[tuple[int, TimelineEntry]]
    ) -> None:
        """A dot where a barrier was identified (in its status while it is open) and, once
        closed, a dot in its final status, joined to the first by a thin line."""
        closing = {id(e.item): (n, e) for n, e in closed}
        for n, e in opened:
            barrier = e.item
            assert isinstance(barrier, Barrier)
            y = self.lane_y.get(e.structure, self.first_lane) + 18
            category = self.label(barrier.category)
            end = closing.get(id(barrier))
            status = "identified" if end else barrier.status.value
            what = _("Barrier identified: %(category)s", category=category)
            text = f"{format_date(e.on)} · {what}"
            self.chart.markers.append(Marker(self.xs[n], y, status, text, anchor(n)))
            if end is None:
                continue
            m, closed_entry = end
            what = _(
                "Barrier %(category)s: %(status)s",
                category=category,
                status=enum_label(barrier.status),
            )
            self.chart.barrier_lines.append((self.xs[n], self.xs[m], y))
            self.chart.markers.append(
                Marker(
                    self.xs[m],
                    y,
                    barrier.status.value,
                    f"{format_date(closed_entry.on)} · {what}",
                    anchor(m),
                )
            )

    def _handoff_event(self, n: int, e: TimelineEntry) -> None:
        event, handoff = e.item, e.extra
        assert isinstance(event, HandoffTransition)
        assert isinstance(handoff, Handoff)
        sender, receiver = handoff.from_structure.name, handoff.to_structure.name
        what = _(
            "%(event)s: %(sender)s → %(receiver)s",
            event=enum_label(event.event),
            sender=sender,
            receiver=receiver,
        )
        text = f"{format_date(e.on)} · {what}"
        if event.event is HandoffEvent.SEND:
            text = f"{text} ({enum_label(handoff.status)})"
            self.chart.arrows.append(
                Arrow(
                    self.xs[n],
                    self.lane_y[sender],
                    self.lane_y[receiver],
                    handoff.status.value,
                    text,
                    anchor(n),
                )
            )
            return
        shape = "contact" if event.event is HandoffEvent.FIRST_CONTACT else "answer"
        y = self.lane_y[receiver] - 19
        self.chart.answers.append(
            Answer(self.xs[n], y, shape, event.to_status.value, text, anchor(n))
        )
