"""Lists of pathways: a structure's caseload and the coordinator's pseudonymous overview.

Each list is one paginated query plus a fixed number of queries for the page's people
(current stage, last event, structures involved): never one query per row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Date, Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.people import canonical_pseudonym, pseudonym_prefix
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
    beneficiary_cohorts,
)
from app.services import keyset
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.keyset import FIRST_PAGE, Kind, SortKey, Window
from app.services.people.access import visible_people
from app.services.security import audit

T = TypeVar("T")
PER_PAGE = 25


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int
    after: str | None = None  # the cursor of the next page (keyset), if any
    before: str | None = None  # the cursor of the previous page (keyset), if any
    exact: bool = True  # else the list holds more than ``total`` (``keyset.COUNT_LIMIT``)

    @property
    def pages(self) -> int:
        """How many pages the list has (at least this page's number)."""
        return max(1, self.page, -(-self.total // self.per_page))


@dataclass
class Filters:
    cohort: str | None = None
    stage: str | None = None
    qpv: str | None = None
    structure: str | None = None
    # A pseudonym, whole or its first 4 to 7 characters (coordinators' pathway list only).
    pseudonym: str | None = None


class Sort(StrEnum):
    """How a list of people is ordered."""

    RECENT = "recent"  # newest registration first
    NAME = "name"  # last name, then first name, accents folded (caseload only: decrypts names)
    LAST_EVENT = "last_event"  # most recent event first, people without any event last
    IDLE = "idle"  # longest without an event first (people without any event first)
    STAGE = "stage"  # current stage in pathway order, people without a step last


@dataclass
class PathwayRow:
    person: Beneficiary
    current_stage: ReferenceItem | None = None
    last_event_on: date | None = None
    structures: list[str] = field(default_factory=list)
    pending_handoffs: int = 0


def _latest_step_ids(
    people: Sequence[uuid.UUID] | Select[Any] | None = None,
) -> Select[uuid.UUID]:
    """Id of each person's latest pathway step (by start date, then recording time), for
    ``people`` only when given: a page ranks its own steps, not the whole territory's."""
    ranked_steps = select(
        PathwayStep.id,
        func.row_number()
        .over(
            partition_by=PathwayStep.beneficiary_id,
            order_by=(
                PathwayStep.started_on.desc(),
                PathwayStep.created_at.desc(),
                PathwayStep.id.desc(),
            ),
        )
        .label("rank"),
    )
    if people is not None:
        ranked_steps = ranked_steps.where(PathwayStep.beneficiary_id.in_(people))
    ranked = ranked_steps.subquery()
    return select(ranked.c.id).where(ranked.c.rank == 1)


def _latest_stage() -> Any:
    """The stage of the person's latest step (by start date, then recording time), as a
    subquery correlated to ``Beneficiary``: one lookup on the ``ix_pathway_steps_latest``
    index per person it is asked for, whatever the number of steps in the database."""
    return (
        select(PathwayStep.stage_id)
        .where(PathwayStep.beneficiary_id == Beneficiary.id)
        .order_by(
            PathwayStep.started_on.desc(), PathwayStep.created_at.desc(), PathwayStep.id.desc()
        )
        .limit(1)
        .correlate(Beneficiary)
        .scalar_subquery()
    )


def public_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The people of the filters' cohort and QPV (none of either: everyone)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.cohort:
        conditions.append(
            Beneficiary.id.in_(
                select(beneficiary_cohorts.c.beneficiary_id)
                .join(ReferenceItem, ReferenceItem.id == beneficiary_cohorts.c.cohort_id)
                .where(ReferenceItem.code == filters.cohort)
            )
        )
    if filters.qpv:
        conditions.append(
            Beneficiary.qpv_id.in_(
                select(ReferenceItem.id).where(ReferenceItem.code == filters.qpv)
            )
        )
    return conditions


def _filtered(query: Select[Beneficiary], filters: Filters) -> Select[Beneficiary]:
    if filters.pseudonym:
        query = query.where(_pseudonym_condition(filters.pseudonym))
    query = query.where(*public_conditions(filters))
    if filters.structure:
        query = query.where(
            Beneficiary.id.in_(
                select(FollowUp.beneficiary_id)
                .join(Structure, Structure.id == FollowUp.structure_id)
                .where(Structure.code == filters.structure)
            )
        )
    if filters.stage:
        # Each person's latest step, looked up for the people of the list only.
        stage_ids = select(ReferenceItem.id).where(
            ReferenceItem.kind == ReferenceKind.STAGE, ReferenceItem.code == filters.stage
        )
        query = query.where(_latest_stage().in_(stage_ids))
    return query


def _pseudonym_condition(text: str) -> ColumnElement[bool]:
    """The people whose pseudonym is ``text`` (any case, with or without dashes and ``P-``),
    or begins with it (4 to 7 characters); ``InvalidInput`` when it cannot be a pseudonym."""
    whole = canonical_pseudonym(text)
    if whole is not None:
        return Beneficiary.pseudonym == whole
    prefix = pseudonym_prefix(text)
    if prefix is None:
        raise InvalidInput(
            N_("Type a pseudonym (such as P-7K3M-Q9XA) or its first four characters."),
            field="pseudonym",
        )
    # The alphabet has no LIKE wildcard: the prefix is matched as it is.
    return Beneficiary.pseudonym.startswith(prefix)


def _paginate(
    session: Session,
    query: Select[Beneficiary],
    window: Window,
    per_page: int,
    sort: Sort = Sort.RECENT,
) -> Page[PathwayRow]:
    ordered, keys = _sorted(query, sort)
    found = keyset.fetch(session, ordered, keys, sort.value, window, per_page)
    people = [person for (person,) in found.rows]
    return Page(
        items=rows_for(session, people),
        page=found.position // per_page + 1,
        per_page=per_page,
        total=found.total,
        after=found.after,
        before=found.before,
        exact=found.exact,
    )


# What ties are broken by, last: the newest registration, then the id (unique).
_NEWEST = (
    SortKey(Beneficiary.created_at, Kind.MOMENT, descending=True),
    SortKey(Beneficiary.id, Kind.ID, descending=True),
)
_NO_DAY = date(1, 1, 1)  # people without any event: last by news, first by idleness
_NO_STAGE = 1_000_000  # people without a step: after every stage


def _sorted(
    query: Select[Beneficiary], sort: Sort
) -> tuple[Select[Beneficiary], tuple[SortKey, ...]]:
    """``query`` joined to what ``sort`` orders by, and the keys of that order (by name is
    done on decrypted names, elsewhere; here it is the newest first). The newest order walks
    the ``(created_at, id)`` index; the others compute their key for the people of ``query``
    only (the caseload, not the territory): the stage by one index lookup a person, the last
    event by grouping the caseload's events."""
    if sort in (Sort.LAST_EVENT, Sort.IDLE):
        last = last_event_days(query.with_only_columns(Beneficiary.id).order_by(None))
        day = func.coalesce(last.c.day, literal(_NO_DAY, Date))
        key = SortKey(day, Kind.DAY, descending=sort is Sort.LAST_EVENT)
        query = query.outerjoin(last, last.c.beneficiary_id == Beneficiary.id)
        return query, (key, *_NEWEST)
    if sort is Sort.STAGE:
        stage_position = (
            select(ReferenceItem.position)
            .where(ReferenceItem.id == _latest_stage())
            .correlate(Beneficiary)
            .scalar_subquery()
        )
        position = func.coalesce(stage_position, _NO_STAGE)
        return query, (SortKey(position, Kind.NUMBER), *_NEWEST)
    return query, _NEWEST


def last_event_days(ids: Select[Any]) -> Any:
    """(person id, day of their latest event) for the people of ``ids``, as a subquery: the
    dates ``_last_events`` reads, in SQL."""
    days = union_all(
        select(PathwayStep.beneficiary_id, PathwayStep.started_on.label("day")).where(
            PathwayStep.beneficiary_id.in_(ids)
        ),
        select(Barrier.beneficiary_id, Barrier.identified_on).where(
            Barrier.beneficiary_id.in_(ids)
        ),
        select(Barrier.beneficiary_id, Barrier.closed_on).where(
            Barrier.beneficiary_id.in_(ids), Barrier.closed_on.is_not(None)
        ),
        select(Handoff.beneficiary_id, HandoffTransition.effective_on)
        .join(HandoffTransition, HandoffTransition.handoff_id == Handoff.id)
        .where(Handoff.beneficiary_id.in_(ids)),
    ).subquery()
    return (
        select(days.c.beneficiary_id, func.max(days.c.day).label("day"))
        .select_from(days)
        .group_by(days.c.beneficiary_id)
        .subquery()
    )


def rows_for(session: Session, people: Sequence[Beneficiary]) -> list[PathwayRow]:
    """The rows of a page of people, in their order: a fixed number of queries."""
    rows = {p.id: PathwayRow(person=p) for p in people}
    ids = list(rows)
    if not ids:
        return []
    stages = session.execute(
        select(PathwayStep.beneficiary_id, ReferenceItem)
        .join(ReferenceItem, ReferenceItem.id == PathwayStep.stage_id)
        .where(PathwayStep.id.in_(_latest_step_ids(ids)), PathwayStep.beneficiary_id.in_(ids))
    )
    for pid, stage in stages:
        rows[pid].current_stage = stage
    for pid, when in _last_events(session, ids).items():
        rows[pid].last_event_on = when
    names: dict[uuid.UUID, set[str]] = defaultdict(set)
    for pid, name in session.execute(
        select(FollowUp.beneficiary_id, Structure.name)
        .join(Structure, Structure.id == FollowUp.structure_id)
        .where(FollowUp.beneficiary_id.in_(ids))
    ):
        names[pid].add(name)
    for pid, count in session.execute(
        select(Handoff.beneficiary_id, func.count())
        .where(Handoff.beneficiary_id.in_(ids), Handoff.status == HandoffStatus.SENT)
        .group_by(Handoff.beneficiary_id)
    ):
        rows[pid].pending_handoffs = count
    for pid, found in names.items():
        rows[pid].structures = sorted(found)
    return list(rows.values())


def _last_events(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, date]:
    """The day of the latest step, barrier change or hand-off transition of each person (the
    days they happened: a first contact recorded today but made a month ago is a month old)."""
    latest: dict[uuid.UUID, date] = {}

    def keep(pid: uuid.UUID, when: date | datetime | None) -> None:
        if when is None:
            return
        day = when.date() if isinstance(when, datetime) else when
        if pid not in latest or day > latest[pid]:
            latest[pid] = day

    queries = (
        select(PathwayStep.beneficiary_id, func.max(PathwayStep.started_on))
        .where(PathwayStep.beneficiary_id.in_(ids))
        .group_by(PathwayStep.beneficiary_id),
        select(Barrier.beneficiary_id, func.max(Barrier.identified_on))
        .where(Barrier.beneficiary_id.in_(ids))
        .group_by(Barrier.beneficiary_id),
        select(Barrier.beneficiary_id, func.max(Barrier.closed_on))
        .where(Barrier.beneficiary_id.in_(ids))
        .group_by(Barrier.beneficiary_id),
        select(Handoff.beneficiary_id, func.max(HandoffTransition.effective_on))
        .join(HandoffTransition, HandoffTransition.handoff_id == Handoff.id)
        .where(Handoff.beneficiary_id.in_(ids))
        .group_by(Handoff.beneficiary_id),
    )
    for query in queries:
        for pid, when in session.execute(query):
            keep(pid, when)
    return latest


def caseload(
    session: Session,
    actor: User,
    *,
    today: date,
    filters: Filters,
    window: Window = FIRST_PAGE,
    per_page: int = PER_PAGE,
    sort: Sort = Sort.RECENT,
) -> Page[PathwayRow]:
    """The people the actor's structure follows, newest first or by ``sort`` (not by name:
    see ``app.services.people.search``), a page at a time (``InvalidInput`` for a cursor
    that Relais did not give for this order)."""
    return _paginate(session, caseload_query(actor, today, filters), window, per_page, sort)


def caseload_query(actor: User, today: date, filters: Filters) -> Select[Beneficiary]:
    """The people the actor's structure follows that match ``filters``, unordered."""
    return _filtered(visible_people(actor, today), filters)


def all_pathways(
    session: Session,
    actor: User,
    *,
    filters: Filters,
    window: Window = FIRST_PAGE,
    per_page: int = PER_PAGE,
    sort: Sort = Sort.RECENT,
) -> Page[PathwayRow]:
    """Every pathway of the network, pseudonymous, for a coordinator (never by name)."""
    if actor.role.value != "coordinator":
        raise Forbidden(N_("Only coordinators see every pathway."))
    if sort is Sort.NAME:
        sort = Sort.RECENT
    return _paginate(session, _filtered(select(Beneficiary), filters), window, per_page, sort)


def record_pathway_view(session: Session, actor: User, person: Beneficiary) -> None:
    """Coordinators' consultations of a pathway are audited too (ids only)."""
    audit.record(session, actor, AuditAction.PATHWAY_VIEW, person, beneficiary_id=person.id)
