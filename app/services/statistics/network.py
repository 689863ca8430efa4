"""The cooperation network: who hands people to whom, the accepted share, and how each pair
changed from one quarter to the next.

The counts of the period are the cells of the published hand-off matrix (``handoff-matrix``,
protected with the other hand-off tables). The accepted share is the share of the *answered*
hand-offs (accepted, in progress, closed with an outcome, declined or redirected) that were
accepted (accepted or later). The change compares the last full quarter of the period with
the one before.

In the publication view a pair shows its published count only: its accepted share and its
change by quarter would split what the tables publish into counts they do not (the pair's
hand-offs by state or by quarter), and the exact property test found such splits giving
hidden counts away (``docs/statistics.md``). Each *receiving partner* gets its accepted share
there from the published "handoffs-by-receiver" table (shown when its four counts are
published and at least k hand-offs were answered: it then tells nothing the table does not).

Senders and receivers are sorted by volume (their published totals, largest first; hidden
totals last, so that the order tells nothing about them), then by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.domain.disclosure import statistic_is_safe
from app.domain.periods import Quarter
from app.models import Structure
from app.services.statistics.handoffs import HandoffCounts, Pair
from app.services.statistics.headings import HandoffGroup
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountTable


@dataclass(frozen=True)
class PairFigures:
    """One cell of the network: hand-offs from ``sender`` to ``receiver`` over the period."""

    count: int | None  # None: hidden
    small: bool  # a hidden count is a small one ("< k"), not a secret one
    accepted_share: float | None  # None: nothing answered, or fewer than k answered
    change: int | None  # last full quarter minus the one before (None: unknown or hidden)


@dataclass(frozen=True)
class CooperationNetwork:
    senders: tuple[Structure, ...]  # by volume
    receivers: tuple[Structure, ...]  # by volume
    pairs: Mapping[Pair, PairFigures]  # (sender id, receiver id)
    receiver_shares: Mapping[int, float | None]  # accepted share by receiving partner (id)
    last: Quarter | None  # the last full quarter of the period
    previous: Quarter | None  # the quarter before it

    def cell(self, sender: Structure, receiver: Structure) -> PairFigures | None:
        return self.pairs.get((sender.id, receiver.id))


def full_quarters(scope: Scope) -> list[Quarter]:
    """The quarters wholly inside the period."""
    return [q for q in scope.quarters() if scope.start <= q.starts_on and q.ends_on <= scope.end]


def previous_quarter(quarter: Quarter) -> Quarter:
    if quarter.number == 1:
        return Quarter(quarter.year - 1, 4)
    return Quarter(quarter.year, quarter.number - 1)


def cooperation_network(
    counts: HandoffCounts,
    matrix: CountTable,
    by_receiver: CountTable,
    scope: Scope,
    k: int,
) -> CooperationNetwork:
    """The network of the period from the raw ``counts`` and the published ``matrix`` and
    ``by_receiver`` tables; with ``k`` above 1 (the publication view), no pair's share or
    change."""
    last, previous = _compared(scope)
    published = matrix.published
    rows = {s.id: i for i, s in enumerate(matrix.rows) if isinstance(s, Structure)}
    columns = {s.id: j for j, s in enumerate(matrix.columns) if isinstance(s, Structure)}
    exact = k == 1
    pairs = {
        (sender, receiver): PairFigures(
            count=published.cells[i][j],
            small=published.is_small(i, j),
            accepted_share=_accepted_share(counts, (sender, receiver)) if exact else None,
            change=_change(counts, (sender, receiver), previous, last) if exact else None,
        )
        for sender, i in rows.items()
        for receiver, j in columns.items()
        if published.cells[i][j] != 0
    }
    return CooperationNetwork(
        senders=_by_volume(matrix.rows, published.row_totals),
        receivers=_by_volume(matrix.columns, published.column_totals),
        pairs=pairs,
        receiver_shares={
            r.id: _receiver_share(by_receiver, r, k)
            for r in by_receiver.rows
            if isinstance(r, Structure)
        },
        last=last,
        previous=previous,
    )


def _compared(scope: Scope) -> tuple[Quarter | None, Quarter | None]:
    """The last full quarter of the period and the one before (None, None without two)."""
    full = full_quarters(scope)
    if not full or previous_quarter(full[-1]) not in full:
        return None, None
    return full[-1], previous_quarter(full[-1])


def _accepted_share(counts: HandoffCounts, pair: Pair) -> float | None:
    accepted, answered = counts.answers.get(pair, (0, 0))
    return accepted / answered if answered else None


def _change(
    counts: HandoffCounts, pair: Pair, previous: Quarter | None, last: Quarter | None
) -> int | None:
    if previous is None or last is None:
        return None
    return counts.by_pair.get((pair, last), 0) - counts.by_pair.get((pair, previous), 0)


def _receiver_share(table: CountTable, receiver: Structure, k: int) -> float | None:
    """Accepted of answered, from the published counts of the receiver's row."""
    accepted = [table.cell(receiver, g) for g in (HandoffGroup.ACCEPTED, HandoffGroup.OUTCOME)]
    refused = [table.cell(receiver, g) for g in (HandoffGroup.DECLINED, HandoffGroup.REDIRECTED)]
    if any(v is None for v in (*accepted, *refused)):
        return None
    taken = sum(v or 0 for v in accepted)
    answered = taken + sum(v or 0 for v in refused)
    if not answered or not statistic_is_safe(answered, k):
        return None
    return taken / answered


def _by_volume(labels: Sequence[object], totals: Sequence[int | None]) -> tuple[Structure, ...]:
    found = [(s, t) for s, t in zip(labels, totals, strict=True) if isinstance(s, Structure)]
    found.sort(key=lambda x: (x[1] is None, -(x[1] or 0), x[0].name))
    return tuple(s for s, _t in found)
