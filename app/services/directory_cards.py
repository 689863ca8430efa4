"""Editing a directory card: validation, the change history, capacity, confirmation.

Administrators edit every card; a caseworker edits the card of their own structure when an
administrator gave them the right (``User.can_edit_card``). Every change is kept in
``structure_card_changes`` with each field's old and new value (a card holds no personal
data) and in the audit log with the field names only. Saving a card, even unchanged, records
that it was checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.opening_hours import HoursProblem, OpeningHoursError, normalise_opening_hours
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
from app.services import audit
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.identity import normalise_phone
from app.services.structures import reference_item

# Reference lists a card names, by the field that holds them.
ITEM_FIELDS: dict[str, ReferenceKind] = {
    "cohorts": ReferenceKind.COHORT,
    "barrier_categories": ReferenceKind.BARRIER_CATEGORY,
    "stages": ReferenceKind.STAGE,
    "qpvs": ReferenceKind.QPV,
}
MAX_SERVICES = 20
_SIRET = re.compile(r"^\d{14}$")
_POSTCODE = re.compile(r"^\d{5}$")
_INSEE = re.compile(r"^\w{5}$")
# data·inclusion zone codes: commune or country (5), EPCI (9 digits), département (2-3).
_ZONE_CODE = re.compile(r"^(?:\w{5}|\d{9}|\w{2,3})$")
HOURS_MESSAGES = {
    HoursProblem.UNKNOWN_DAY: N_("Unknown day in “%(rule)s”: write Mo Tu We Th Fr Sa Su."),
    HoursProblem.DAY_ORDER: N_("Days go from Monday to Sunday in “%(rule)s” (Mo-Fr)."),
    HoursProblem.TIME_FORMAT: N_("Write times with two digits, 09:00-12:00, in “%(rule)s”."),
    HoursProblem.NOT_A_TIME: N_("“%(rule)s” holds a time that does not exist."),
    HoursProblem.SPAN_ORDER: N_("A time span must end after it starts in “%(rule)s”."),
    HoursProblem.NO_TIMES: N_("Give times (09:00-12:00) or “off” in “%(rule)s”."),
    HoursProblem.EMPTY_RULE: N_("Remove the empty rule between two semicolons."),
}


@dataclass(frozen=True)
class ServiceInput:
    name: str
    summary: str = ""
    types: Sequence[str] = ()
    fees: Sequence[str] = ()
    fees_detail: str = ""


@dataclass(frozen=True)
class CardInput:
    """Everything a card says. ``name`` and ``type_code`` stay as they are when None (only
    administrators rename a structure or change its type)."""

    missions: str = ""
    contact: str = ""
    city: str = ""
    capacity: int | None = None
    siret: str = ""
    address: str = ""
    address_extra: str = ""
    postcode: str = ""
    insee_code: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    opening_hours: str = ""
    cohorts: Sequence[str] = ()
    age_min: int | None = None
    age_max: int | None = None
    public_notes: str = ""
    barrier_categories: Sequence[str] = ()
    stages: Sequence[str] = ()
    territory: str = ""
    zone_type: str | None = None
    zone_code: str = ""
    qpvs: Sequence[str] = ()
    covers_all_qpvs: bool = False
    referral_conditions: str = ""
    referral_documents: str = ""
    referral_delay_days: int | None = None
    referral_modes: Sequence[str] = ()
    reception_modes: Sequence[str] = ()
    services: Sequence[ServiceInput] = field(default_factory=tuple)
    name: str | None = None
    type_code: str | None = None


# -- who may edit ---------------------------------------------------------------------------


def can_edit_card(actor: User | None, structure: Structure) -> bool:
    """Administrators edit every card; an allowed caseworker edits their structure's card."""
    if actor is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    return (
        actor.role is Role.CASEWORKER and actor.can_edit_card and actor.structure_id == structure.id
    )


def _require_editor(actor: User | None, structure: Structure) -> None:
    """``actor`` None is the command line, which may edit every card."""
    if actor is not None and not can_edit_card(actor, structure):
        raise Forbidden(N_("You may not edit this card."))


def set_card_editor(session: Session, actor: User | None, user: User, allowed: bool) -> bool:
    """Give or take back a caseworker's right to edit their structure's card.

    Only administrators (or the command line) grant it, only to caseworkers. Returns whether
    anything changed.
    """
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden(N_("Only an administrator gives the right to edit a card."))
    if user.role is not Role.CASEWORKER:
        raise InvalidInput(N_("Only a caseworker can edit their structure's card."), field="user")
    if user.can_edit_card == allowed:
        return False
    user.can_edit_card = allowed
    audit.record(session, actor, AuditAction.CARD_EDITOR, user, allowed=int(allowed))
    return True


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
    for name in (
        "siret", "address", "address_extra", "postcode", "insee_code", "phone", "email",
        "website", "opening_hours", "age_min", "age_max", "public_notes", "territory",
        "zone_code", "covers_all_qpvs", "referral_conditions", "referral_documents",
        "referral_delay_days",
    ):  # fmt: skip
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


