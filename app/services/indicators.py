"""Network indicators for coordinators, computed by SQL aggregation and protected before use.

Every figure comes from a grouped query: no row of a person is ever loaded into Python, only
counts and medians per group (a few hundred numbers at most, whatever the number of people).
Every count then goes through the small-count protection of ``app/domain/disclosure.py``
before it leaves this module: callers (the dashboard page, its CSV exports, the benchmark)
never see a raw count.

The scope of a dashboard is a *period* and an optional *population*:

- the period selects the events counted: steps started, barriers identified and hand-offs
  sent between its first and last day (inclusive);
- the population keeps the people of a cohort, of a QPV, or whose pathway went through a
  structure (a follow-up there, at any time).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    String,
    case,
    distinct,
    func,
    literal,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.disclosure import (
    DEFAULT_THRESHOLD,
    ProtectedTable,
    protect,
    protect_value,
    statistic_is_safe,
)
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.periods import Quarter, quarters_between
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
    beneficiary_cohorts,
)
from app.services import audit
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.sql_functions import days_between, year_quarter

# The longest period a dashboard covers: ten years of quarters is already a wide chart.
MAX_PERIOD_DAYS = 3660


class HandoffGroup(StrEnum):
    """Hand-off states as the indicators group them (columns of the hand-off tables)."""

    PENDING = "pending"  # sent, no answer yet
    ACCEPTED = "accepted"  # accepted or in progress: the loop is still open
    OUTCOME = "outcome"  # closed with an outcome: the loop is closed
    DECLINED = "declined"
    REDIRECTED = "redirected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


GROUP_OF_STATUS: dict[HandoffStatus, HandoffGroup] = {
    HandoffStatus.SENT: HandoffGroup.PENDING,
    HandoffStatus.ACCEPTED: HandoffGroup.ACCEPTED,
    HandoffStatus.IN_PROGRESS: HandoffGroup.ACCEPTED,
    HandoffStatus.COMPLETED: HandoffGroup.OUTCOME,
    HandoffStatus.NOT_COMPLETED: HandoffGroup.OUTCOME,
    HandoffStatus.DECLINED: HandoffGroup.DECLINED,
    HandoffStatus.REDIRECTED: HandoffGroup.REDIRECTED,
    HandoffStatus.WITHDRAWN: HandoffGroup.WITHDRAWN,
    HandoffStatus.EXPIRED: HandoffGroup.EXPIRED,
}


GROUP_OF_CODE = {status.value: group for status, group in GROUP_OF_STATUS.items()}
BARRIER_STATUS_OF_CODE = {status.value: status for status in BarrierStatus}


class ChainEnd(StrEnum):
    """How a chain of redirects ended: with its last hand-off."""

    TAKEN_IN = "taken_in"  # the last partner accepted the person
    PENDING = "pending"  # the last hand-off waits for an answer
    NOT_TAKEN_IN = "not_taken_in"  # declined, withdrawn or expired


class Metric(StrEnum):
    """The durations whose medians the dashboard shows."""

    TO_TRAINING = "to_training"  # first orientation -> first training
    TO_EMPLOYMENT = "to_employment"  # first orientation -> first employment
    TO_ANSWER = "to_answer"  # hand-off sent -> answered
    TO_FIRST_CONTACT = "to_first_contact"  # hand-off sent -> first contact


class Heading(StrEnum):
    """Headings that are neither a structure nor a reference item."""

    NO_STRUCTURE = "no_structure"
    ALL_STRUCTURES = "all_structures"


# A row or column of a table: a structure, a reference item, a status, a quarter, or the
# length of a chain of redirects (4 standing for 4 or more).
Label = Structure | ReferenceItem | StrEnum | Quarter | int


@dataclass(frozen=True)
class DashboardFilters:
    """What a coordinator asked for, as typed in the form (codes, dates)."""

    start: date | None = None
    end: date | None = None
    cohort: str | None = None
    qpv: str | None = None
    structure: str | None = None


@dataclass(frozen=True)
class Scope:
    """The resolved filters: dates checked, codes turned into the records they name."""

    start: date
    end: date
    cohort: ReferenceItem | None = None
    qpv: ReferenceItem | None = None
    structure: Structure | None = None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def codes(self) -> dict[str, str | None]:
        """The scope as filters (ISO dates, codes, None when unset): for links and audit events.

        ``url_for`` leaves the None values out of a link.
        """
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "cohort": self.cohort.code if self.cohort else None,
            "qpv": self.qpv.code if self.qpv else None,
            "structure": self.structure.code if self.structure else None,
        }

    def quarters(self) -> list[Quarter]:
        """The quarters the period touches, in order."""
        return quarters_between(self.start, self.end)


@dataclass(frozen=True)
class CountTable:
    """A protected table of counts with its totals (``None``: hidden)."""

    name: str
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]
    published: ProtectedTable

    def cell(self, row: Label, column: Label) -> int | None:
        return self.published.cells[self.rows.index(row)][self.columns.index(column)]

    def row_total(self, row: Label) -> int | None:
        return self.published.row_totals[self.rows.index(row)]

    @property
    def empty(self) -> bool:
        return not self.rows or self.published.total == 0


@dataclass(frozen=True)
class CountList:
    """Counts that no published total sums (one person may count in several rows)."""

    name: str
    rows: tuple[Label, ...]
    values: tuple[int | None, ...]

    @property
    def empty(self) -> bool:
        return not any(self.values) and None not in self.values


@dataclass(frozen=True)
class Median:
    """A median duration in days; ``None`` when fewer than k people or hand-offs are behind it."""

    metric: Metric
    days: float | None


@dataclass(frozen=True)
class ReceiverTimes:
    """How a receiving structure answers: median delays and loop closure."""

    structure: Structure | Heading
    to_answer: float | None
    to_first_contact: float | None
    loop_closure: float | None  # share of accepted hand-offs that reached an outcome


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


@dataclass
class Dashboard:
    scope: Scope
    k: int
    people: int | None
    funnel: CountList
    stage_medians: list[Median]
    barriers_by_category: CountTable
    barriers_by_structure: CountTable
    handoff_matrix: CountTable
    handoffs_by_receiver: CountTable
    receiver_times: list[ReceiverTimes]
    decline_reasons: CountTable
    chains: CountTable
    quarters: CountTable
    network: list[NetworkQuarter]  # one per quarter of the period
    network_total: NetworkQuarter  # the whole period
    structures: list[Structure]  # every structure that sent or received in the scope

    def tables(self) -> dict[str, CountTable | CountList]:
        """The exportable tables, by the name used in their CSV file."""
        found: list[CountTable | CountList] = [
            self.funnel,
            self.barriers_by_category,
            self.barriers_by_structure,
            self.handoff_matrix,
            self.handoffs_by_receiver,
            self.decline_reasons,
            self.chains,
            self.quarters,
        ]
        return {table.name: table for table in found}


TABLE_NAMES = (
    "funnel",
    "barriers-by-category",
    "barriers-by-structure",
    "handoff-matrix",
    "handoffs-by-receiver",
    "decline-reasons",
    "redirect-chains",
    "handoffs-by-quarter",
)


# --- scope ----------------------------------------------------------------------------------


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months, by whole quarters: from the start of the quarter a year ago."""
    first_month = ((today.month - 1) // 3) * 3 + 1
    start = date(today.year - 1, first_month, 1)
    return start, today


def resolve_scope(session: Session, filters: DashboardFilters, *, today: date) -> Scope:
    """Check the filters and find the records they name (``InvalidInput`` otherwise)."""
    default_start, default_end = default_period(today)
    start = filters.start or default_start
    end = filters.end or default_end
    if start > end:
        raise InvalidInput(N_("The start of the period must come before its end."), field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(N_("The period cannot be longer than ten years."), field="start")
    cohort = _reference(session, ReferenceKind.COHORT, filters.cohort, "cohort")
    qpv = _reference(session, ReferenceKind.QPV, filters.qpv, "qpv")
    structure = None
    if filters.structure:
        structure = session.scalar(select(Structure).where(Structure.code == filters.structure))
        if structure is None:
            raise InvalidInput(N_("Unknown structure."), field="structure")
    return Scope(start=start, end=end, cohort=cohort, qpv=qpv, structure=structure)


def _reference(
    session: Session, kind: ReferenceKind, code: str | None, field_name: str
) -> ReferenceItem | None:
    if not code:
        return None
    item = session.scalar(
        select(ReferenceItem).where(ReferenceItem.kind == kind, ReferenceItem.code == code)
    )
    if item is None:
        raise InvalidInput(N_("Unknown value in the filters."), field=field_name)
    return item


def population(scope: Scope, person: SQLColumnExpression[uuid.UUID]) -> list[ColumnElement[bool]]:
    """Conditions keeping the events of the people in the scope's population."""
    conditions: list[ColumnElement[bool]] = []
    if scope.cohort is not None:
        conditions.append(
            person.in_(
                select(beneficiary_cohorts.c.beneficiary_id).where(
                    beneficiary_cohorts.c.cohort_id == scope.cohort.id
                )
            )
        )
    if scope.qpv is not None:
        conditions.append(
            person.in_(select(Beneficiary.id).where(Beneficiary.qpv_id == scope.qpv.id))
        )
    if scope.structure is not None:
        conditions.append(
            person.in_(
                select(FollowUp.beneficiary_id).where(FollowUp.structure_id == scope.structure.id)
            )
        )
    return conditions


def steps_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        PathwayStep.started_on >= scope.start,
        PathwayStep.started_on <= scope.end,
        *population(scope, PathwayStep.beneficiary_id),
    ]


def barriers_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        Barrier.identified_on >= scope.start,
        Barrier.identified_on <= scope.end,
        *population(scope, Barrier.beneficiary_id),
    ]


