"""The cooperation network section: partners linked by their hand-offs, both ways, for the
whole period and quarter by quarter.

The links of a period or a quarter are protected as a list whose total (its hand-offs) is
published: a link with fewer than k hand-offs is left out, and a second one where needed, so
that a hidden link cannot be recomputed from the others and the total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.disclosure import protect
from app.domain.periods import Quarter
from app.models import Structure
from app.services.statistics.handoffs import Pair


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
    k: int,
) -> CooperationNetwork:
    """The network of each quarter of the period, and of the whole period."""
    whole: dict[Pair, int] = defaultdict(int)
    for quarter_pairs in pairs.values():
        for pair, count in quarter_pairs.items():
            whole[pair] += count
    return CooperationNetwork(
        quarters=[network_quarter(q, pairs.get(q, {}), structures, k) for q in quarters],
        whole=network_quarter(None, whole, structures, k),
    )


def network_quarter(
    quarter: Quarter | None,
    pairs: Mapping[Pair, int],
    structures: Mapping[int, Structure],
    k: int,
) -> NetworkQuarter:
    """The links of a quarter (or of the whole period), protected as a list with its total."""
    result = NetworkQuarter(quarter=quarter)
    if not pairs:
        return result
    ordered = sorted(pairs)
    published = protect([[pairs[pair]] for pair in ordered], k)
    for pair, row in zip(ordered, published.cells, strict=True):
        if row[0] is None:
            result.hidden_links += 1
        else:
            result.links.append(Link(structures[pair[0]], structures[pair[1]], row[0]))
    return result
