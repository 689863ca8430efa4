"""Reading hand-offs: a structure's inbox and outbox, counts, and one hand-off for a party.

The receiving structure sees a pending hand-off without the person's identity: pseudonym,
cohorts, age band, QPV, purpose, barriers and the sender's note. Only structures party to a
hand-off can open it; for anyone else it does not exist. A list is read a page at a time, and
each row says whether the actor's structure follows the person (``access.follows``): the
rows whose name the page may show, revealed (and audited) by the caller for that page only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Select, and_, bindparam, case, exists, func, select
from sqlalchemy.orm import Session, joinedload, lazyload, load_only, with_expression

from app.domain.deadlines import deadline_cutoff
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffLink,
    PersonKey,
    User,
    WebhookEndpoint,
)
from app.services import keyset
from app.services.errors import N_, NotFound
from app.services.handoffs.deadlines import waiting_since
from app.services.keyset import FIRST_PAGE, Kind, SortKey, Window
from app.services.mail.queue import CONTACT_ONLY
from app.services.people.access import followed_ids, follows
from app.services.security.vault import Vault

PER_PAGE = 50
# Waiting hand-offs first, then the newest sent, then the id (unique): the order of a box,
# read in two parts (waiting, the others) through the ``(structure, status, sent_at, id)`` and
# ``(structure, sent_at, id)`` indexes of each box.
_ORDER = (
    SortKey(case((Handoff.status == HandoffStatus.SENT, 0), else_=1), Kind.NUMBER),
    SortKey(Handoff.sent_at, Kind.MOMENT, descending=True),
    SortKey(Handoff.id, Kind.ID, descending=True),
)


class Box(StrEnum):
    INBOX = "in"
    OUTBOX = "out"


@dataclass(frozen=True)
class HandoffFilters:
    status: HandoffStatus | None = None
    purpose: str | None = None  # "stage" or "barrier"
    overdue: bool = False


def _structure_id(actor: User) -> int:
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise NotFound(N_("No hand-off here."))
    return actor.structure_id


def _box(actor: User, box: Box) -> Select[Handoff]:
    column = Handoff.to_structure_id if box is Box.INBOX else Handoff.from_structure_id
    return select(Handoff).where(column == _structure_id(actor))


def overdue_since(now: datetime, overdue_days: int) -> datetime:
    """Hand-offs sent before this moment and still unanswered are overdue."""
    return deadline_cutoff(now, overdue_days)


# What a row of the lists shows, loaded with the hand-offs (each a many-to-one: one join):
# the person's pseudonym (not their cohorts), the purpose, the other party (joined always).
_ROW_LOADS = (
    joinedload(Handoff.beneficiary).lazyload(Beneficiary.cohorts),
    joinedload(Handoff.purpose_stage),
    joinedload(Handoff.purpose_barrier),
)


@dataclass(frozen=True)
class HandoffRow:
    handoff: Handoff
    # The actor's structure follows the person (and the identity is not erased): the page may
    # show the name, revealed and audited for this row.
    followed: bool


@dataclass(frozen=True)
class HandoffPage:
    """One page of a box: ``rows`` are hand-offs ``first`` to ``last`` of ``total``."""

    rows: list[HandoffRow]
    page: int
    per_page: int
    total: int
    position: int = 0  # hand-offs of the box before the page's first
    after: str | None = None  # the cursor of the next page, if any
    before: str | None = None  # the cursor of the previous page, if any
    exact: bool = True  # else the box holds more than ``total`` (``keyset.COUNT_LIMIT``)

    @property
    def pages(self) -> int:
        """How many pages the box has (at least this page's number)."""
        return max(1, self.page, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return self.position + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.position + len(self.rows)

    def followed_people(self) -> list[Beneficiary]:
        """The people of the page whose name may be shown, each once, in the page's order."""
        people: dict[uuid.UUID, Beneficiary] = {}
        for row in self.rows:
            if row.followed:
                people.setdefault(row.handoff.beneficiary_id, row.handoff.beneficiary)
        return list(people.values())


def list_box(
    session: Session,
    actor: User,
    box: Box,
    *,
    filters: HandoffFilters,
    now: datetime,
    today: date,
    overdue_days: int,
    window: Window = FIRST_PAGE,
    per_page: int = PER_PAGE,
) -> HandoffPage:
    """A page of the structure's hand-offs in ``box``, pending first, then newest first.

    Two queries whatever the page (``keyset.fetch``): the page's rows with what they show
    (the person, the purpose, the other party, whether the actor's structure follows the
    person), and the count of the matching hand-offs. A page past the end gives the last
    page; a cursor that Relais did not give is ``InvalidInput``.
    """
    query = _box(actor, box)
    if filters.status is not None:
        query = query.where(Handoff.status == filters.status)
    if filters.purpose == "stage":
        query = query.where(Handoff.purpose_stage_id.is_not(None))
    elif filters.purpose == "barrier":
        query = query.where(Handoff.purpose_barrier_id.is_not(None))
    if filters.overdue:
        query = query.where(waiting_since(now, overdue_days))
    # Looked up for the page's rows (EXISTS), not by reading the structure's whole caseload.
    followed = follows(actor, today, Handoff.beneficiary_id).label("followed")
    found = keyset.fetch(
        session,
        query.add_columns(followed).options(*_ROW_LOADS),
        _ORDER,
        "box",
        window,
        per_page,
        # Waiting first, then the others: each read newest first on an index of the box.
        parts=(Handoff.status == HandoffStatus.SENT, Handoff.status != HandoffStatus.SENT),
    )
    return HandoffPage(
        rows=[
            HandoffRow(handoff, bool(sees) and handoff.beneficiary.erased_at is None)
            for handoff, sees in found.rows
        ],
        page=found.position // per_page + 1,
        per_page=per_page,
        total=found.total,
        position=found.position,
        after=found.after,
        before=found.before,
        exact=found.exact,
    )


def follows_person(session: Session, actor: User, person: Beneficiary, today: date) -> bool:
    """Whether the actor's structure may see ``person``'s identity (see ``access``)."""
    if person.erased_at is not None:
        return False
    found = session.scalar(
        followed_ids(actor, today).where(FollowUp.beneficiary_id == person.id).limit(1)
    )
    return found is not None


def box_counts(
    session: Session, actor: User, box: Box, *, now: datetime, overdue_days: int
) -> dict[str, int]:
    """Counts per status in ``box``, plus ``overdue`` and ``all`` (one query)."""
    inner = _box(actor, box).subquery()
    late = and_(
        inner.c.status == HandoffStatus.SENT.value,
        inner.c.sent_at < overdue_since(now, overdue_days),
    )
    counts: dict[str, int] = {}
    overdue = 0
    for status, count, late_count in session.execute(
        select(inner.c.status, func.count(), func.sum(case((late, 1), else_=0))).group_by(
            inner.c.status
        )
    ):
        counts[str(status)] = count
        overdue += int(late_count or 0)
    counts["all"] = sum(counts.values())
    counts["overdue"] = overdue
    return counts


def pending_inbox_count(session: Session, actor: User) -> int:
    """Hand-offs waiting for the actor's structure to answer (the navigation badge)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return 0
    return (
        session.scalar(
            select(func.count()).where(
                Handoff.to_structure_id == actor.structure_id, Handoff.status == HandoffStatus.SENT
            )
        )
        or 0
    )


# Every page of a hand-off and every answer reads its person (pseudonym, erasure): in the
# same statement. The cohorts are read only where they are shown. Built once (each request
# reads one hand-off: the statement's cache key is computed once, not at each read).
_BY_ID = Handoff.id == bindparam("handoff_id", type_=Handoff.id.type)
_FOR_PAGE = (
    select(Handoff)
    .where(_BY_ID)
    .options(joinedload(Handoff.beneficiary).lazyload(Beneficiary.cohorts))
)
_FOR_ANSWER = (
    select(Handoff)
    .where(_BY_ID)
    .options(
        joinedload(Handoff.beneficiary).options(
            # What an answer reads of the person: the pseudonym, the erasure, the identity
            # fields the check of its message looks for (with the data key), the QPV a
            # decline's unmet need counts in (the rest - search indexes, notes, kept state,
            # profile - is loaded if a refused answer's page reads it).
            load_only(
                Beneficiary.pseudonym,
                Beneficiary.erased_at,
                Beneficiary.qpv_id,
                Beneficiary.last_name,
                Beneficiary.first_name,
                Beneficiary.birth_date,
                Beneficiary.phone,
                Beneficiary.email,
            ),
            lazyload(Beneficiary.cohorts),
            lazyload(Beneficiary.qpv),
            joinedload(Beneficiary.data_key).load_only(PersonKey.kek_id, PersonKey.wrapped_key),
        ),
        joinedload(Handoff.sender).options(*CONTACT_ONLY),
        lazyload(Handoff.from_structure),
        lazyload(Handoff.to_structure),
        # What spares most answers two statements (``Handoff.has_open_links``,
        # ``Handoff.heard_by_webhooks``): two index probes in the same read.
        with_expression(
            Handoff.has_open_links,
            exists().where(
                HandoffLink.handoff_id == Handoff.id,
                HandoffLink.used_at.is_(None),
                HandoffLink.revoked_at.is_(None),
            ),
        ),
        with_expression(
            Handoff.heard_by_webhooks,
            exists().where(
                WebhookEndpoint.structure_id.in_(
                    [Handoff.from_structure_id, Handoff.to_structure_id]
                ),
                WebhookEndpoint.active.is_(True),
            ),
        ),
    )
)


def handoff_for_party(
    session: Session, actor: User, handoff_id: str, *, answering: bool = False
) -> Handoff:
    """The hand-off if the actor's structure sent or received it, else ``NotFound``.

    ``answering``: read for an answer (accept, decline...), in the same statement as what the
    answer uses: the person's wrapped data key (the check of its message), what its
    mail needs of the sending account (``mail.queue.sender_contacts``), both then found in the
    session, and whether it has a link to revoke or an endpoint to tell; not the structures
    (their ids are on the row) nor the person's QPV, read only if a refused answer's page
    shows them."""
    structure_id = _structure_id(actor)
    try:
        ident = uuid.UUID(handoff_id)
    except ValueError:
        raise NotFound(N_("No hand-off here.")) from None
    read = _FOR_ANSWER if answering else _FOR_PAGE
    handoff = session.execute(read, {"handoff_id": ident}).scalar_one_or_none()
    if handoff is None or structure_id not in (handoff.from_structure_id, handoff.to_structure_id):
        raise NotFound(N_("No hand-off here."))
    return handoff


def chain(session: Session, handoff: Handoff) -> list[Handoff]:
    """The redirect chain the hand-off belongs to, from the first hand-off to the last."""
    first = handoff
    while first.parent_id is not None:
        parent = session.get(Handoff, first.parent_id)
        if parent is None:
            break
        first = parent
    links = [first]
    while True:
        child = session.scalar(select(Handoff).where(Handoff.parent_id == links[-1].id))
        if child is None:
            return links
        links.append(child)


def person_barriers(session: Session, person_id: uuid.UUID) -> list[Barrier]:
    return list(
        session.scalars(
            select(Barrier)
            .where(Barrier.beneficiary_id == person_id)
            .order_by(Barrier.identified_on)
        )
    )


def handoff_texts(session: Session, vault: Vault, handoff: Handoff) -> dict[uuid.UUID, str]:
    """The note and transition messages of one hand-off, for its parties only."""
    sealed = [("handoffs", "note", handoff.id, handoff.note)]
    sealed += [("handoff_transitions", "message", e.id, e.message) for e in handoff.events]
    return vault.open_many(session, handoff.beneficiary_id, sealed)
