"""The cooperation network section: partners linked by their hand-offs, both ways, for the
whole period and quarter by quarter.

A link of the whole period is the sum of two cells of the hand-off matrix (A to B and B to A),
published with it: it is drawn only when both cells are published, so that it tells nothing
the matrix does not (a link of 25 next to a published 20 would give away a hidden 5). The
links of each quarter split those sums by quarter, which the protected tables do not publish:
they are drawn in the exact view only (``by_quarter``), where nothing is hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.periods import Quarter
from app.models import Structure
from app.services.statistics.handoffs import Pair
from app.services.statistics.tables import CountTable


@dataclass(frozen=True)
class Link:
    """Hand-offs between two partners, both ways, in one quarter."""

    first: Structure
    second: Structure
    weight: int


@dataclass
class NetworkQuarter:
    quarter: Quarter | None  # None for the whole period
    links: list[Link] = field(default_factory=list)
    hidden_links: int = 0  # pairs with hand-offs whose number is hidden

    @property
    def partners(self) -> list[Structure]:
        seen: dict[int, Structure] = {}
        for link in self.links:
            seen.setdefault(link.first.id, link.first)
            seen.setdefault(link.second.id, link.second)
        return sorted(seen.values(), key=lambda s: s.code)


@dataclass(frozen=True)
class CooperationNetwork:
    quarters: list[NetworkQuarter]  # one per quarter of the period, in order
    whole: NetworkQuarter  # the whole period


def cooperation_network(
    pairs: Mapping[Quarter, Mapping[Pair, int]],
    quarters: Sequence[Quarter],
    structures: Mapping[int, Structure],
    matrix: CountTable,
    *,
    by_quarter: bool,
) -> CooperationNetwork:
    """The network of the whole period (the links the published ``matrix`` gives), and of
    each quarter of the period when ``by_quarter`` (the exact view)."""
    whole: dict[Pair, int] = defaultdict(int)
    for quarter_pairs in pairs.values():
        for pair, count in quarter_pairs.items():
            whole[pair] += count
    published = _published_cells(matrix)
    network = NetworkQuarter(quarter=None)
    for pair in sorted(whole):
        first, second = structures[pair[0]], structures[pair[1]]
        if published(first, second) and published(second, first):
            network.links.append(Link(first, second, whole[pair]))
        else:
            network.hidden_links += 1
    return CooperationNetwork(
        quarters=[_all_links(q, pairs.get(q, {}), structures) for q in quarters]
        if by_quarter
        else [],
        whole=network,
    )


def _published_cells(matrix: CountTable) -> Callable[[Structure, Structure], bool]:
    """Whether the matrix publishes the hand-offs from one partner to another (a partner
    that sent or received nothing has no row or column: its zero is known)."""
    rows = {label: i for i, label in enumerate(matrix.rows)}
    columns = {label: j for j, label in enumerate(matrix.columns)}

    def published(sender: Structure, receiver: Structure) -> bool:
        if sender not in rows or receiver not in columns:
            return True
        return matrix.published.cells[rows[sender]][columns[receiver]] is not None

    return published


def _all_links(
    quarter: Quarter, pairs: Mapping[Pair, int], structures: Mapping[int, Structure]
) -> NetworkQuarter:
    result = NetworkQuarter(quarter=quarter)
    for pair in sorted(pairs):
        result.links.append(Link(structures[pair[0]], structures[pair[1]], pairs[pair]))
    return result