def card_history(
    session: Session, structure: Structure, limit: int = 50
) -> list[StructureCardChange]:
    """The latest changes of a card, newest first."""
    query = (
        select(StructureCardChange)
        .where(StructureCardChange.structure_id == structure.id)
        .order_by(StructureCardChange.at.desc(), StructureCardChange.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# -- validation -----------------------------------------------------------------------------


def _text(value: str, limit: int, name: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            N_("This text is too long (%(limit)d characters at most)."), field=name, limit=limit
        )
    return value


def _lines(value: str, name: str) -> str:
    """Free text kept one item a line (published as a list): blank lines removed."""
    return _text("\n".join(line.strip() for line in value.splitlines() if line.strip()), 4000, name)


def _number(value: int | None, low: int, high: int, name: str) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidInput(
            N_("Enter a number from %(low)d to %(high)d."), field=name, low=low, high=high
        )
    return value


def _pattern(value: str, pattern: re.Pattern[str], message: str, name: str) -> str:
    value = value.replace(" ", "").strip()
    if value and not pattern.match(value):
        raise InvalidInput(message, field=name)
    return value


def _codes(values: Sequence[str], allowed: type[Any], name: str) -> list[str]:
    known = {member.value for member in allowed}
    for value in values:
        if value not in known:
            raise InvalidInput(N_("Unknown value %(value)s."), field=name, value=value)
    return sorted(set(values))


def _email(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(N_("Enter a valid e-mail address."), field="email") from exc


def _website(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 300:
        raise InvalidInput(
            N_("Enter the full address of the website (https://…)."), field="website"
        )
    return value


def _hours(value: str) -> str:
    try:
        return normalise_opening_hours(value)[:300]
    except OpeningHoursError as exc:
        raise InvalidInput(
            HOURS_MESSAGES[exc.problem], field="opening_hours", rule=exc.rule
        ) from exc


def _service(data: ServiceInput) -> ServiceInput:
    name = data.name.strip()
    if not 3 <= len(name) <= 150 or name.endswith("."):
        raise InvalidInput(
            N_("A service name is 3 to 150 characters and does not end with a full stop."),
            field="services",
        )
    return ServiceInput(
        name=name,
        summary=_text(data.summary, 280, "services"),
        types=_codes(data.types, ServiceType, "services"),
        fees=_codes(data.fees, Fee, "services"),
        fees_detail=_text(data.fees_detail, 200, "services"),
    )


def _items(session: Session, data: CardInput) -> list[ReferenceItem]:
    items: list[ReferenceItem] = []
    for name, kind in ITEM_FIELDS.items():
        for code in sorted(set(getattr(data, name))):
            try:
                items.append(reference_item(session, kind, code))
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=name, **exc.params) from exc
    return items


def _name(value: str | None) -> str | None:
    if value is not None and not 3 <= len(value.strip()) <= 200:
        raise InvalidInput(N_("Enter the structure's name."), field="name")
    return value.strip() if value is not None else None


def _zone_type(value: str | None) -> str | None:
    if value and value not in ZoneType._value2member_map_:
        raise InvalidInput(N_("Unknown value %(value)s."), field="zone_type", value=value)
    return value or None


def _services(values: Sequence[ServiceInput]) -> list[ServiceInput]:
    if len(values) > MAX_SERVICES:
        raise InvalidInput(
            N_("A card lists %(limit)d services at most."), field="services", limit=MAX_SERVICES
        )
    return [_service(s) for s in values]


_ZONE_MESSAGE = N_("Enter an official geographic code (commune, EPCI or département).")
# Each field of a card and how it is checked; lists of reference codes are checked on writing.
CLEANERS: dict[str, Callable[[CardInput], Any]] = {
    "name": lambda d: _name(d.name),
    "type_code": lambda d: d.type_code,
    "missions": lambda d: _text(d.missions, 4000, "missions"),
    "contact": lambda d: _text(d.contact, 300, "contact"),
    "city": lambda d: _text(d.city, 100, "city"),
    "capacity": lambda d: _number(d.capacity, 0, 100_000, "capacity"),
    "siret": lambda d: _pattern(d.siret, _SIRET, N_("A SIRET number has 14 digits."), "siret"),
    "address": lambda d: _text(d.address, 200, "address"),
    "address_extra": lambda d: _text(d.address_extra, 200, "address_extra"),
    "postcode": lambda d: _pattern(
        d.postcode, _POSTCODE, N_("A postcode has 5 digits."), "postcode"
    ),
    "insee_code": lambda d: _pattern(
        d.insee_code, _INSEE, N_("An INSEE code has 5 characters."), "insee_code"
    ),
    "phone": lambda d: normalise_phone(d.phone.strip()) if d.phone.strip() else "",
    "email": lambda d: _email(d.email),
    "website": lambda d: _website(d.website),
    "opening_hours": lambda d: _hours(d.opening_hours),
    "cohorts": lambda d: d.cohorts,
    "age_min": lambda d: _number(d.age_min, 0, 120, "age_min"),
    "age_max": lambda d: _number(d.age_max, 0, 120, "age_max"),
    "public_notes": lambda d: _text(d.public_notes, 2000, "public_notes"),
    "barrier_categories": lambda d: d.barrier_categories,
    "stages": lambda d: d.stages,
    "territory": lambda d: _text(d.territory, 200, "territory"),
    "zone_type": lambda d: _zone_type(d.zone_type),
    "zone_code": lambda d: _pattern(d.zone_code, _ZONE_CODE, _ZONE_MESSAGE, "zone_code"),
    "qpvs": lambda d: d.qpvs,
    "covers_all_qpvs": lambda d: d.covers_all_qpvs,
    "referral_conditions": lambda d: _lines(d.referral_conditions, "referral_conditions"),
    "referral_documents": lambda d: _lines(d.referral_documents, "referral_documents"),
    "referral_delay_days": lambda d: _number(d.referral_delay_days, 0, 365, "referral_delay_days"),
    "referral_modes": lambda d: _codes(d.referral_modes, ReferralMode, "referral_modes"),
    "reception_modes": lambda d: _codes(d.reception_modes, ReceptionMode, "reception_modes"),
    "services": lambda d: _services(d.services),
}


def check_card_input(data: CardInput) -> tuple[CardInput | None, list[InvalidInput]]:
    """``data`` checked and normalised (phone in E.164, hours written the usual way...), or
    every problem found, one per field. Reference codes are checked by ``apply_card``."""
    values: dict[str, Any] = {}
    problems: list[InvalidInput] = []
    for name, clean in CLEANERS.items():
        try:
            values[name] = clean(data)
        except InvalidInput as exc:
            problems.append(exc)
    low, high = values.get("age_min"), values.get("age_max")
    if low is not None and high is not None and low > high:
        problems.append(
            InvalidInput(N_("The minimum age is above the maximum age."), field="age_max")
        )
    return (None, problems) if problems else (CardInput(**values), [])


def clean_card_input(data: CardInput) -> CardInput:
    """``data`` checked and normalised; raises ``InvalidInput`` naming the first wrong field."""
    clean, problems = check_card_input(data)
    if clean is None:
        raise problems[0]
    return clean


# -- writing ---------------------------------------------------------------------------------


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
    for name in (
        "siret", "address", "address_extra", "postcode", "insee_code", "phone", "email",
        "website", "opening_hours", "age_min", "age_max", "public_notes", "territory",
        "zone_code", "covers_all_qpvs", "referral_conditions", "referral_documents",
        "referral_delay_days",
    ):  # fmt: skip
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


def record_change(
    session: Session,
    actor: User | None,
    structure: Structure,
    kind: str,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> StructureCardChange:
    change = StructureCardChange(
        structure_id=structure.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        changes=changes,
        at=now,
    )
    session.add(change)
    action = {
        "edit": AuditAction.CARD_UPDATE,
        "check": AuditAction.CARD_CHECK,
        "capacity": AuditAction.CARD_CAPACITY,
        "import": AuditAction.CARD_IMPORT,
    }[kind]
    audit.record(session, actor, action, structure, fields=",".join(sorted(changes)) or None)
    return change


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def update_card(
    session: Session, actor: User | None, structure: Structure, data: CardInput, *, now: datetime
) -> StructureCardChange:
    """Save a card: check, apply, keep the change (or the check when nothing changed).

    Raises ``Forbidden`` for someone who may not edit it, ``InvalidInput`` naming the field.
    """
    _require_editor(actor, structure)
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
    _require_editor(actor, structure)
    card = card_to_edit(session, structure)
    card.checked_at, card.checked_by_id = now, actor.id if actor else None
    return record_change(session, actor, structure, "check", {}, now=now)


def update_capacity(
    session: Session, actor: User | None, structure: Structure, places: int | None, *, now: datetime
) -> StructureCardChange:
    """Set the number of free places (None: not given) and date it, even when unchanged."""
    _require_editor(actor, structure)
    places = _number(places, 0, 100_000, "capacity")
    card = card_to_edit(session, structure)
    changes = {"capacity": [structure.capacity, places]} if structure.capacity != places else {}
    structure.capacity = places
    card.capacity_updated_at = now
    if changes:
        card.updated_at = structure.updated_at = now
    return record_change(session, actor, structure, "capacity", changes, now=now)