def handoffs_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        Handoff.sent_at >= scope.start_at,
        Handoff.sent_at < scope.end_before,
        *population(scope, Handoff.beneficiary_id),
    ]


# --- the queries ------------------------------------------------------------------------------
# Each returns a Select whose rows are groups, never people. The benchmark runs the same
# Selects to compare with hand-written SQL.


def people_query(scope: Scope) -> Select[Any]:
    """People with at least one event (step, barrier, hand-off) in the period."""
    events = union(
        select(PathwayStep.beneficiary_id.label("person")).where(*steps_in(scope)),
        select(Barrier.beneficiary_id.label("person")).where(*barriers_in(scope)),
        select(Handoff.beneficiary_id.label("person")).where(*handoffs_in(scope)),
    ).subquery()
    return select(func.count()).select_from(events)


def funnel_query(scope: Scope) -> Select[int, int]:
    """People entering each stage in the period (a person counts once per stage)."""
    return (
        select(PathwayStep.stage_id, func.count(distinct(PathwayStep.beneficiary_id)))
        .where(*steps_in(scope))
        .group_by(PathwayStep.stage_id)
    )


def stage_medians_query(
    scope: Scope, orientation: int, training: int, employment: int
) -> Select[Any]:
    """Median days from a person's first orientation to their first training / employment.

    Counted for the people whose first training (or employment) started in the period, after
    their first orientation.
    """
    firsts = (
        select(
            PathwayStep.beneficiary_id,
            func.min(case((PathwayStep.stage_id == orientation, PathwayStep.started_on))).label(
                "oriented"
            ),
            func.min(case((PathwayStep.stage_id == training, PathwayStep.started_on))).label(
                "trained"
            ),
            func.min(case((PathwayStep.stage_id == employment, PathwayStep.started_on))).label(
                "employed"
            ),
        )
        .where(
            PathwayStep.stage_id.in_([orientation, training, employment]),
            *population(scope, PathwayStep.beneficiary_id),
        )
        .group_by(PathwayStep.beneficiary_id)
        .cte("firsts")  # read twice below: a CTE is computed once (a subquery would be twice)
    )
    durations = union_all(
        select(
            literal(Metric.TO_TRAINING.value).label("metric"),
            days_between(firsts.c.oriented, firsts.c.trained).label("days"),
        ).where(
            firsts.c.trained >= scope.start,
            firsts.c.trained <= scope.end,
            firsts.c.oriented <= firsts.c.trained,
        ),
        select(
            literal(Metric.TO_EMPLOYMENT.value).label("metric"),
            days_between(firsts.c.oriented, firsts.c.employed).label("days"),
        ).where(
            firsts.c.employed >= scope.start,
            firsts.c.employed <= scope.end,
            firsts.c.oriented <= firsts.c.employed,
        ),
    ).subquery()
    return _medians(durations.c.metric, durations.c.days)


