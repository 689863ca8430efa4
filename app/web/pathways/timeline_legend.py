"""The legend of the pathway chart, drawn inside the SVG (so that it prints with the chart, in
the same colours: its keys use the CSS classes of the marks they explain).

Every stage colour is listed - the active stages of the reference list, and any stage of this
pathway that is no longer active - so that the legend is the same on every pathway and a
colour never goes unexplained; then the hand-off states, the barrier statuses, the first
contact, the follow-up band, the "today" line and the bracket of a widened day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.domain.pathway import BarrierStatus
from app.models import ReferenceItem
from app.web.labels import enum_label
from app.web.svg_text import text_width

FONT = 12.0
ROW = 20.0
KEY = 16.0  # width of a key's drawing
KEY_GAP = 6.0  # between a key and its text
ITEM_GAP = 18.0  # between two items


@dataclass(frozen=True)
class Key:
    x: float  # left of the key's drawing
    y: float  # middle of the row
    shape: str  # span, band, arrow, answer, contact, dot, today, widened
    css: str  # the class that colours the marks it explains
    text: str

    @property
    def text_x(self) -> float:
        return self.x + KEY + KEY_GAP


@dataclass
class Legend:
    top: float
    height: float = 0.0
    headings: list[tuple[float, str]] = field(default_factory=list)  # (baseline y, text)
    keys: list[Key] = field(default_factory=list)


def legend_groups(
    stages: Iterable[ReferenceItem], label: Callable[[ReferenceItem], str]
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The legend's groups: a heading and its (shape, css class, text) items."""
    states = [
        ("state-sent", _("sent, accepted or in progress")),
        ("state-completed", _("completed")),
        ("state-declined", _("declined, expired or not completed")),
        ("state-withdrawn", _("withdrawn or redirected")),
    ]
    return [
        (_("Stages"), [("span", f"stage-{s.code}", label(s)) for s in stages]),
        (
            _("Hand-offs"),
            [("arrow", css, text) for css, text in states]
            + [
                ("answer", "state-neutral", _("answer, in the colour of its state")),
                ("contact", "contact", _("first contact")),
            ],
        ),
        (
            _("Barriers"),
            [("dot", f"barrier-{s.value}", enum_label(s)) for s in BarrierStatus],
        ),
        (
            _("Also"),
            [
                ("band", "band", _("followed by the structure")),
                ("today", "today", _("today")),
                ("widened", "widened", _("one day's events, in the order recorded")),
            ],
        ),
    ]


def layout(
    groups: list[tuple[str, list[tuple[str, str, str]]]],
    top: float,
    left: float,
    right: float,
) -> Legend:
    """Each group on its own rows: the heading at the left margin, the items flowing from
    ``left`` to ``right`` and onto a new row when the next one would not fit."""
    legend = Legend(top=top)
    y = top + ROW / 2
    for heading, items in groups:
        if not items:
            continue
        legend.headings.append((y + FONT / 3, heading))
        x = left
        for shape, css, text in items:
            width = KEY + KEY_GAP + text_width(text, FONT)
            if x > left and x + width > right:
                x, y = left, y + ROW
            legend.keys.append(Key(x, y, shape, css, text))
            x += width + ITEM_GAP
        y += ROW + 4
    legend.height = y - ROW / 2 - top
    return legend
