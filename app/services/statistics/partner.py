"""A partner structure's own figures against the network's (issue 14, item 5).

Shown to the structure's caseworkers, so always in the publication view: every count goes
through the small-count protection with the threshold k (``app/domain/disclosure.py``), every
median and share needs k hand-offs or people behind it. There is no exact view here.

The tables published together (``PartnerFigures.tables``):

- ``received``: hand-offs sent in the period, by receiver (this structure, the rest of the
  network) and what became of them; its total line is the network's;
- ``answered_in_time``: the same hand-offs by receiver and whether they were answered within
  ten days (its row totals are ``received``'s, shared);
- ``sent`` and ``network_sent``: the hand-offs this structure sent (all the network's), by
  decline reason (one row for every hand-off without one) and what became of them; the
  column totals of ``network_sent`` are those of ``received`` (shared: every hand-off of the
  network has a sender and a receiver in it);
- ``followed``: the people followed during the period by this structure, or only by other
  ones, by the furthest stage they started in the period.

The shares are worked out from published counts only (never from hidden ones), so that a share
cannot give a hidden count away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.models import ReferenceItem, ReferenceKind, Structure
from app.services.statistics import partner_queries as pq
from app.services.statistics.headings import GROUP_OF_CODE, HandoffGroup, Label, Metric
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Median,
    Shared,
    TableSpec,
    histogram_median,
    items_in_use,
    protected_median,
    protected_tables,
)


class Side(StrEnum):
    """The rows of the comparison: this structure, and the rest of the network."""

    THIS_STRUCTURE = "this_structure"
    REST_OF_NETWORK = "rest_of_network"


class InTime(StrEnum):
    """Whether a hand-off was answered within ten days of sending."""

    WITHIN = "within_10_days"
    LATE = "late_or_never"  # answered after ten days, or never
    NOT_DUE = "not_due"  # not answered: withdrawn, or sent less than ten days ago


class Furthest(StrEnum):
    """The furthest stage a person followed started in the period."""

    EMPLOYMENT = "employment"
    TRAINING = "training"  # training, not employment
    NEITHER = "neither"


class NoReason(StrEnum):
    """The row of the sent hand-offs without a decline reason (every one not declined)."""

    NONE = "no_decline_reason"


IN_TIME_OF_CLASS = {pq.WITHIN: InTime.WITHIN, pq.LATE: InTime.LATE, pq.NOT_DUE: InTime.NOT_DUE}
FURTHEST_OF_CODE = {
    pq.REACHED_EMPLOYMENT: Furthest.EMPLOYMENT,
    pq.REACHED_TRAINING: Furthest.TRAINING,
    0: Furthest.NEITHER,
}
SIDES = tuple(Side)
GROUPS = tuple(HandoffGroup)


@dataclass(frozen=True)
class Figures:
    """One column of the comparison: this structure's figures, or the network's (None:
    hidden, or too few hand-offs or people behind it)."""

    received: int | None
    accepted_share: float | None  # of the answered hand-offs received, the accepted ones
    to_answer: float | None  # median days
    to_first_contact: float | None  # median days
    loop_closure: float | None  # of the accepted hand-offs, those with an outcome
    answered_in_time: float | None  # of the hand-offs due, those answered within ten days
    sent: int | None
    sent_accepted_share: float | None  # of the answered hand-offs sent, the accepted ones
    sent_declined: int | None
    followed: int | None  # people followed during the period
    reached_employment: float | None  # share of the people followed
    reached_training_or_employment: float | None
    # The counts above hidden as small counts (1 to k-1), by name; a hidden count not named
    # here is a secondary suppression ("secret").
    small: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReasonLine:
    """A decline reason: the hand-offs of this structure and of the network declined for it."""

    reason: ReferenceItem
    mine: int | None
    network: int | None
    mine_small: bool  # hidden as a small count (1 to k-1), not as a secondary suppression
    network_small: bool


@dataclass(frozen=True)
class PartnerFigures:
    structure: Structure
    scope: Scope
    k: int
    received: CountTable
    answered_in_time: CountTable
    sent: CountTable
    network_sent: CountTable
    followed: CountTable
    mine: Figures
    network: Figures
    reasons: list[ReasonLine]  # by this structure's declines, the published ones first

    def tables(self) -> list[CountTable]:
        return [self.received, self.answered_in_time, self.sent, self.network_sent, self.followed]


def partner_figures(
    session: Session, structure: Structure, scope: Scope, *, k: int, today: date
) -> PartnerFigures:
    """The figures of ``structure`` and of the network over the scope's period, protected
    with the threshold ``k`` (the publication view's: this page leaves the coordination)."""
    reasons = _items(session, ReferenceKind.DECLINE_REASON)
    received, sent, network_sent, in_time = _handoff_counts(
        session, structure, scope, reasons, today
    )
    reason_rows = (NoReason.NONE, *items_in_use(reasons, network_sent))
    tables = protected_tables(
        [
            TableSpec("partner-received", SIDES, GROUPS, received),
            TableSpec("partner-answered-in-time", SIDES, tuple(InTime), in_time),
            TableSpec("partner-sent", reason_rows, GROUPS, sent),
            TableSpec("partner-network-sent", reason_rows, GROUPS, network_sent),
        ],
        [Shared(0, "rows", 1, "rows"), Shared(0, "columns", 3, "columns")],
        k,
    )
    received_t, in_time_t, sent_t, network_sent_t = tables
    (followed_t,) = protected_tables(
        [
            TableSpec(
                "partner-followed",
                SIDES,
                tuple(Furthest),
                _followed_counts(session, structure, scope),
            )
        ],
        (),
        k,
    )
    days: dict[tuple[int, bool], list[tuple[float, int]]] = defaultdict(list)
    for metric, here, taken, n in session.execute(pq.delay_days_query(scope, structure.id)):
        days[(metric, True)].append((taken, n))  # the network's: every receiver
        if here:
            days[(metric, False)].append((taken, n))

    def medians(network: bool) -> tuple[Median, Median]:
        return (
            protected_median(Metric.TO_ANSWER, histogram_median(days[(pq.TO_ANSWER, network)]), k),
            protected_median(
                Metric.TO_FIRST_CONTACT, histogram_median(days[(pq.TO_FIRST_CONTACT, network)]), k
            ),
        )

    mine = _figures(
        k, _row(received_t, 0), _row(in_time_t, 0), _totals(sent_t), _row(followed_t, 0),
        medians(False), _small(received_t, sent_t, followed_t, 0),
    )  # fmt: skip
    network = _figures(
        k, _totals(received_t), _totals(in_time_t), _totals(network_sent_t),
        _totals(followed_t), medians(True),
        _small(received_t, network_sent_t, followed_t, None),
    )  # fmt: skip
    return PartnerFigures(
        structure=structure,
        scope=scope,
        k=k,
        received=received_t,
        answered_in_time=in_time_t,
        sent=sent_t,
        network_sent=network_sent_t,
        followed=followed_t,
        mine=mine,
        network=network,
        reasons=_reason_lines(sent_t, network_sent_t),
    )


def _items(session: Session, kind: ReferenceKind) -> list[ReferenceItem]:
    return list(
        session.scalars(
            select(ReferenceItem)
            .where(ReferenceItem.kind == kind)
            .order_by(ReferenceItem.position, ReferenceItem.code)
        )
    )


def _handoff_counts(
    session: Session,
    structure: Structure,
    scope: Scope,
    reasons: Sequence[ReferenceItem],
    today: date,
) -> tuple[Counts, Counts, Counts, Counts]:
    """Raw counts of the hand-offs of the period, in one pass: by receiver side and state; sent
    by this structure, and by anyone, by decline reason and state; by receiver side and
    whether they were answered in time."""
    reason_of = {item.id: item for item in reasons}
    received: Counts = defaultdict(int)
    sent: Counts = defaultdict(int)
    network_sent: Counts = defaultdict(int)
    in_time: Counts = defaultdict(int)
    query = pq.handoff_counts_query(scope, structure.id, today)
    for here, from_here, code, reason_id, found, count in session.execute(query):
        group = GROUP_OF_CODE[code]
        side = Side.THIS_STRUCTURE if here else Side.REST_OF_NETWORK
        received[(side, group)] += count
        in_time[(side, IN_TIME_OF_CLASS[found])] += count
        row: Label = NoReason.NONE
        if group is HandoffGroup.DECLINED and reason_id is not None:
            row = reason_of[reason_id]
        network_sent[(row, group)] += count
        if from_here:
            sent[(row, group)] += count
    return received, sent, network_sent, in_time


def _followed_counts(session: Session, structure: Structure, scope: Scope) -> Counts:
    stages = {item.code: item.id for item in _items(session, ReferenceKind.STAGE)}
    counts: Counts = defaultdict(int)
    if "training" not in stages or "employment" not in stages:
        return counts
    query = pq.furthest_stage_query(scope, structure.id, stages["training"], stages["employment"])
    for here, stage, count in session.execute(query):
        side = Side.THIS_STRUCTURE if here else Side.REST_OF_NETWORK
        counts[(side, FURTHEST_OF_CODE[stage])] += count
    return counts


# A line of published counts by heading, with its total (a table's row or its total line).
Line = tuple[dict[Label, int | None], int | None]


def _row(table: CountTable, i: int) -> Line:
    published = table.published
    return dict(zip(table.columns, published.cells[i], strict=True)), published.row_totals[i]


def _totals(table: CountTable) -> Line:
    published = table.published
    return dict(zip(table.columns, published.column_totals, strict=True)), published.total


def _small(
    received: CountTable, sent: CountTable, followed: CountTable, row: int | None
) -> frozenset[str]:
    """The names of the counts of ``Figures`` hidden as small counts: those of a row of
    ``received`` and ``followed`` (None: their total lines) and of ``sent``'s total line."""
    declined = GROUPS.index(HandoffGroup.DECLINED)

    def on(table: CountTable, i: int | None, j: int | None) -> bool:
        n_rows, n_cols = len(table.rows), len(table.columns)
        return table.published.is_small(n_rows if i is None else i, n_cols if j is None else j)

    found = {
        "received": on(received, row, None),
        "sent": on(sent, None, None),
        "sent_declined": on(sent, None, declined),
        "followed": on(followed, row, None),
    }
    return frozenset(name for name, small in found.items() if small)


def share(part: Sequence[int | None], whole: Sequence[int | None], k: int) -> float | None:
    """``sum(part) / sum(whole)`` when every count is published and ``whole`` counts at least
    k hand-offs or people (``part`` is included in ``whole``)."""
    if any(v is None for v in (*part, *whole)):
        return None
    denominator = sum(v for v in whole if v is not None)
    if not statistic_is_safe(denominator, k) or denominator == 0:
        return None
    return sum(v for v in part if v is not None) / denominator


def _answered(cells: dict[Label, int | None]) -> tuple[list[int | None], list[int | None]]:
    accepted = [cells[HandoffGroup.ACCEPTED], cells[HandoffGroup.OUTCOME]]
    return accepted, [*accepted, cells[HandoffGroup.DECLINED], cells[HandoffGroup.REDIRECTED]]


def _figures(
    k: int,
    received: Line,
    in_time: Line,
    sent: Line,
    followed: Line,
    medians: tuple[Median, Median],
    small: frozenset[str],
) -> Figures:
    got, got_total = received
    accepted, answered = _answered(got)
    sent_cells, sent_total = sent
    sent_accepted, sent_answered = _answered(sent_cells)
    timely = in_time[0]
    people, people_total = followed
    employed = people[Furthest.EMPLOYMENT]
    return Figures(
        received=got_total,
        accepted_share=share(accepted, answered, k),
        to_answer=medians[0].days,
        to_first_contact=medians[1].days,
        loop_closure=share([got[HandoffGroup.OUTCOME]], accepted, k),
        answered_in_time=share(
            [timely[InTime.WITHIN]], [timely[InTime.WITHIN], timely[InTime.LATE]], k
        ),
        sent=sent_total,
        sent_accepted_share=share(sent_accepted, sent_answered, k),
        sent_declined=sent_cells[HandoffGroup.DECLINED],
        followed=people_total,
        reached_employment=share([employed], [people_total], k),
        reached_training_or_employment=share(
            [employed, people[Furthest.TRAINING]], [people_total], k
        ),
        small=small,
    )


def _reason_lines(sent: CountTable, network: CountTable) -> list[ReasonLine]:
    """The decline reasons either table uses: by this structure's published count (highest
    first), then its hidden ones, then the others - in the list's order within each, so that
    the order gives no hidden value away."""
    column = GROUPS.index(HandoffGroup.DECLINED)
    lines = []
    for i, row in enumerate(sent.rows):
        if not isinstance(row, ReferenceItem):
            continue
        mine, theirs = sent.published.cells[i][column], network.published.cells[i][column]
        if mine == 0 and theirs == 0:
            continue
        lines.append(
            ReasonLine(
                reason=row,
                mine=mine,
                network=theirs,
                mine_small=sent.published.is_small(i, column),
                network_small=network.published.is_small(i, column),
            )
        )

    def order(line: ReasonLine) -> tuple[int, int]:
        if line.mine is None:
            return (1, 0)
        return (0, -line.mine) if line.mine else (2, 0)

    return sorted(lines, key=order)  # stable: the list's order within equal keys
