"""Reading a directory card and saving it: an edit, a confirmation, the free places.

Administrators edit every card; a caseworker edits the card of their own structure when an
administrator gave them the right (see ``editors``). Every change is kept in the card's history
(see ``history``). Saving a card, even unchanged, records that it was checked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.directory import ZoneType
from app.domain.roles import Role
from app.models import (
    ReferenceItem,
    ReferenceKind,
    Structure,
    StructureCard,
    StructureCardChange,
    StructureService,
    User,
)
from app.services.directory.card_input import (
    CARD_COLUMNS,
    ITEM_FIELDS,
    CardInput,
    clean_capacity,
    clean_card_input,
)
from app.services.directory.editors import require_editor
from app.services.directory.history import diff, record_change
from app.services.errors import InvalidInput
from app.services.structures import reference_item

# -- reading a card -------------------------------------------------------------------------


def card_for(session: Session, structure: Structure) -> StructureCard | None:
    return session.get(StructureCard, structure.id)


def blank_card(structure: Structure) -> StructureCard:
    """An empty card (not added to the session), with every default set in Python."""
    return StructureCard(
        structure_id=structure.id,
        siret="",
        address="",
        address_extra="",
        postcode="",
        insee_code="",
        phone="",
        email="",
        website="",
        opening_hours="",
        public_notes="",
        territory="",
        zone_code="",
        covers_all_qpvs=False,
        referral_conditions="",
        referral_documents="",
        referral_modes=[],
        reception_modes=[],
        source="",
        source_id="",
        items=[],
        services=[],
    )


def card_snapshot(structure: Structure, card: StructureCard) -> dict[str, Any]:
    """What the card says, field by field, as JSON values (codes for reference lists)."""
    values: dict[str, Any] = {
        "name": structure.name,
        "type": structure.type.code,
        "missions": structure.missions,
        "contact": structure.contact,
        "city": structure.city,
        "capacity": structure.capacity,
    }
    for name in CARD_COLUMNS:
        values[name] = getattr(card, name)
    values["zone_type"] = card.zone_type.value if card.zone_type else None
    for name, kind in ITEM_FIELDS.items():
        values[name] = sorted(card.codes(kind))
    values["referral_modes"] = sorted(card.referral_modes or [])
    values["reception_modes"] = sorted(card.reception_modes or [])
    values["services"] = [
        {
            "name": s.name,
            "summary": s.summary,
            "types": list(s.types),
            "fees": list(s.fees),
            "fees_detail": s.fees_detail,
        }
        for s in card.services
    ]
    return values


# -- writing --------------------------------------------------------------------------------


def _items(session: Session, data: CardInput) -> list[ReferenceItem]:
    items: list[ReferenceItem] = []
    for name, kind in ITEM_FIELDS.items():
        for code in sorted(set(getattr(data, name))):
            try:
                items.append(reference_item(session, kind, code))
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=name, **exc.params) from exc
    return items


def apply_card(
    session: Session, structure: Structure, card: StructureCard, data: CardInput
) -> None:
    """Write checked values (``clean_card_input``) onto the structure and its card."""
    if data.name is not None:
        structure.name = data.name
    if data.type_code is not None and data.type_code != structure.type.code:
        structure.type = reference_item(session, ReferenceKind.STRUCTURE_TYPE, data.type_code)
    structure.missions, structure.contact, structure.city = data.missions, data.contact, data.city
    structure.capacity = data.capacity
    for name in CARD_COLUMNS:
        setattr(card, name, getattr(data, name))
    card.zone_type = ZoneType(data.zone_type) if data.zone_type else None
    card.referral_modes = list(data.referral_modes)
    card.reception_modes = list(data.reception_modes)
    card.items = _items(session, data)
    kept = {s.name: s for s in card.services}
    services = []
    for position, given in enumerate(data.services, start=1):
        service = kept.pop(given.name, None) or StructureService(name=given.name)
        service.position = position
        service.summary, service.fees_detail = given.summary, given.fees_detail
        service.types, service.fees = list(given.types), list(given.fees)
        services.append(service)
    card.services = services


def card_to_edit(session: Session, structure: Structure) -> StructureCard:
    """The structure's card, created (empty) when it has none yet."""
    card = card_for(session, structure)
    if card is None:
        card = blank_card(structure)
        session.add(card)
        session.flush()
    return card


def update_card(
    session: Session, actor: User | None, structure: Structure, data: CardInput, *, now: datetime
) -> StructureCardChange:
    """Save a card: check, apply, keep the change (or the check when nothing changed).

    Raises ``Forbidden`` for someone who may not edit it, ``InvalidInput`` naming the field.
    """
    require_editor(actor, structure)
    if actor is not None and actor.role is not Role.ADMIN:
        data = replace(data, name=None, type_code=None)
    clean = clean_card_input(data)
    card = card_to_edit(session, structure)
    before = card_snapshot(structure, card)
    apply_card(session, structure, card, clean)
    session.flush()
    changes = diff(before, card_snapshot(structure, card))
    if "capacity" in changes or (
        structure.capacity is not None and card.capacity_updated_at is None
    ):
        card.capacity_updated_at = now
    card.checked_at, card.checked_by_id = now, actor.id if actor else None
    if changes:
        card.updated_at = structure.updated_at = now
    return record_change(
        session, actor, structure, "edit" if changes else "check", changes, now=now
    )


def confirm_card(
    session: Session, actor: User | None, structure: Structure, *, now: datetime
) -> StructureCardChange:
    """Record that the card was read again and is still right."""
    require_editor(actor, structure)
    card = card_to_edit(session, structure)
    card.checked_at, card.checked_by_id = now, actor.id if actor else None
    return record_change(session, actor, structure, "check", {}, now=now)


def update_capacity(
    session: Session, actor: User | None, structure: Structure, places: int | None, *, now: datetime
) -> StructureCardChange:
    """Set the number of free places (None: not given) and date it, even when unchanged."""
    require_editor(actor, structure)
    places = clean_capacity(places)
    card = card_to_edit(session, structure)
    changes = {"capacity": [structure.capacity, places]} if structure.capacity != places else {}
    structure.capacity = places
    card.capacity_updated_at = now
    if changes:
        card.updated_at = structure.updated_at = now
    return record_change(session, actor, structure, "capacity", changes, now=now)
