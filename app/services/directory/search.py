"""Reading the directory: the active structures with their cards, searched.

Every signed-in role reads it (field workers read nothing else), and visitors too when the
public directory is switched on. It shows the active structures with their cards; a card not
checked for ``stale_months`` months is flagged. Editing is in ``cards``.

Free-text search runs in Python over the structures' texts, folded (no case, no accents), so
that "creche" finds "crèche" on every database; a territory's directory holds tens to a few
hundred structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from app.domain.directory import is_stale
from app.domain.french import fold
from app.domain.roles import Role
from app.models import (
    ReferenceItem,
    ReferenceKind,
    Structure,
    StructureCard,
    User,
    structure_card_items,
)
from app.services.directory.cards import blank_card
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


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(PARIS).date() if moment else None


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


def _criteria(query: DirectoryQuery) -> list[ColumnElement[bool]]:
    """The SQL conditions of the reference-list criteria of ``query``."""
    criteria = []
    if query.barrier:
        criteria.append(_has_item(ReferenceKind.BARRIER_CATEGORY, query.barrier))
    if query.stage:
        criteria.append(_has_item(ReferenceKind.STAGE, query.stage))
    if query.cohort:
        criteria.append(
            or_(
                _has_item(ReferenceKind.COHORT, query.cohort),
                _has_item(ReferenceKind.COHORT, EVERYONE),
            )
        )
    if query.qpv:
        criteria.append(
            or_(StructureCard.covers_all_qpvs.is_(True), _has_item(ReferenceKind.QPV, query.qpv))
        )
    return criteria


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
        .where(Structure.active.is_(True), *_criteria(query))
    )
    entries = [_entry(s, c, today, stale_months) for s, c in session.execute(statement).all()]
    words = fold(query.text[:100]).split()
    if words:
        entries = [e for e in entries if all(w in _searchable(e) for w in words)]
    if query.stale_only:
        entries = [e for e in entries if e.stale]
    return sorted(entries, key=lambda e: fold(e.structure.name))


def stale_count(
    session: Session, viewer: User | None, *, today: date, stale_months: int
) -> int | None:
    """How many cards need checking, which administrators see on the search page (None for
    anyone else)."""
    if viewer is None or viewer.role is not Role.ADMIN:
        return None
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
