"""The chart of a structure's figures: its shares beside the network's, as SVG geometry.

Drawn by ``templates/dashboard/_partner_chart.html``; the table of the page holds the same
numbers (its text alternative). A share with too few hand-offs or people behind it gets no bar,
only the words that say so: it is never drawn as if it were known.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.statistics.partner import PartnerFigures

WIDTH = 600
LABEL_WIDTH = 230
VALUE_ROOM = 60
BAR = 16
GROUP = 2 * BAR + 30  # two bars and the indicator's name above them
TOP = 4

# The shares the chart compares (attributes of ``Figures``), in the order of the table.
SHARES = (
    "accepted_share",
    "loop_closure",
    "answered_in_time",
    "sent_accepted_share",
    "reached_training_or_employment",
    "reached_employment",
)


@dataclass(frozen=True)
class ShareBar:
    y: float
    who: str  # the structure's name, or the network's
    series: str  # "mine" or "network" (CSS class)
    value: float | None  # None: too few behind it to publish
    width: float


@dataclass(frozen=True)
class ShareGroup:
    y: float
    code: str  # the indicator (its label comes from the page's table)
    bars: tuple[ShareBar, ShareBar]


@dataclass(frozen=True)
class ShareChart:
    groups: list[ShareGroup]
    height: float
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    room: int = WIDTH - LABEL_WIDTH - VALUE_ROOM


def share_chart(figures: PartnerFigures, mine: str, network: str) -> ShareChart:
    """Two bars per share, this structure's and the network's, on the same 0-100 % scale."""
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    groups = []
    for n, code in enumerate(SHARES):
        y = TOP + n * GROUP
        values = (getattr(figures.mine, code), getattr(figures.network, code))
        bars = tuple(
            ShareBar(
                y=y + 20 + i * (BAR + 2),
                who=who,
                series=series,
                value=value,
                width=0.0 if value is None else room * value,
            )
            for i, (who, series, value) in enumerate(
                zip((mine, network), ("mine", "network"), values, strict=True)
            )
        )
        groups.append(ShareGroup(y=y, code=code, bars=(bars[0], bars[1])))
    return ShareChart(groups=groups, height=TOP * 2 + len(SHARES) * GROUP)
