"""The cooperation network: who hands people to whom, the accepted share of each pair, and
how each pair changed from one quarter to the next.

The counts of the period are the cells of the published hand-off matrix (``handoff-matrix``,
protected with the other hand-off tables). The accepted share of a pair is the share of its
*answered* hand-offs (accepted, in progress, closed with an outcome, declined or redirected)
that were accepted (accepted or later); it is shown only with at least k answered hand-offs
behind it. The change compares the last full quarter of the period with the one before: in
the publication view it comes from the protected split of the published pairs by quarter
(``app.domain.disclosure_splits``), and is shown only where both quarters are published.

Senders and receivers are sorted by volume (their published totals, largest first; hidden
totals last, so that the order tells nothing about them), then by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.domain.disclosure import statistic_is_safe
from app.domain.disclosure_splits import Split, split_table
from app.domain.periods import Quarter
from app.models import Structure
from app.services.statistics.handoffs import HandoffCounts, Pair
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
    last: Quarter | None  # the last full quarter of the period
    previous: Quarter | None  # the quarter before it
    split: Split[Pair, Quarter] | None  # the published split (publication view)

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
    by_quarter: CountTable,
    scope: Scope,
    k: int,
) -> CooperationNetwork:
    """The network of the period from the raw ``counts`` and the published ``matrix``;
    ``by_quarter`` is the published table of the hand-offs by quarter (whose totals decide
    which quarters may be split)."""
    last, previous = _compared(scope)
    published = matrix.published
    rows = {s.id: i for i, s in enumerate(matrix.rows) if isinstance(s, Structure)}
    columns = {s.id: j for j, s in enumerate(matrix.columns) if isinstance(s, Structure)}
    pair_totals = {
        (sender, receiver): published.cells[i][j]
        for sender, i in rows.items()
        for receiver, j in columns.items()
    }
    split = None
    if last is not None and previous is not None:
        quarter_totals: dict[Quarter, int | None] = {
            q: by_quarter.row_total(q) for q in by_quarter.rows if isinstance(q, Quarter)
        }
        split = split_table(counts.by_pair, pair_totals, quarter_totals, [previous, last], k)
    pairs = {
        pair: PairFigures(
            count=total,
            small=published.is_small(rows[pair[0]], columns[pair[1]]),
            accepted_share=_accepted_share(counts, pair, total, k),
            change=_change(split, pair, previous, last),
        )
        for pair, total in pair_totals.items()
        if total != 0
    }
    return CooperationNetwork(
        senders=_by_volume(matrix.rows, published.row_totals),
        receivers=_by_volume(matrix.columns, published.column_totals),
        pairs=pairs,
        last=last,
        previous=previous,
        split=split,
    )


def _compared(scope: Scope) -> tuple[Quarter | None, Quarter | None]:
    """The last full quarter of the period and the one before (None, None without two)."""
    full = full_quarters(scope)
    if not full or previous_quarter(full[-1]) not in full:
        return None, None
    return full[-1], previous_quarter(full[-1])


def _accepted_share(counts: HandoffCounts, pair: Pair, total: int | None, k: int) -> float | None:
    """Accepted of answered, for a published pair with at least k answered hand-offs."""
    accepted, answered = counts.answers.get(pair, (0, 0))
    if total is None or not answered or not statistic_is_safe(answered, k):
        return None
    return accepted / answered


def _change(
    split: Split[Pair, Quarter] | None, pair: Pair, previous: Quarter | None, last: Quarter | None
) -> int | None:
    if split is None or previous is None or last is None:
        return None
    before, after = split.cell(pair, previous), split.cell(pair, last)
    if before is None or after is None:
        return None
    return after - before


def _by_volume(labels: Sequence[object], totals: Sequence[int | None]) -> tuple[Structure, ...]:
    found = [(s, t) for s, t in zip(labels, totals, strict=True) if isinstance(s, Structure)]
    found.sort(key=lambda x: (x[1] is None, -(x[1] or 0), x[0].name))
    return tuple(s for s, _t in found)
