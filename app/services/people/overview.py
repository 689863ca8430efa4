"""Lists of pathways: a structure's caseload and the coordinator's pseudonymous overview.

Each list is one paginated query plus a fixed number of queries for the page's people
(current stage, structures involved): never one query per row. The current stage and the day
of the last event are kept on each person's row (``app.services.pathways.state``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import ConsentScope
from app.domain.people import canonical_pseudonym, pseudonym_prefix
from app.models import (
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
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
from app.services.statistics.lost import DEFAULT_CONTACT_DAYS, DEFAULT_DAYS, lost_today

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


class Situation(StrEnum):
    """The caseload's people that ask for action, as the work queue lists them."""

    NO_CONSENT = "no_consent"  # without a current consent to share with the network
    LOST = "lost"  # lost from view today


@dataclass
class Filters:
    cohort: str | None = None
    stage: str | None = None
    qpv: str | None = None
    structure: str | None = None
    # A pseudonym, whole or its first 4 to 7 characters (coordinators' pathway list only).
    pseudonym: str | None = None
    # Only the people the actor is the referent of (caseload only; see ``caseload_query``).
    mine: bool = False
    # Only the people in a situation that asks for action (caseload only), and when the
    # people are lost from view (``app.services.statistics.lost``; the instance's settings).
    situation: Situation | None = None
    lost_days: int = DEFAULT_DAYS
    lost_contact_days: int = DEFAULT_CONTACT_DAYS


class Sort(StrEnum):
    """How a list of people is ordered."""

    RECENT = "recent"  # newest registration first
    NAME = "name"  # last name, then first name, accents folded (caseload only: decrypts names)
    LAST_EVENT = "last_event"  # most recent event first, people without any event last
    IDLE = "idle"  # longest without an event first (people without any event first), the
    # last-event order reversed (ties: the oldest registration first)
    STAGE = "stage"  # current stage in pathway order, people without a step last (ties: the
    # oldest registration first, the order of the stage index)


@dataclass
class PathwayRow:
    person: Beneficiary
    current_stage: ReferenceItem | None = None
    last_event_on: date | None = None
    structures: list[str] = field(default_factory=list)
    pending_handoffs: int = 0


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
        # The stage kept on each person's row (``app.services.pathways.state``), by its
        # position, which is unique among the stages (seeded apart, a new one after the
        # last): the people of one stage, newest first, walk the stage index backwards.
        stages = select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.STAGE, ReferenceItem.code == filters.stage
        )
        query = query.where(
            Beneficiary.current_stage_position
            == stages.with_only_columns(ReferenceItem.position).scalar_subquery(),
        )
    return query


def consent_missing(
    person: QueryableAttribute[uuid.UUID], *, per_row: bool = False
) -> ColumnElement[bool]:
    """Whether ``person`` has no current consent to share with the network.

    ``NOT EXISTS`` by default: a list of a caseload filtered to them walks its order's index
    and anti-joins the consents (6 ms for a page of the Mission Locale's 19,684 people at
    100,000 people, where the form below took 117). ``per_row``: a correlated lookup (a scalar
    subquery), for a query that walks some rows in its own order and stops (the work queue's
    section by start day): PostgreSQL, which estimates almost everyone consented, would
    otherwise hash every consent of the territory (93,160 rows) to anti-join a whole caseload;
    this way it probes the consents of the rows it walks only."""
    conditions = (
        Consent.beneficiary_id == person,
        Consent.scope == ConsentScope.NETWORK_SHARING,
        Consent.withdrawn_on.is_(None),
    )
    if not per_row:
        return ~exists().where(*conditions)
    return select(Consent.id).where(*conditions).limit(1).scalar_subquery().is_(None)


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
# The idle order is the last-event order reversed (people without any event, on
# ``NO_EVENT``, first): both walk the ``(last_event_on, created_at, id)`` index. The stage
# order breaks its ties the same way, to walk ``(current_stage_position, created_at, id)``.
_OLDEST = (
    SortKey(Beneficiary.created_at, Kind.MOMENT),
    SortKey(Beneficiary.id, Kind.ID),
)


def _sorted(
    query: Select[Beneficiary], sort: Sort
) -> tuple[Select[Beneficiary], tuple[SortKey, ...]]:
    """``query`` joined to what ``sort`` orders by, and the keys of that order (by name is
    done on decrypted names, elsewhere; here it is the newest first). The newest order walks
    the ``(created_at, id)`` index, the orders by news the ``(last_event_on, created_at, id)``
    one (the day kept on each row), the stage order the ``(current_stage_position, created_at,
    id)`` one."""
    if sort is Sort.LAST_EVENT:
        return query, (SortKey(Beneficiary.last_event_on, Kind.DAY, descending=True), *_NEWEST)
    if sort is Sort.IDLE:
        return query, (SortKey(Beneficiary.last_event_on, Kind.DAY), *_OLDEST)
    if sort is Sort.STAGE:
        position = SortKey(Beneficiary.current_stage_position, Kind.NUMBER)
        return query, (position, *_OLDEST)
    return query, _NEWEST


def rows_for(session: Session, people: Sequence[Beneficiary]) -> list[PathwayRow]:
    """The rows of a page of people, in their order: a fixed number of queries."""
    rows = {p.id: PathwayRow(person=p) for p in people}
    ids = list(rows)
    if not ids:
        return []
    stage_ids = {p.current_stage_id for p in people if p.current_stage_id is not None}
    stages = {
        stage.id: stage
        for stage in (
            session.scalars(select(ReferenceItem).where(ReferenceItem.id.in_(stage_ids)))
            if stage_ids
            else ()
        )
    }
    for row in rows.values():
        stage_id, row.last_event_on = row.person.current_stage_id, row.person.last_event_day
        row.current_stage = stages.get(stage_id) if stage_id is not None else None
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
    """The people the actor's structure follows that match ``filters``, unordered; with
    ``filters.mine``, only those whose open follow-up by the structure names the actor as
    referent (the ``ix_follow_ups_referent_open`` index)."""
    query = _filtered(visible_people(actor, today), filters)
    if filters.situation is Situation.NO_CONSENT:
        query = query.where(consent_missing(Beneficiary.id))
    elif filters.situation is Situation.LOST:
        query = query.where(lost_today(today, filters.lost_days, filters.lost_contact_days))
    if filters.mine:
        query = query.where(
            Beneficiary.id.in_(
                select(FollowUp.beneficiary_id).where(
                    FollowUp.referent_id == actor.id,
                    FollowUp.structure_id == actor.structure_id,
                    FollowUp.ended_on.is_(None),
                )
            )
        )
    return query


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
