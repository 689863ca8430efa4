"""The partner directory: who does what, for whom, where, and with how many free places.

Every signed-in role reads it (field workers read nothing else), and visitors too when the
public directory is switched on. It shows the active structures with their cards; a card not
checked for ``stale_months`` months is flagged. Editing is in ``directory_cards``.

Free-text search runs in Python over the structures' texts, folded (no case, no accents), so
that "creche" finds "crèche" on every database; a territory's directory holds tens to a few
hundred structures.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app.domain.directory import Fit, age_fits, capacity_rank, is_stale
from app.domain.people import age_on
from app.domain.roles import Role
from app.models import (
    Beneficiary,
    ReferenceItem,
    ReferenceKind,
    Structure,
    StructureCard,
    User,
    structure_card_items,
)
from app.services.directory_cards import blank_card
from app.services.errors import N_, NotFound

PARIS = ZoneInfo("Europe/Paris")
# "Tout public": a card open to everyone fits every cohort.
EVERYONE = "other"


@dataclass(frozen=True)
class DirectoryEntry:
    """A structure and its card (a blank one, not saved, when it has none yet)."""

    structure: Structure
    card: StructureCard
    stale: bool
    has_card: bool

    @property
    def checked_on(self) -> date | None:
        return local_date(self.card.checked_at)


@dataclass(frozen=True)
class DirectoryQuery:
    barrier: str | None = None
    stage: str | None = None
    cohort: str | None = None
    qpv: str | None = None
    text: str = ""
    stale_only: bool = False

    @property
    def is_empty(self) -> bool:
        return not (
            self.barrier or self.stage or self.cohort or self.qpv or self.text or self.stale_only
        )


@dataclass(frozen=True)
class PartnerSuggestion:
    entry: DirectoryEntry
    fit: Fit


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(PARIS).date() if moment else None


def fold(text: str) -> str:
    """Lower case without accents, for matching what people type."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _entry(
    structure: Structure, card: StructureCard | None, today: date, months: int
) -> DirectoryEntry:
    shown = card if card is not None else blank_card(structure)
    stale = is_stale(local_date(shown.checked_at), today, months)
    return DirectoryEntry(structure=structure, card=shown, stale=stale, has_card=card is not None)


def directory_entry(
    session: Session, code: str, *, today: date, stale_months: int
) -> DirectoryEntry:
    """The active structure ``code`` with its card, or ``NotFound``."""
    structure = session.scalar(
        select(Structure).where(Structure.code == code.strip().upper(), Structure.active.is_(True))
    )
    if structure is None:
        raise NotFound(N_("No structure has the code %(code)s."), field="structure", code=code)
    return _entry(structure, session.get(StructureCard, structure.id), today, stale_months)


def _has_item(kind: ReferenceKind, code: str) -> ColumnElement[bool]:
    return exists().where(
        structure_card_items.c.structure_id == Structure.id,
        structure_card_items.c.item_id == ReferenceItem.id,
        ReferenceItem.kind == kind,
        ReferenceItem.code == code,
    )


def _searchable(entry: DirectoryEntry) -> str:
    s, card = entry.structure, entry.card
    parts = [s.code, s.name, s.city, s.missions, s.type.label_fr, s.type.label_en]
    parts += [card.public_notes, card.territory, card.referral_conditions]
    parts += [text for item in card.items for text in (item.label_fr, item.label_en)]
    parts += [text for service in card.services for text in (service.name, service.summary)]
    return fold(" ".join(parts))


def search_directory(
    session: Session, query: DirectoryQuery, *, today: date, stale_months: int
) -> list[DirectoryEntry]:
    """The active structures whose card matches every criterion given, by name.

    A card open to everyone (cohort ``other``) matches every cohort; a card covering every
    QPV matches every QPV. Words of ``text`` must all appear (case and accents ignored).
    """
    statement = (
        select(Structure, StructureCard)
        .outerjoin(StructureCard, StructureCard.structure_id == Structure.id)
        .where(Structure.active.is_(True))
    )
    if query.barrier:
        statement = statement.where(_has_item(ReferenceKind.BARRIER_CATEGORY, query.barrier))
    if query.stage:
        statement = statement.where(_has_item(ReferenceKind.STAGE, query.stage))
    if query.cohort:
        statement = statement.where(
            or_(
                _has_item(ReferenceKind.COHORT, query.cohort),
                _has_item(ReferenceKind.COHORT, EVERYONE),
            )
        )
    if query.qpv:
        statement = statement.where(
            or_(StructureCard.covers_all_qpvs.is_(True), _has_item(ReferenceKind.QPV, query.qpv))
        )
    entries = [_entry(s, c, today, stale_months) for s, c in session.execute(statement).all()]
    words = fold(query.text[:100]).split()
    if words:
        entries = [e for e in entries if all(w in _searchable(e) for w in words)]
    if query.stale_only:
        entries = [e for e in entries if e.stale]
    return sorted(entries, key=lambda e: fold(e.structure.name))


def stale_count(session: Session, *, today: date, stale_months: int) -> int:
    entries = search_directory(session, DirectoryQuery(), today=today, stale_months=stale_months)
    return sum(1 for e in entries if e.stale)


def card_reminder(
    session: Session, user: User, *, today: date, stale_months: int
) -> DirectoryEntry | None:
    """The card of a caseworker's structure when it needs checking, else None."""
    if user.role is not Role.CASEWORKER or user.structure is None or not user.structure.active:
        return None
    entry = directory_entry(session, user.structure.code, today=today, stale_months=stale_months)
    return entry if entry.stale else None


def card_editors(session: Session, structure: Structure) -> list[User]:
    """The active caseworkers allowed to edit this structure's card."""
    query = select(User).where(
        and_(User.structure_id == structure.id, User.can_edit_card.is_(True), User.active.is_(True))
    )
    return list(session.scalars(query.order_by(func.lower(User.display_name))))


def suggest_partners(
    session: Session,
    person: Beneficiary,
    *,
    purpose_barrier: str | None,
    purpose_stage: str | None,
    exclude: Collection[int],
    today: date,
    stale_months: int,
) -> list[PartnerSuggestion]:
    """Every active partner but ``exclude``, best fit first, for a hand-off of ``person``.

    Fit reads the purpose (the barrier category or stage the card acts on), the person's
    cohorts and QPV, and their age against the card's age range (see ``Fit``); among equal
    fits, partners with free places come first.
    """
    cohorts = {c.code for c in person.cohorts}
    qpv = person.qpv.code if person.qpv else None
    age = age_on(person.birth_year, today) if person.birth_year else None
    suggestions = []
    for entry in search_directory(
        session, DirectoryQuery(), today=today, stale_months=stale_months
    ):
        if entry.structure.id in exclude:
            continue
        card = entry.card
        offered = set(card.codes(ReferenceKind.COHORT))
        purpose: bool | None = None
        if purpose_barrier:
            purpose = purpose_barrier in card.codes(ReferenceKind.BARRIER_CATEGORY)
        elif purpose_stage:
            purpose = purpose_stage in card.codes(ReferenceKind.STAGE)
        fit = Fit(
            purpose=purpose,
            cohort=bool(cohorts & offered) or EVERYONE in offered,
            qpv=qpv is not None and (card.covers_all_qpvs or qpv in card.codes(ReferenceKind.QPV)),
            age=age_fits(age, card.age_min, card.age_max),
        )
        suggestions.append(PartnerSuggestion(entry, fit))
    return sorted(
        suggestions,
        key=lambda s: (
            -s.fit.score,
            capacity_rank(s.entry.structure.capacity),
            fold(s.entry.structure.name),
        ),
    )