def _medians(group: ColumnElement[Any], value: ColumnElement[Any]) -> Select[Any]:
    """Median of ``value`` per ``group`` with window functions (SQLite has no percentile)."""
    ranked = select(
        group.label("grp"),
        value.label("value"),
        func.row_number().over(partition_by=group, order_by=value).label("rank"),
        func.count().over(partition_by=group).label("n"),
    ).subquery()
    return (
        select(ranked.c.grp, func.avg(ranked.c.value), func.max(ranked.c.n))
        .where(
            ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]),
        )
        .group_by(ranked.c.grp)
    )


def barriers_query(scope: Scope) -> Select[int, int | None, str, int]:
    """Barriers identified in the period by category, acting structure and current status.

    The status comes back as its stored text (not converted to the enum row by row, which
    cost more than the rest of the dashboard's Python); ``dashboard`` maps it once per code.
    """
    status = type_coerce(Barrier.status, String)
    return (
        select(Barrier.category_id, Barrier.acting_structure_id, status, func.count())
        .where(*barriers_in(scope))
        .group_by(Barrier.category_id, Barrier.acting_structure_id, status)
    )


def handoffs_query(scope: Scope) -> Select[int, int, int, str, int | None, int]:
    """Hand-offs sent in the period by quarter, sender, receiver, state and decline reason."""
    quarter = year_quarter(Handoff.sent_at)
    status = type_coerce(Handoff.status, String)  # its stored text, as in barriers_query
    return (
        select(
            quarter,
            Handoff.from_structure_id,
            Handoff.to_structure_id,
            status,
            Handoff.decline_reason_id,
            func.count(),
        )
        .where(*handoffs_in(scope))
        .group_by(
            quarter,
            Handoff.from_structure_id,
            Handoff.to_structure_id,
            status,
            Handoff.decline_reason_id,
        )
    )


