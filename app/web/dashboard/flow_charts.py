"""Geometry of the stage-flow Sankey and of the cohort-outcome bars (drawn by
``templates/dashboard/_flows.html``).

The Sankey puts one node per stage in columns, in the order of the stages (their position in
the reference list), then a column of the two ends (still there, lost from view). A link goes
from the stage people left to the stage they went to, as wide as the published count; a link
back to an earlier stage loops under the nodes. A hidden count (``None``) is never drawn at a
width: it is a thin dashed line of fixed width labelled "< k" (or "secret"), so the reader
sees that some people went that way, not how many.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.models import ReferenceItem
from app.services.statistics.cohorts import HORIZONS, CohortOutcomes, Reach
from app.services.statistics.flows import FlowEnd
from app.services.statistics.headings import Label
from app.services.statistics.tables import CountTable
from app.web.svg_text import wrap

Name = Callable[[Label], str]

LEFT, TOP, NODE_WIDTH, TALLEST, GAP = 8.0, 86.0, 14.0, 220.0, 40.0
END_ROOM = 170.0  # room on the right of the end nodes for their labels
HIDDEN_WIDTH = 1.5


@dataclass(frozen=True)
class FlowNode:
    x: float
    y: float
    height: float
    code: str  # a stage code, or an end ("stayed", "lost")
    label: str
    value: int  # the published people through the node (what its height shows)
    end: bool  # an end node (labels on its right)
    lines: tuple[str, ...] = ()  # the label wrapped to the room it has


@dataclass(frozen=True)
class FlowLink:
    path: str
    width: float
    code: str  # the stage people left (its colour)
    label: str  # "Orientation → Training: 12"
    value: int | None  # None: hidden
    small: bool  # a hidden value is a small count ("< k"), not a secret one
    back: bool  # to an earlier stage


@dataclass(frozen=True)
class Sankey:
    nodes: list[FlowNode]
    links: list[FlowLink]
    width: float
    height: float
    hidden: int  # links hidden in the publication view

    @property
    def empty(self) -> bool:
        return not self.links


def _total(total: int | None, values: Sequence[int | None]) -> int:
    return total if total is not None else sum(v for v in values if v)


def sankey(table: CountTable, name: Name) -> Sankey:
    """The flow chart of the ``stage-flows`` table (rows: stages left; columns: stages went
    to, then the ends)."""
    stages = list(table.rows)
    n = len(stages)
    cells = table.published.cells
    width = max(720.0, LEFT + n * 125.0 + END_ROOM)
    step = (width - LEFT - END_ROOM) / max(n, 1)
    # A node is as tall as the larger of its published inflow and outflow.
    # A total is used when published, else the sum of the published values it adds up.
    columns = table.published.column_totals
    inflow = [_total(columns[j], [cells[i][j] for i in range(n)]) for j in range(n)]
    outflow = [_total(table.published.row_totals[i], cells[i]) for i in range(n)]
    ends = [
        _total(columns[n + e], [cells[i][n + e] for i in range(n)]) for e in range(len(FlowEnd))
    ]
    biggest = max([*inflow, *outflow, sum(ends)], default=0) or 1
    scale = TALLEST / biggest
    nodes: list[FlowNode] = []
    for i, stage in enumerate(stages):
        through = max(inflow[i], outflow[i])
        nodes.append(_node(LEFT + i * step, TOP, through, scale, stage, name, end=False))
    y = TOP
    for e, end in enumerate(FlowEnd):
        nodes.append(_node(LEFT + n * step, y, ends[e], scale, end, name, end=True))
        y += max(ends[e] * scale, 2.0) + GAP
    links, bottom = _links(table, nodes, scale)
    height = max(bottom, y, TOP + TALLEST) + 12.0
    hidden = sum(1 for link in links if link.value is None)
    return Sankey(nodes=nodes, links=links, width=width, height=height, hidden=hidden)


def _links(table: CountTable, nodes: list[FlowNode], scale: float) -> tuple[list[FlowLink], float]:
    """The bands of the published cells, stacked on each node's sides in table order; the
    bands back to an earlier stage each get a lane under the nodes. Returns them and the
    lowest lane."""
    n = len(table.rows)
    out_offset = [0.0] * len(nodes)
    in_offset = [0.0] * len(nodes)
    links: list[FlowLink] = []
    lane_top = TOP + TALLEST + 24.0
    for i, row in enumerate(table.published.cells):
        for j, value in enumerate(row):
            if value == 0:
                continue
            source, target = nodes[i], nodes[j]
            w = value * scale if value else 0.0
            y0 = source.y + out_offset[i] + w / 2
            y1 = target.y + in_offset[j] + w / 2
            out_offset[i] += w
            in_offset[j] += w
            x0, x1 = source.x + NODE_WIDTH, target.x
            back = j < n and j <= i
            if back:
                thick = max(w, HIDDEN_WIDTH)
                path = _loop(x0, y0, x1, y1, lane_top + thick / 2)
                lane_top += thick + 6.0
            else:
                middle = (x0 + x1) / 2
                path = (
                    f"M{x0:.1f},{y0:.1f} C{middle:.1f},{y0:.1f} {middle:.1f},{y1:.1f}"
                    f" {x1:.1f},{y1:.1f}"
                )
            shown = "" if value is None else f": {value}"
            links.append(
                FlowLink(
                    path=path,
                    width=max(w, 1.0) if value is not None else HIDDEN_WIDTH,
                    code=source.code,
                    label=f"{source.label} → {target.label}{shown}",
                    value=value,
                    small=table.published.is_small(i, j),
                    back=back,
                )
            )
    return links, lane_top


def _node(
    x: float, y: float, value: int, scale: float, item: Label, name: Name, *, end: bool
) -> FlowNode:
    code = item.code if isinstance(item, ReferenceItem) else str(item)
    label = name(item)
    return FlowNode(
        x=x,
        y=y,
        height=max(value * scale, 2.0),
        code=code,
        label=label,
        value=value,
        end=end,
        lines=tuple(wrap(label, 22 if end else 16, 4)),
    )


def _loop(x0: float, y0: float, x1: float, y1: float, lane: float) -> str:
    """Back to an earlier stage: out to the right, down under the nodes, back left, up in."""
    return (
        f"M{x0:.1f},{y0:.1f} C{x0 + 40:.1f},{y0:.1f} {x0 + 40:.1f},{lane:.1f} {x0:.1f},{lane:.1f}"
        f" L{x1:.1f},{lane:.1f} C{x1 - 40:.1f},{lane:.1f} {x1 - 40:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
    )


# --- cohort outcomes: one small multiple per outcome, a group of three bars per quarter ------


@dataclass(frozen=True)
class OutcomeBar:
    x: float
    height: float
    horizon: int  # months
    reach: Reach
    label: str


@dataclass(frozen=True)
class OutcomePanel:
    title: str
    bars: list[OutcomeBar]
    quarters: list[tuple[float, str]]  # (x of the group's middle, quarter name)


@dataclass(frozen=True)
class OutcomeChart:
    panels: list[OutcomePanel]
    width: float
    height: float  # of each panel
    top: float
    plot: float  # height of the plot area (100 %)
    ticks: list[tuple[float, float]]  # (y, share)


def outcome_chart(
    outcomes: CohortOutcomes, titles: tuple[str, str], quarter_name: Name
) -> OutcomeChart:
    """Shares of the entrants of each quarter who reached training (first panel) and
    employment (second) within 3, 6 and 12 months. A bar is drawn only for a published share;
    "not yet" and hidden shares are written, not drawn."""
    top, plot, bar, left = 12.0, 140.0, 16.0, 44.0
    group = len(HORIZONS) * bar + 18.0
    width = max(600.0, left + len(outcomes.rows) * group + 10)
    panels = []
    for title, pick in zip(titles, ("training", "employment"), strict=True):
        bars, quarters = [], []
        for q, row in enumerate(outcomes.rows):
            x = left + q * group
            quarters.append((x + len(HORIZONS) * bar / 2, quarter_name(row.quarter)))
            for h, reach in enumerate(getattr(row, pick)):
                share = reach.share or 0.0
                bars.append(
                    OutcomeBar(
                        x=x + h * bar,
                        height=plot * share,
                        horizon=HORIZONS[h],
                        reach=reach,
                        label=quarter_name(row.quarter),
                    )
                )
        panels.append(OutcomePanel(title=title, bars=bars, quarters=quarters))
    ticks = [(top + plot * (1 - f), f) for f in (0.0, 0.5, 1.0)]
    return OutcomeChart(
        panels=panels, width=width, height=top + plot + 40, top=top, plot=plot, ticks=ticks
    )
