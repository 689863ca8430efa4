"""Delays against the targets (issue 15, item 2): the share of people and hand-offs reached
within the target (``RELAIS_DELAY_TARGET_DAYS``, 15 days: the national target of a first
appointment within 15 days of orientation) and within the contract
(``RELAIS_DELAY_CONTRACT_DAYS``, 30 days, what many départements still contract on), and the
median days, by receiving structure, cohort (public), QPV and quarter.

The legs (``DelayLeg``):

- registration → first decision: the people whose first follow-up started in the period (the
  day the network began to follow them: a day, where the registration month would be a
  month), to their first orientation decision; the structure is the registering one;
- hand-off sent → answer: the hand-offs sent in the period, but those withdrawn unanswered;
- answer → first contact and sent → first contact: the hand-offs sent in the period and
  accepted; the structure is the receiver.

Each item falls in a band (``DelayBand``): reached within the target, within the contract,
later; not reached with more than the contract's days gone (overdue), or fewer (open: not
counted in the shares, it may still be reached in time). A share is the reached-in-time over
the items whose band is settled (all but the open ones), shown only when every count behind it
is published and at least k items are behind it; a median (of the items reached) likewise.
A person in two cohorts counts in both rows of the cohort table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.domain.periods import Quarter
from app.models import ReferenceKind, Structure
from app.services.statistics.delay_queries import (
    BAND_OF_CODE,
    GROUP_BASE,
    LEGS,
    Breakdown,
    DelayBand,
    DelayLeg,
    delays_query,
)
from app.services.statistics.headings import Label
from app.services.statistics.scope import Scope
from app.services.statistics.tables import (
    Counts,
    CountTable,
    Sample,
    Shared,
    TableSpec,
    histogram_median,
    protected_tables,
)
from app.services.structures import reference_items

BANDS = tuple(DelayBand)
# The bands whose items count in the shares (the open ones may still be reached in time).
SETTLED = (DelayBand.WITHIN_TARGET, DelayBand.WITHIN_CONTRACT, DelayBand.LATER, DelayBand.OVERDUE)
BREAKDOWNS = (Breakdown.STRUCTURE, Breakdown.COHORT, Breakdown.QPV, Breakdown.QUARTER)


class DelayHeading(StrEnum):
    ALL = "all"  # every item of the leg
    NO_QPV = "no_qpv"  # people not living in a QPV (or not known to)


@dataclass(frozen=True)
class DelayLine:
    """One row of a leg's summary: its shares within the target and the contract, and the
    median days (``None``: hidden, or nothing to measure)."""

    heading: Label
    within_target: float | None
    within_contract: float | None
    median: float | None
    settled: int | None  # the items behind the shares (None: hidden)


@dataclass(frozen=True)
class LegDelays:
    leg: DelayLeg
    tables: Mapping[Breakdown, CountTable]  # rows × ``DelayBand``
    lines: Mapping[Breakdown, list[DelayLine]]
    overall: DelayLine


@dataclass(frozen=True)
class DelayTargets:
    target: int
    contract: int
    k: int
    legs: tuple[LegDelays, ...]

    def tables(self) -> dict[str, CountTable]:
        """Every table by its name (``delays-<leg>-<breakdown>``), for the CSV exports."""
        return {t.name: t for leg in self.legs for t in leg.tables.values()}


def table_name(leg: DelayLeg, breakdown: Breakdown) -> str:
    return f"delays-{leg.value.replace('_', '-')}-by-{breakdown.name.lower()}"


TABLE_NAMES = frozenset(table_name(leg, b) for leg in DelayLeg for b in BREAKDOWNS)


def delay_targets(
    session: Session, scope: Scope, k: int, target: int, contract: int, *, today: date
) -> DelayTargets:
    """Every leg's delays in the scope against ``target`` and ``contract`` days, protected with
    threshold ``k`` (1: the exact view; ``SMALL_COUNT_THRESHOLD``: the publication view). The
    smaller of ``target`` and ``contract`` is the target."""
    target, contract = min(target, contract), max(target, contract)
    headings = _Headings.load(session)
    counts: dict[DelayLeg, list[tuple[int, int, int]]] = {leg: [] for leg in LEGS}
    days: dict[DelayLeg, dict[int, list[tuple[float, int]]]] = {leg: {} for leg in LEGS}
    query = delays_query(scope, today=today, target=target, contract=contract)
    for code, group, band, taken, n in session.execute(query):
        leg = LEGS[int(code)]
        counts[leg].append((int(group), int(band), int(n)))
        if taken is not None:
            days[leg].setdefault(int(group), []).append((float(taken), int(n)))
    legs = []
    for leg in LEGS:
        samples = {group: histogram_median(found) for group, found in days[leg].items()}
        reached = {group: sample for group, sample in samples.items() if sample is not None}
        legs.append(_leg(leg, scope, headings, counts[leg], reached, k))
    return DelayTargets(target=target, contract=contract, k=k, legs=tuple(legs))


@dataclass(frozen=True)
class _Headings:
    structures: Mapping[int, Structure]
    cohorts: Sequence[Label]
    qpvs: Sequence[Label]
    by_id: Mapping[tuple[Breakdown, int], Label]

    @classmethod
    def load(cls, session: Session) -> _Headings:
        structures = {s.id: s for s in session.scalars(select(Structure))}
        cohorts = reference_items(session, ReferenceKind.COHORT, include_inactive=True)
        qpvs = reference_items(session, ReferenceKind.QPV, include_inactive=True)
        by_id: dict[tuple[Breakdown, int], Label] = {
            (Breakdown.STRUCTURE, i): s for i, s in structures.items()
        }
        by_id |= {(Breakdown.COHORT, c.id): c for c in cohorts}
        by_id |= {(Breakdown.QPV, q.id): q for q in qpvs}
        by_id[(Breakdown.QPV, 0)] = DelayHeading.NO_QPV
        return cls(structures, cohorts, qpvs, by_id)

    def of(self, breakdown: Breakdown, key: int) -> Label:
        if breakdown is Breakdown.QUARTER:
            return Quarter.from_key(key)
        if breakdown is Breakdown.ALL:
            return DelayHeading.ALL
        return self.by_id[(breakdown, key)]


def _leg(
    leg: DelayLeg,
    scope: Scope,
    headings: _Headings,
    rows: Sequence[tuple[int, int, int]],
    samples: Mapping[int, Sample],
    k: int,
) -> LegDelays:
    counts: dict[Breakdown, Counts] = {b: defaultdict(int) for b in Breakdown}
    keys: dict[tuple[Breakdown, Label], int] = {}
    for group, code, n in rows:
        breakdown, key = Breakdown(int(group) // GROUP_BASE), int(group) % GROUP_BASE
        heading = headings.of(breakdown, key)
        keys[(breakdown, heading)] = int(group)
        counts[breakdown][(heading, BAND_OF_CODE[int(code)])] += n
    specs = [
        TableSpec(table_name(leg, b), _rows(b, scope, headings, counts[b]), BANDS, counts[b])
        for b in BREAKDOWNS
    ]
    tables = protected_tables(
        specs, [Shared(0, "columns", 2, "columns"), Shared(2, "columns", 3, "columns")], k
    )
    by_breakdown = dict(zip(BREAKDOWNS, tables, strict=True))
    lines = {
        b: [_line(r, table.published.cells[i], samples.get(keys.get((b, r), -1)), k)
            for i, r in enumerate(table.rows)]
        for b, table in by_breakdown.items()
    }  # fmt: skip
    overall = _line(
        DelayHeading.ALL, by_breakdown[Breakdown.STRUCTURE].published.column_totals,
        samples.get(0), k,
    )  # fmt: skip
    return LegDelays(leg=leg, tables=by_breakdown, lines=lines, overall=overall)


def _rows(
    breakdown: Breakdown, scope: Scope, headings: _Headings, counts: Counts
) -> tuple[Label, ...]:
    present = [row for row, _band in counts]
    if breakdown is Breakdown.STRUCTURE:
        found = {r for r in present if isinstance(r, Structure)}
        return tuple(sorted(found, key=lambda s: s.code))
    if breakdown is Breakdown.QUARTER:
        quarters = {r for r in present if isinstance(r, Quarter)}
        return tuple(sorted({*scope.quarters(), *quarters}))
    items = headings.cohorts if breakdown is Breakdown.COHORT else headings.qpvs
    in_use = tuple(i for i in items if i in set(present))
    if breakdown is Breakdown.QPV and DelayHeading.NO_QPV in present:
        return (*in_use, DelayHeading.NO_QPV)
    return in_use


def _line(heading: Label, cells: Sequence[int | None], sample: Sample | None, k: int) -> DelayLine:
    """Shares and median of one row, each shown only when at least k items are behind it and
    every count it is made of is published."""
    by_band = dict(zip(BANDS, cells, strict=True))
    settled_counts = [by_band[b] for b in SETTLED]
    within_target = within_contract = None
    settled: int | None = None
    if all(c is not None for c in settled_counts):
        settled = sum(c for c in settled_counts if c is not None)
        if settled and statistic_is_safe(settled, k):
            in_target = by_band[DelayBand.WITHIN_TARGET] or 0
            within_target = in_target / settled
            within_contract = (in_target + (by_band[DelayBand.WITHIN_CONTRACT] or 0)) / settled
    median = None
    if sample is not None and statistic_is_safe(sample[1], k):
        median = sample[0]
    return DelayLine(heading, within_target, within_contract, median, settled)