ALL_RECEIVERS = 0  # the group of every receiving structure in the delay medians
TO_ANSWER_GROUP = 1_000_000  # group keys: metric base + receiving structure id (or 0)
TO_CONTACT_GROUP = 2_000_000


def delay_group(metric: Metric, structure_id: int) -> int:
    """The key of a group of ``handoff_delays_query``."""
    base = TO_ANSWER_GROUP if metric is Metric.TO_ANSWER else TO_CONTACT_GROUP
    return base + structure_id


def handoff_delays_query(scope: Scope) -> Select[Any]:
    """Median days from sending to the answer and to the first contact, per receiver and all.

    The answered hand-offs of the scope are read once (a CTE used four times, which both
    databases materialise); each is then counted in its receiver's group and in the group of
    all receivers (``delay_group``, integer keys: cheaper to sort than texts).
    """
    answered = (
        select(
            Handoff.to_structure_id.label("receiver"),
            days_between(Handoff.sent_at, Handoff.answered_at).label("answer"),
            days_between(Handoff.sent_at, Handoff.first_contact_at).label("contact"),
        )
        .where(Handoff.answered_at.is_not(None), *handoffs_in(scope))
        .cte("answered")
    )
    contacted = answered.c.contact.is_not(None)
    durations = union_all(
        select((answered.c.receiver + TO_ANSWER_GROUP).label("grp"), answered.c.answer),
        select(literal(TO_ANSWER_GROUP + ALL_RECEIVERS), answered.c.answer),
        select(answered.c.receiver + TO_CONTACT_GROUP, answered.c.contact).where(contacted),
        select(literal(TO_CONTACT_GROUP + ALL_RECEIVERS), answered.c.contact).where(contacted),
    ).subquery()
    return _medians(durations.c.grp, durations.c.answer)


