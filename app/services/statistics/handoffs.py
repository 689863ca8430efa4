"""The hand-offs section: who sends to whom, what became of the hand-offs, why they were
declined, how many each quarter, and how fast each receiver answers.

The hand-offs of the scope are counted once (``count_handoffs``, one pass over the groups of
``handoffs_query``); every table of the section, and the cooperation network, is built from
those raw counts, which never leave the package unprotected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.domain.periods import Quarter
from app.models import ReferenceItem, Structure
from app.services.statistics.headings import GROUP_OF_CODE, HandoffGroup, Heading, Label, Metric
from app.services.statistics.queries import (
    ALL_RECEIVERS,
    delay_group,
    handoff_delays_query,
    handoffs_query,
)
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Sample,
    Shared,
    TableSpec,
    items_in_use,
    medians_by_group,
    protected_median,
    protected_tables,
)

# A sending and a receiving partner, by id.
Pair = tuple[int, int]


@dataclass(frozen=True)
class HandoffCounts:
    """Raw counts of the hand-offs sent in the scope (never published as they are)."""

    matrix: Counts  # (sender, receiver)
    by_receiver: Counts  # (receiver, group)
    by_reason: Counts  # (decline reason, DECLINED)
    by_quarter: Counts  # (quarter, group)
    by_pair: Mapping[tuple[Pair, Quarter], int]  # hand-offs from one partner to another
    answers: Mapping[Pair, tuple[int, int]]  # (accepted or later, answered) by pair
    senders: tuple[Structure, ...]  # by code
    receivers: tuple[Structure, ...]  # by code

    @property
    def structures(self) -> list[Structure]:
        """Every structure that sent or received, by code."""
        found = {s.id: s for s in (*self.senders, *self.receivers)}
        return sorted(found.values(), key=_code)


@dataclass(frozen=True)
class HandoffTables:
    matrix: CountTable
    by_receiver: CountTable
    decline_reasons: CountTable
    by_quarter: CountTable


@dataclass(frozen=True)
class ReceiverTimes:
    """How a receiving structure answers: median delays and loop closure."""

    structure: Structure | Heading
    to_answer: float | None
    to_first_contact: float | None
    loop_closure: float | None  # share of accepted hand-offs that reached an outcome


def count_handoffs(
    session: Session,
    scope: Scope,
    structures: Mapping[int, Structure],
    reasons: Sequence[ReferenceItem],
) -> HandoffCounts:
    matrix: Counts = defaultdict(int)
    by_receiver: Counts = defaultdict(int)
    by_reason: Counts = defaultdict(int)
    by_quarter: Counts = defaultdict(int)
    by_pair: dict[tuple[Pair, Quarter], int] = defaultdict(int)
    answers: dict[Pair, tuple[int, int]] = defaultdict(lambda: (0, 0))
    senders: dict[int, Structure] = {}
    receivers: dict[int, Structure] = {}
    reason_of = {item.id: item for item in reasons}
    quarter_of: dict[int, Quarter] = {}
    for quarter_key, from_id, to_id, code, reason_id, count in session.execute(
        handoffs_query(scope)
    ):
        if quarter_key not in quarter_of:
            quarter_of[quarter_key] = Quarter.from_key(quarter_key)
        quarter = quarter_of[quarter_key]
        group = GROUP_OF_CODE[code]
        sender, receiver = structures[from_id], structures[to_id]
        senders[from_id], receivers[to_id] = sender, receiver
        matrix[(sender, receiver)] += count
        by_receiver[(receiver, group)] += count
        by_quarter[(quarter, group)] += count
        if reason_id is not None and group is HandoffGroup.DECLINED:
            by_reason[(reason_of[reason_id], HandoffGroup.DECLINED)] += count
        by_pair[((from_id, to_id), quarter)] += count
        if group in ANSWERED:
            accepted, answered = answers[(from_id, to_id)]
            taken = count if group in (HandoffGroup.ACCEPTED, HandoffGroup.OUTCOME) else 0
            answers[(from_id, to_id)] = (accepted + taken, answered + count)
    return HandoffCounts(
        matrix=matrix,
        by_receiver=by_receiver,
        by_reason=by_reason,
        by_quarter=by_quarter,
        by_pair=by_pair,
        answers=answers,
        senders=tuple(sorted(senders.values(), key=_code)),
        receivers=tuple(sorted(receivers.values(), key=_code)),
    )


# The groups of an answered hand-off (the receiver said yes, no or elsewhere).
ANSWERED = frozenset(
    {HandoffGroup.ACCEPTED, HandoffGroup.OUTCOME, HandoffGroup.DECLINED, HandoffGroup.REDIRECTED}
)


def _code(structure: Structure) -> str:
    return structure.code


def handoff_tables(
    counts: HandoffCounts, scope: Scope, reasons: Sequence[ReferenceItem], k: int
) -> HandoffTables:
    """The four tables of the hand-offs, protected together: the receivers' totals of the
    matrix are the rows' totals of "by receiver", whose states' totals are those of "by
    quarter", whose declined total is the total of the decline reasons."""
    groups = tuple(HandoffGroup)
    # The quarters of the period (and, should a hand-off fall outside them, its own).
    found = {q for q, _group in counts.by_quarter if isinstance(q, Quarter)}
    quarters = tuple(sorted({*scope.quarters(), *found}))
    matrix, by_receiver, by_quarter, reasons_table = protected_tables(
        [
            TableSpec("handoff-matrix", counts.senders, counts.receivers, counts.matrix),
            TableSpec("handoffs-by-receiver", counts.receivers, groups, counts.by_receiver),
            TableSpec("handoffs-by-quarter", quarters, groups, counts.by_quarter),
            TableSpec(
                "decline-reasons",
                items_in_use(reasons, counts.by_reason),
                (HandoffGroup.DECLINED,),
                counts.by_reason,
            ),
        ],
        [
            Shared(0, "columns", 1, "rows"),
            Shared(1, "columns", 2, "columns"),
            Shared(3, "columns", 1, "columns", second_heading=HandoffGroup.DECLINED),
        ],
        k,
    )
    return HandoffTables(
        matrix=matrix,
        by_receiver=by_receiver,
        decline_reasons=reasons_table,
        by_quarter=by_quarter,
    )


