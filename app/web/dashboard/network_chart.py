"""The cooperation network as a named heatmap: geometry only (drawn by the ``heatmap`` macro
of ``templates/dashboard/_charts.html``).

Rows are the sending partners, columns the receiving partners, both sorted by volume
(``app.services.statistics.network``). Each cell holds the hand-offs of the period, the
accepted share and the change from one quarter to the next. Full names are wrapped (rows) or
shortened (columns), the full name always in a title; partners that took part in a network
event of the period are marked. A hidden count is hatched, never coloured as if known.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

from app.models import Structure
from app.services.statistics.network import CooperationNetwork

CELL_WIDTH = 66.0
CELL_HEIGHT = 52.0
LEFT = 280.0  # room for the senders' names, on two lines
TOP = 150.0  # room for the receivers' names, slanted
ROW_CHARS = 30  # characters per line of a sender's name
COLUMN_CHARS = 26  # characters of a receiver's name before "…"
FOOT = 30.0  # under the grid: each receiver's accepted share


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    sender: Structure
    receiver: Structure
    value: int | None  # None: hidden
    small: bool  # a hidden value is a small count ("< k"), not a secret one
    level: int  # 0 (zero) to 5 (the largest counts); -1 hidden
    share: float | None
    change: int | None


@dataclass(frozen=True)
class HeatLabel:
    at: float  # y of a row, x of a column
    lines: tuple[str, ...]  # the name, wrapped or shortened
    name: str  # the full name
    met: bool  # took part in a network event of the period
    share: float | None = None  # a receiver's accepted share (columns only)


@dataclass(frozen=True)
class NetworkHeatmap:
    cells: list[HeatCell]
    rows: list[HeatLabel]
    columns: list[HeatLabel]
    width: float
    height: float  # the grid ends FOOT above: the receivers' shares are drawn there
    cell_width: float = CELL_WIDTH
    cell_height: float = CELL_HEIGHT
    left: float = LEFT
    top: float = TOP


def wrap(name: str, width: int = ROW_CHARS, lines: int = 2) -> tuple[str, ...]:
    """A name on at most ``lines`` lines of ``width`` characters, cut with "…" if longer."""
    found: list[str] = []
    current = ""
    for word in name.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            found.append(current)
            current = word
    found.append(current)
    if len(found) > lines:
        found = [*found[: lines - 1], " ".join(found[lines - 1 :])]
    return tuple(shorten(line, width) for line in found)


def shorten(text: str, width: int = COLUMN_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def network_heatmap(
    network: CooperationNetwork,
    met: Collection[int] = (),
    name: Callable[[Structure], str] = lambda s: s.name,
) -> NetworkHeatmap:
    """The heatmap of ``network``; ``met``: ids of the structures at a network event."""
    counts = [f.count for f in network.pairs.values() if f.count]
    biggest = max(counts, default=0)
    cells = []
    for i, sender in enumerate(network.senders):
        for j, receiver in enumerate(network.receivers):
            figures = network.cell(sender, receiver)
            value = figures.count if figures else 0
            if value is None:
                level = -1
            elif value == 0 or not biggest:
                level = 0
            else:
                level = max(1, math.ceil(5 * value / biggest))
            cells.append(
                HeatCell(
                    x=LEFT + j * CELL_WIDTH,
                    y=TOP + i * CELL_HEIGHT,
                    sender=sender,
                    receiver=receiver,
                    value=value,
                    small=figures.small if figures else True,
                    level=level,
                    share=figures.accepted_share if figures else None,
                    change=figures.change if figures else None,
                )
            )
    rows = [
        HeatLabel(TOP + i * CELL_HEIGHT, wrap(name(s)), name(s), s.id in met)
        for i, s in enumerate(network.senders)
    ]
    columns = [
        HeatLabel(
            LEFT + j * CELL_WIDTH,
            (shorten(name(s)),),
            name(s),
            s.id in met,
            network.receiver_shares.get(s.id),
        )
        for j, s in enumerate(network.receivers)
    ]
    return NetworkHeatmap(
        cells=cells,
        rows=rows,
        columns=columns,
        width=LEFT + len(columns) * CELL_WIDTH + 150,  # the last names slant to the right
        height=TOP + len(rows) * CELL_HEIGHT + FOOT,
    )