def chains_query(scope: Scope) -> Select[Any]:
    """Chains of redirects started in the period: their length and how they ended.

    A chain starts with a hand-off that no redirect created; each redirect adds one. Only the
    last hand-off of a chain is not ``redirected``, so its state is the chain's end.
    """
    end_code = case(
        (
            Handoff.status.in_(
                [
                    HandoffStatus.ACCEPTED,
                    HandoffStatus.IN_PROGRESS,
                    HandoffStatus.COMPLETED,
                    HandoffStatus.NOT_COMPLETED,
                ]
            ),
            3,
        ),
        (Handoff.status == HandoffStatus.SENT, 2),
        (Handoff.status == HandoffStatus.REDIRECTED, 0),
        else_=1,
    )
    roots = (
        select(
            Handoff.id.label("root"),
            Handoff.id.label("id"),
            literal(1).label("depth"),
            end_code.label("end_code"),
        )
        .where(Handoff.parent_id.is_(None), *handoffs_in(scope))
        .cte("chain", recursive=True)
    )
    chain = roots.union_all(
        select(roots.c.root, Handoff.id, roots.c.depth + 1, end_code).where(
            Handoff.parent_id == roots.c.id
        )
    )
    per_chain = (
        select(
            func.max(chain.c.depth).label("length"),
            func.max(chain.c.end_code).label("end_code"),
        )
        .group_by(chain.c.root)
        .subquery()
    )
    capped = case((per_chain.c.length >= 4, 4), else_=per_chain.c.length)
    return select(capped, per_chain.c.end_code, func.count()).group_by(capped, per_chain.c.end_code)


