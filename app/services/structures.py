"""Partner structures and reference lists."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.capacity import MAX_FREE_PLACES
from app.domain.french import Article, StructurePhrases, guess_article, name_sort_key, phrases
from app.domain.numbers import read_id
from app.models import ReferenceItem, ReferenceKind, Structure, User
from app.services.errors import N_, Conflict, InvalidInput, NotFound
from app.services.security import audit
from app.services.text_limits import column_length, within

STRUCTURE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
REFERENCE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# The longest missions text (a ``Text`` column), as the directory card allows it.
MISSIONS_LENGTH = 4000
# The names of the reference lists, as the command line and data exchange write them.
REFERENCE_KINDS: tuple[str, ...] = tuple(kind.value for kind in ReferenceKind)


def reference_kind(name: str) -> ReferenceKind:
    """The reference list called ``name``; ``ValueError`` if it is not in ``REFERENCE_KINDS``."""
    return ReferenceKind(name)


def reference_items(
    session: Session, kind: ReferenceKind, *, include_inactive: bool = False
) -> list[ReferenceItem]:
    query = select(ReferenceItem).where(ReferenceItem.kind == kind)
    if not include_inactive:
        query = query.where(ReferenceItem.active.is_(True))
    return list(session.scalars(query.order_by(ReferenceItem.position, ReferenceItem.code)))


def every_reference_list(session: Session) -> dict[ReferenceKind, list[ReferenceItem]]:
    """Every reference list, inactive items included, in one query (the admin's page)."""
    lists: dict[ReferenceKind, list[ReferenceItem]] = {kind: [] for kind in ReferenceKind}
    query = select(ReferenceItem).order_by(ReferenceItem.position, ReferenceItem.code)
    for item in session.scalars(query):
        lists[item.kind].append(item)
    return lists


def reference_item(session: Session, kind: ReferenceKind, code: str) -> ReferenceItem:
    """The active item ``code`` of list ``kind``, or ``InvalidInput`` naming the list."""
    item = session.scalar(
        select(ReferenceItem).where(ReferenceItem.kind == kind, ReferenceItem.code == code)
    )
    if item is None or not item.active:
        raise InvalidInput(
            N_("Unknown code %(code)s in the list %(kind)s."),
            field=kind.value,
            code=code,
            kind=kind.value,
        )
    return item


def add_reference_item(
    session: Session,
    actor: User | None,
    kind: ReferenceKind,
    code: str,
    label_fr: str,
    label_en: str,
) -> ReferenceItem:
    """Append an entry to a reference list (entries are never deleted, only deactivated)."""
    within(code, column_length(ReferenceItem.code), "code")
    if not REFERENCE_CODE.match(code):
        raise InvalidInput(N_("A code is made of letters, digits, - and _."), field="code")
    if not label_fr.strip() or not label_en.strip():
        raise InvalidInput(N_("Give a French and an English label."), field="label")
    label_fr = within(label_fr, column_length(ReferenceItem.label_fr), "label_fr")
    label_en = within(label_en, column_length(ReferenceItem.label_en), "label_en")
    exists = session.scalar(
        select(ReferenceItem.id).where(ReferenceItem.kind == kind, ReferenceItem.code == code)
    )
    if exists is not None:
        raise Conflict(
            N_("The code %(code)s already exists in this list."), field="code", code=code
        )
    last = session.scalar(
        select(func.max(ReferenceItem.position)).where(ReferenceItem.kind == kind)
    )
    item = ReferenceItem(
        kind=kind,
        code=code,
        label_fr=label_fr,
        label_en=label_en,
        position=(last or 0) + 10,
        active=True,
    )
    session.add(item)
    session.flush()
    audit.record(session, actor, AuditAction.REFERENCE_ADD, item, kind=kind.value)
    return item


def list_structures(session: Session, *, include_inactive: bool = True) -> list[Structure]:
    """The structures by name, accents and case folded ("École…" between "Conseil…" and
    "EPIDE…"): every list and select of partners uses this order."""
    query = select(Structure)
    if not include_inactive:
        query = query.where(Structure.active.is_(True))
    return sorted(session.scalars(query), key=lambda s: name_sort_key(s.name))


def structure_article(structure: Structure) -> Article:
    """The article of the structure's name: the one chosen, or the one its name suggests."""
    stored = structure.article
    if stored is not None and stored in Article._value2member_map_:
        return Article(stored)
    return guess_article(structure.name)


def structure_phrases(structure: Structure, locale: str) -> StructurePhrases:
    """The structure's name as sentences in ``locale`` need it ("à la Mission Locale")."""
    return phrases(structure.name, structure_article(structure), locale)


def _article(value: str | None) -> str | None:
    """A stored article from what a form or the command line gives ("" or None: derive)."""
    text = (value or "").strip().lower().rstrip("'’")
    if not text:
        return None
    if text not in Article._value2member_map_:
        raise InvalidInput(
            N_("Choose the article among le, la, l', les and none."), field="article"
        )
    return text


def set_structure_article(
    session: Session, actor: User | None, structure: Structure, article: str | None
) -> Structure:
    """Choose the article of a structure's name (``None``: derive it from the name)."""
    structure.article = _article(article)
    session.flush()
    audit.record(
        session, actor, AuditAction.STRUCTURE_ARTICLE, structure, article=structure.article or ""
    )
    return structure


def structure_by_id(session: Session, structure_id: str | int | None) -> Structure | None:
    """The structure a form names by its id (digits), or ``None``; callers check what it may
    be used for (an active partner, another structure than the actor's)."""
    found = read_id(str(structure_id)) if structure_id is not None else None
    return session.get(Structure, found) if found is not None else None


def get_structure(session: Session, code: str) -> Structure:
    structure = session.scalar(select(Structure).where(Structure.code == code.strip().upper()))
    if structure is None:
        raise NotFound(N_("No structure has the code %(code)s."), field="structure", code=code)
    return structure


def create_structure(
    session: Session,
    actor: User | None,
    *,
    code: str,
    name: str,
    type_code: str,
    missions: str = "",
    contact: str = "",
    city: str = "",
    capacity: int | None = None,
    article: str | None = None,
) -> Structure:
    """Create a partner structure; its code is short, upper-case and unique. ``article``
    (le, la, l, les, none) is that of its name in French; without it, the name suggests it."""
    code = code.strip().upper()
    if not STRUCTURE_CODE.match(code):
        raise InvalidInput(
            N_("A structure code is 2 to 32 capital letters, digits, - or _."), field="code"
        )
    if not name.strip():
        raise InvalidInput(N_("Enter the structure's name."), field="name")
    name = within(name, column_length(Structure.name), "name")
    city = within(city, column_length(Structure.city), "city")
    contact = within(contact, column_length(Structure.contact), "contact")
    missions = within(missions, MISSIONS_LENGTH, "missions")
    if capacity is not None and capacity < 0:
        raise InvalidInput(N_("Capacity cannot be negative."), field="capacity")
    if capacity is not None and capacity > MAX_FREE_PLACES:
        raise InvalidInput(
            N_("Enter a number from %(low)d to %(high)d."),
            field="capacity",
            low=0,
            high=MAX_FREE_PLACES,
        )
    if session.scalar(select(Structure.id).where(Structure.code == code)) is not None:
        raise Conflict(N_("The code %(code)s is already used."), field="code", code=code)
    structure_type = reference_item(session, ReferenceKind.STRUCTURE_TYPE, type_code)
    structure = Structure(
        code=code,
        name=name,
        type_id=structure_type.id,
        missions=missions,
        contact=contact,
        city=city,
        capacity=capacity,
        article=_article(article),
    )
    structure.type = structure_type
    session.add(structure)
    session.flush()
    audit.record(session, actor, AuditAction.STRUCTURE_CREATE, structure)
    return structure