def receiver_times(
    session: Session, scope: Scope, by_receiver: CountTable, k: int
) -> list[ReceiverTimes]:
    """One line per receiving structure (the rows of ``by_receiver``), then all of them."""
    delays: dict[int, Sample] = medians_by_group(session.execute(handoff_delays_query(scope)))
    return [
        _receiver_times(receiver, delays, by_receiver, k)
        for receiver in (*by_receiver.rows, Heading.ALL_STRUCTURES)
    ]


def _receiver_times(
    receiver: Label, delays: Mapping[int, Sample], table: CountTable, k: int
) -> ReceiverTimes:
    key = receiver.id if isinstance(receiver, Structure) else ALL_RECEIVERS
    answer = protected_median(Metric.TO_ANSWER, delays.get(delay_group(Metric.TO_ANSWER, key)), k)
    contact = protected_median(
        Metric.TO_FIRST_CONTACT, delays.get(delay_group(Metric.TO_FIRST_CONTACT, key)), k
    )
    if isinstance(receiver, Structure):
        outcome = table.cell(receiver, HandoffGroup.OUTCOME)
        still_open = table.cell(receiver, HandoffGroup.ACCEPTED)
    else:
        outcome = table.column_total(HandoffGroup.OUTCOME)
        still_open = table.column_total(HandoffGroup.ACCEPTED)
    closure = None
    # A share is shown only when both of its counts are published and cover k hand-offs.
    if outcome is not None and still_open is not None:
        accepted = outcome + still_open
        if statistic_is_safe(accepted, k):
            closure = outcome / accepted
    structure = receiver if isinstance(receiver, Structure) else Heading.ALL_STRUCTURES
    return ReceiverTimes(
        structure=structure,
        to_answer=answer.days,
        to_first_contact=contact.days,
        loop_closure=closure,
    )
