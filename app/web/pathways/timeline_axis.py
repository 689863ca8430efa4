"""The time axis of the pathway chart: fitted to the data, and piecewise so that the events of
one day never pile up.

Every day of the pathway gets a cell on the axis. A day with events gets at least ``GAP``
units per event, its events placed side by side in their recorded order (``slot``); the
other days share the rest of the room evenly. A pathway of one day with six events is thus
six marks ``GAP`` apart; a pathway of two years keeps its months roughly even, with its busy
days a little wider. When the events need more room than the chart has, the chart grows
(the page scales it down) rather than letting marks overlap.

Ticks follow the length of the pathway: days up to a month, weeks up to four months, months
up to two years, quarters beyond.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

GAP = 18.0  # units between two events of the chart (wider than any mark)
PAD = 12.0  # units before the first day and after the last one
LABEL_ROOM = 48.0  # units a tick's label needs before the next one

DAY, WEEK, MONTH, QUARTER = "day", "week", "month", "quarter"


@dataclass(frozen=True)
class Tick:
    x: float
    label: date
    unit: str  # DAY, WEEK, MONTH or QUARTER: how the label is written
    labelled: bool = True  # False: a grid line only (its label would touch the previous one)


@dataclass(frozen=True)
class Axis:
    start: date  # the first day drawn
    left: float  # x of the start of ``start``
    widths: tuple[float, ...]  # of each day from ``start``
    offsets: tuple[float, ...] = ()  # x of the start of each day, and of the end of the last

    def __post_init__(self) -> None:
        starts = (self.left, *(self.left + w for w in accumulate(self.widths)))
        object.__setattr__(self, "offsets", starts)

    @property
    def end(self) -> date:
        """The last day drawn."""
        return self.start + timedelta(days=len(self.widths) - 1)

    @property
    def right(self) -> float:
        """x of the end of the last day."""
        return self.offsets[-1]

    def at(self, day: date) -> float:
        """x of the start of ``day`` (days outside the axis are held at its ends)."""
        n = min(max((day - self.start).days, 0), len(self.widths))
        return round(self.offsets[n], 1)

    def until(self, day: date) -> float:
        """x of the end of ``day``."""
        n = min(max((day - self.start).days + 1, 0), len(self.widths))
        return round(self.offsets[n], 1)

    def slot(self, day: date, index: int, count: int) -> float:
        """x of the ``index``-th of ``count`` events of ``day``, in the middle of its share."""
        n = (day - self.start).days
        width = self.widths[n] if 0 <= n < len(self.widths) else 0.0
        return round(self.at(day) + (index + 0.5) * width / max(count, 1), 1)

    def ticks(self) -> list[Tick]:
        """Ticks of the unit that suits the length drawn; a label too close to the previous
        one (or to the right end) is left out, its grid line kept."""
        unit = tick_unit((self.end - self.start).days + 1)
        ticks: list[Tick] = []
        last_label = -LABEL_ROOM
        for day in _tick_days(self.start, self.end, unit):
            x = self.at(day)
            labelled = x - last_label >= LABEL_ROOM and x + LABEL_ROOM <= self.right + PAD
            if labelled:
                last_label = x
            ticks.append(Tick(x, day, unit, labelled))
        return ticks


def fit(needs: Mapping[date, int], first: date, last: date, left: float, room: float) -> Axis:
    """The axis from ``first`` to ``last`` (plus a margin of a few percent of the length)
    over ``room`` units from ``left``; ``needs`` gives the number of events of each busy day."""
    margin = timedelta(days=round((last - first).days * 0.03))
    start, end = first - margin, last + margin
    days = (end - start).days + 1
    wanted = [needs.get(start + timedelta(days=n), 0) * GAP for n in range(days)]
    usable = room - 2 * PAD
    return Axis(start=start, left=left + PAD, widths=tuple(_widths(wanted, usable)))


def _widths(wanted: list[float], room: float) -> list[float]:
    """Each day's width: its wanted width, or an even share of what the busy days leave,
    whichever is larger; the widths add up to ``room`` unless the busy days alone need more
    (then each day gets what it wants, and the quiet days share a quarter of ``room``: a
    pathway over years keeps its letters, where a unit a day drew 3.5 years at 60 % of their
    size and 26 years as a strip)."""
    busy = sum(wanted)
    if busy >= room:
        quiet = sum(1 for w in wanted if not w)
        sliver = min(1.0, room / 4 / max(quiet, 1))
        return [w or sliver for w in wanted]
    low, high = 0.0, room
    for _ in range(50):  # the even share, by bisection: sum(max(share, w)) == room
        share = (low + high) / 2
        if sum(max(share, w) for w in wanted) > room:
            high = share
        else:
            low = share
    return [max(low, w) for w in wanted]


def tick_unit(days: int) -> str:
    if days <= 31:
        return DAY
    if days <= 120:
        return WEEK
    if days <= 730:
        return MONTH
    return QUARTER


def _tick_days(start: date, end: date, unit: str) -> list[date]:
    if unit == DAY:
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if unit == WEEK:
        monday = start + timedelta(days=(7 - start.weekday()) % 7)
        return [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]
    step = 1 if unit == MONTH else 3
    first_month = (start.month - 1) // step * step  # 0-based month of the period holding start
    current = date(start.year, first_month + 1, 1)
    found = []
    while current <= end:
        if current >= start:
            found.append(current)
        month = current.month - 1 + step
        current = date(current.year + month // 12, month % 12 + 1, 1)
    return found