def record_export(
    session: Session, actor: User, action: AuditAction, scope: Scope, table: str | None = None
) -> None:
    """Audit an export of the dashboard (a table, or the pathways): the scope, never a person."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden(N_("Only coordinators export statistics."))
    codes = scope.codes()
    audit.record(
        session,
        actor,
        action,
        actor,
        purpose="statistics",
        table=table,
        start=codes["start"],
        end=codes["end"],
        cohort=codes["cohort"],
        qpv=codes["qpv"],
        structure=codes["structure"],
    )


# --- the dashboard --------------------------------------------------------------------------


def dashboard(session: Session, scope: Scope, *, k: int = DEFAULT_THRESHOLD) -> Dashboard:
    """Every indicator of the scope, protected."""
    stages = _items(session, ReferenceKind.STAGE)
    categories = _items(session, ReferenceKind.BARRIER_CATEGORY)
    reasons = _items(session, ReferenceKind.DECLINE_REASON)
    structures = {s.id: s for s in session.scalars(select(Structure))}

    people = session.scalar(people_query(scope)) or 0
    funnel_counts: dict[int, int] = dict(session.execute(funnel_query(scope)).all())
    funnel = CountList(
        name="funnel",
        rows=tuple(stages),
        values=tuple(protect_value(funnel_counts.get(s.id, 0), k) for s in stages),
    )

    by_code = {s.code: s.id for s in stages}
    medians: dict[str, tuple[float, int]] = {}
    if {"orientation", "training", "employment"} <= by_code.keys():
        query = stage_medians_query(
            scope, by_code["orientation"], by_code["training"], by_code["employment"]
        )
        medians = {grp: (value, n) for grp, value, n in session.execute(query)}
    stage_medians = [
        _median(metric, medians.get(metric.value), k)
        for metric in (Metric.TO_TRAINING, Metric.TO_EMPLOYMENT)
    ]

    barrier_rows = session.execute(barriers_query(scope)).all()
    by_category: dict[tuple[Label, Label], int] = defaultdict(int)
    by_structure: dict[tuple[Label, Label], int] = defaultdict(int)
    acting: dict[int | None, Label] = {}
    category_of = {item.id: item for item in categories}
    for category_id, structure_id, code, count in barrier_rows:
        status = BARRIER_STATUS_OF_CODE[code]
        by_category[(category_of[category_id], status)] += count
        if structure_id not in acting:
            acting[structure_id] = (
                structures[structure_id] if structure_id is not None else Heading.NO_STRUCTURE
            )
        by_structure[(acting[structure_id], status)] += count
    statuses = tuple(BarrierStatus)
    barriers_by_category = _table(
        "barriers-by-category", _used(categories, by_category), statuses, by_category, k
    )
    barriers_by_structure = _table(
        "barriers-by-structure", _sorted_labels(acting.values()), statuses, by_structure, k
    )

    handoff_rows = session.execute(handoffs_query(scope)).all()
    matrix: dict[tuple[Label, Label], int] = defaultdict(int)
    by_receiver: dict[tuple[Label, Label], int] = defaultdict(int)
    by_reason: dict[tuple[Label, Label], int] = defaultdict(int)
    by_quarter: dict[tuple[Label, Label], int] = defaultdict(int)
    pairs: dict[Quarter, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    senders: dict[int, Structure] = {}
    receivers: dict[int, Structure] = {}
    reason_of = {item.id: item for item in reasons}
    quarter_of: dict[int, Quarter] = {}
    for quarter_key, from_id, to_id, code, reason_id, count in handoff_rows:
        if quarter_key not in quarter_of:
            quarter_of[quarter_key] = Quarter.from_key(quarter_key)
        quarter = quarter_of[quarter_key]
        group = GROUP_OF_CODE[code]
        sender, receiver = structures[from_id], structures[to_id]
        senders[from_id], receivers[to_id] = sender, receiver
        matrix[(sender, receiver)] += count
        by_receiver[(receiver, group)] += count
        by_quarter[(quarter, group)] += count
        if reason_id is not None:
            by_reason[(reason_of[reason_id], HandoffGroup.DECLINED)] += count
        pairs[quarter][(min(from_id, to_id), max(from_id, to_id))] += count
    sender_list = _sorted_labels(senders.values())
    receiver_list = _sorted_labels(receivers.values())
    groups = tuple(HandoffGroup)
    handoff_matrix = _table("handoff-matrix", sender_list, receiver_list, matrix, k)
    handoffs_by_receiver = _table("handoffs-by-receiver", receiver_list, groups, by_receiver, k)
    decline_reasons = _table(
        "decline-reasons", _used(reasons, by_reason), (HandoffGroup.DECLINED,), by_reason, k
    )
    quarter_list = scope.quarters()
    quarters = _table("handoffs-by-quarter", tuple(quarter_list), groups, by_quarter, k)

    delays = {grp: (value, n) for grp, value, n in session.execute(handoff_delays_query(scope))}
    receiver_times = [
        _receiver_times(receiver, delays, handoffs_by_receiver, k)
        for receiver in (*receiver_list, Heading.ALL_STRUCTURES)
    ]

    chain_counts: dict[tuple[Label, Label], int] = defaultdict(int)
    ends = {3: ChainEnd.TAKEN_IN, 2: ChainEnd.PENDING, 1: ChainEnd.NOT_TAKEN_IN}
    for length, end_code, count in session.execute(chains_query(scope)):
        chain_counts[(int(length), ends.get(int(end_code), ChainEnd.NOT_TAKEN_IN))] += count
    chains = _table("redirect-chains", (1, 2, 3, 4), tuple(ChainEnd), chain_counts, k)

    network = [_network_quarter(q, pairs.get(q, {}), structures, k) for q in quarter_list]
    whole: dict[tuple[int, int], int] = defaultdict(int)
    for quarter_pairs in pairs.values():
        for pair, count in quarter_pairs.items():
            whole[pair] += count
    network_total = _network_quarter(None, whole, structures, k)
    involved = {**senders, **receivers}
    return Dashboard(
        scope=scope,
        k=k,
        people=protect_value(people, k),
        funnel=funnel,
        stage_medians=stage_medians,
        barriers_by_category=barriers_by_category,
        barriers_by_structure=barriers_by_structure,
        handoff_matrix=handoff_matrix,
        handoffs_by_receiver=handoffs_by_receiver,
        receiver_times=receiver_times,
        decline_reasons=decline_reasons,
        chains=chains,
        quarters=quarters,
        network=network,
        network_total=network_total,
        structures=sorted(involved.values(), key=lambda s: s.code),
    )


def _items(session: Session, kind: ReferenceKind) -> list[ReferenceItem]:
    return list(
        session.scalars(
            select(ReferenceItem)
            .where(ReferenceItem.kind == kind)
            .order_by(ReferenceItem.position, ReferenceItem.code)
        )
    )


def _used(
    items: Sequence[ReferenceItem], counts: dict[tuple[Label, Label], int]
) -> tuple[Label, ...]:
    """The items of a reference list that are active or have counts, in list order."""
    present = {row for row, _column in counts}
    return tuple(item for item in items if item.active or item in present)


def _sorted_labels(labels: Iterable[Label]) -> tuple[Label, ...]:
    """Structures by code, then the other headings."""
    found = list(dict.fromkeys(labels))
    found.sort(key=lambda x: (0, x.code) if isinstance(x, Structure) else (1, str(x)))
    return tuple(found)


def _table(
    name: str,
    rows: Sequence[Label],
    columns: Sequence[Label],
    counts: dict[tuple[Label, Label], int],
    k: int,
) -> CountTable:
    if not rows or not columns:
        empty = ProtectedTable(cells=(), row_totals=(), column_totals=(0,) * len(columns), total=0)
        return CountTable(name=name, rows=(), columns=tuple(columns), published=empty)
    cells = [[counts.get((row, column), 0) for column in columns] for row in rows]
    return CountTable(
        name=name, rows=tuple(rows), columns=tuple(columns), published=protect(cells, k)
    )


def _median(metric: Metric, found: tuple[float, int] | None, k: int) -> Median:
    if found is None or not statistic_is_safe(found[1], k):
        return Median(metric=metric, days=None)
    return Median(metric=metric, days=float(found[0]))


def _receiver_times(
    receiver: Label,
    delays: dict[int, tuple[float, int]],
    table: CountTable,
    k: int,
) -> ReceiverTimes:
    key = receiver.id if isinstance(receiver, Structure) else ALL_RECEIVERS
    answer = _median(Metric.TO_ANSWER, delays.get(delay_group(Metric.TO_ANSWER, key)), k)
    contact = _median(
        Metric.TO_FIRST_CONTACT, delays.get(delay_group(Metric.TO_FIRST_CONTACT, key)), k
    )
    if isinstance(receiver, Structure):
        outcome = table.cell(receiver, HandoffGroup.OUTCOME)
        still_open = table.cell(receiver, HandoffGroup.ACCEPTED)
    else:
        outcome = table.published.column_totals[table.columns.index(HandoffGroup.OUTCOME)]
        still_open = table.published.column_totals[table.columns.index(HandoffGroup.ACCEPTED)]
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


def _network_quarter(
    quarter: Quarter | None,
    pairs: dict[tuple[int, int], int],
    structures: dict[int, Structure],
    k: int,
) -> NetworkQuarter:
    """The links of a quarter, protected as a list whose total (the quarter's hand-offs) is
    published: a hidden link cannot be recomputed from the others and the total."""
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
