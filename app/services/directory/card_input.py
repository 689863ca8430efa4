"""What a card says, checked and normalised before it is written.

A card is edited on a form, imported from a data·inclusion file or loaded with the demo; all
three give a ``CardInput``. ``check_card_input`` checks every field and reports every problem,
one per field, so that a form shows them all and an import names each; reference codes
(publics, barriers, stages, QPVs, type) are checked when the card is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from app.domain.capacity import MAX_FREE_PLACES
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.opening_hours import HoursProblem, OpeningHoursError, normalise_opening_hours
from app.models import ReferenceKind
from app.services.errors import N_, InvalidInput
from app.services.people.identity import normalise_phone
from app.services.text_limits import within

# Reference lists a card names, by the field that holds them.
ITEM_FIELDS: dict[str, ReferenceKind] = {
    "cohorts": ReferenceKind.COHORT,
    "barrier_categories": ReferenceKind.BARRIER_CATEGORY,
    "stages": ReferenceKind.STAGE,
    "qpvs": ReferenceKind.QPV,
}
# Card fields held as they are, the same on the card and in its input.
CARD_COLUMNS = (
    "siret", "address", "address_extra", "postcode", "insee_code", "phone", "email",
    "website", "opening_hours", "age_min", "age_max", "public_notes", "territory",
    "zone_code", "covers_all_qpvs", "referral_conditions", "referral_documents",
    "referral_delay_days",
)  # fmt: skip
MAX_SERVICES = 20
_SIRET = re.compile(r"^\d{14}$", re.ASCII)  # the digits 0 to 9 only
_POSTCODE = re.compile(r"^\d{5}$", re.ASCII)
_INSEE = re.compile(r"^\w{5}$", re.ASCII)
# data·inclusion zone codes: commune or country (5), EPCI (9 digits), département (2-3).
_ZONE_CODE = re.compile(r"^(?:\w{5}|\d{9}|\w{2,3})$", re.ASCII)
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


# -- checking -------------------------------------------------------------------------------


def _lines(value: str, name: str) -> str:
    """Free text kept one item a line (published as a list): blank lines removed."""
    return within(
        "\n".join(line.strip() for line in value.splitlines() if line.strip()), 4000, name
    )


def _number(value: int | None, low: int, high: int, name: str) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidInput(
            N_("Enter a number from %(low)d to %(high)d."), field=name, low=low, high=high
        )
    return value


def clean_capacity(places: int | None) -> int | None:
    """A number of free places (None: not counted), or ``InvalidInput``."""
    return _number(places, 0, MAX_FREE_PLACES, "capacity")


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
        summary=within(data.summary, 280, "services"),
        types=_codes(data.types, ServiceType, "services"),
        fees=_codes(data.fees, Fee, "services"),
        fees_detail=within(data.fees_detail, 200, "services"),
    )


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
    "missions": lambda d: within(d.missions, 4000, "missions"),
    "contact": lambda d: within(d.contact, 300, "contact"),
    "city": lambda d: within(d.city, 100, "city"),
    "capacity": lambda d: clean_capacity(d.capacity),
    "siret": lambda d: _pattern(d.siret, _SIRET, N_("A SIRET number has 14 digits."), "siret"),
    "address": lambda d: within(d.address, 200, "address"),
    "address_extra": lambda d: within(d.address_extra, 200, "address_extra"),
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
    "public_notes": lambda d: within(d.public_notes, 2000, "public_notes"),
    "barrier_categories": lambda d: d.barrier_categories,
    "stages": lambda d: d.stages,
    "territory": lambda d: within(d.territory, 200, "territory"),
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
    every problem found, one per field. Reference codes are checked by ``cards.apply_card``."""
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
