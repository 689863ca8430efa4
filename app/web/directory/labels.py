"""What people read for the directory's vocabularies, card fields and opening hours."""

from __future__ import annotations

from datetime import time
from enum import Enum
from typing import Any

from babel.dates import get_day_names
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.domain.capacity import CapacityStatus
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.opening_hours import HoursRule, OpeningHoursError, parse_opening_hours
from app.models import ReferenceItem, StructureCardChange
from app.services.directory.card_input import ITEM_FIELDS
from app.web.context import locale, phone
from app.web.labels import enum_label

_PAIRS: tuple[tuple[Enum, LazyString], ...] = (
    (ReceptionMode.EN_PRESENTIEL, _l("In person")),
    (ReceptionMode.A_DISTANCE, _l("Remotely")),
    (ReferralMode.PHONE, _l("Phone")),
    (ReferralMode.EMAIL, _l("E-mail")),
    (ReferralMode.EMAIL_WITH_FORM, _l("E-mail with a referral form")),
    (ReferralMode.MEMBERSHIP_FORM, _l("Sign-up form")),
    (ReferralMode.APPOINTMENT, _l("Book an appointment")),
    (ReferralMode.OTHER, _l("Other")),
    (Fee.FREE, _l("Free")),
    (Fee.FREE_UNDER_CONDITIONS, _l("Free under conditions")),
    (Fee.PAID, _l("Paid")),
    (Fee.MEMBERSHIP, _l("Membership fee")),
    (Fee.PASS_NUMERIQUE, _l("Pass numérique")),
    (ServiceType.SUPPORT, _l("Support")),
    (ServiceType.RECEPTION, _l("Reception")),
    (ServiceType.FINANCIAL_AID, _l("Financial aid")),
    (ServiceType.MATERIAL_AID, _l("Material aid")),
    (ServiceType.WORKSHOP, _l("Workshop")),
    (ServiceType.TRAINING, _l("Training")),
    (ServiceType.INFORMATION, _l("Information")),
    (ServiceType.DIGITAL, _l("Digital")),
    (ServiceType.AUTONOMY, _l("Self-service")),
    (ServiceType.DELEGATION, _l("Done on the person's behalf")),
    (ServiceType.FUNDING, _l("Funding")),
    (ZoneType.COMMUNE, _l("Commune")),
    (ZoneType.EPCI, _l("Inter-municipal area (EPCI)")),
    (ZoneType.DEPARTEMENT, _l("Département")),
    (ZoneType.REGION, _l("Region")),
    (ZoneType.PAYS, _l("Country")),
)
LABELS: dict[tuple[type[Enum], str], LazyString] = {(type(m), m.value): t for m, t in _PAIRS}
VOCABULARIES: dict[str, type[Enum]] = {
    "referral_modes": ReferralMode,
    "reception_modes": ReceptionMode,
    "zone_type": ZoneType,
}

FIELD_LABELS: dict[str, LazyString] = {
    "name": _l("Name"),
    "type": _l("Type"),
    "missions": _l("Missions"),
    "contact": _l("Contact channel"),
    "city": _l("Town"),
    "capacity": _l("Free places"),
    "siret": _l("SIRET number"),
    "address": _l("Address"),
    "address_extra": _l("Address (more)"),
    "postcode": _l("Postcode"),
    "insee_code": _l("INSEE code of the town"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "website": _l("Website"),
    "opening_hours": _l("Opening hours"),
    "cohorts": _l("Publics"),
    "age_min": _l("Minimum age"),
    "age_max": _l("Maximum age"),
    "public_notes": _l("Who they take in"),
    "barrier_categories": _l("Barriers they act on"),
    "stages": _l("Pathway stages"),
    "territory": _l("Territory"),
    "zone_type": _l("Kind of territory"),
    "zone_code": _l("Territory code"),
    "qpvs": _l("Priority neighbourhoods covered"),
    "covers_all_qpvs": _l("Covers every priority neighbourhood"),
    "referral_conditions": _l("Conditions"),
    "referral_documents": _l("Documents to bring"),
    "referral_delay_days": _l("Usual delay before a first appointment (days)"),
    "referral_modes": _l("How to refer someone"),
    "reception_modes": _l("How people are received"),
    "services": _l("Services"),
    "capacity_status": _l("Capacity status (whole structure)"),
}
CHANGE_KINDS: dict[str, LazyString] = {
    "edit": _l("Card edited"),
    "check": _l("Card checked, still right"),
    "capacity": _l("Free places or capacity status updated"),
    "import": _l("Card imported"),
}


def vocabulary_label(enum: type[Enum], value: str) -> str:
    """The label of a code of a data·inclusion vocabulary (the code itself if unknown)."""
    text = LABELS.get((enum, value))
    return str(text) if text is not None else value


def choices_of(enum: type[Enum]) -> list[tuple[str, str]]:
    return [(str(m.value), vocabulary_label(enum, str(m.value))) for m in enum]


def age_range(card: Any) -> str:
    """A card's age range in words ("16 to 25 years old"), or an empty string."""
    low, high = card.age_min, card.age_max
    if low is not None and high is not None:
        return str(_("%(low)d to %(high)d years old", low=low, high=high))
    if low is not None:
        return str(_("%(low)d years old and over", low=low))
    if high is not None:
        return str(_("up to %(high)d years old", high=high))
    return ""


# -- opening hours -------------------------------------------------------------------------


def _clock(moment: time) -> str:
    hours, minutes = (24, 0) if moment == time(23, 59) else (moment.hour, moment.minute)
    if locale() == "fr":
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
    return f"{hours}:{minutes:02d}"


def _days(rule: HoursRule) -> str:
    if rule.holidays:
        return str(_("Public holidays"))
    if rule.days is None:
        return str(_("Every day"))
    names = get_day_names("wide", locale=locale())
    runs: list[list[int]] = []
    for day in rule.days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{names[run[0]]} – {names[run[-1]]}" if len(run) > 2 else ", ".join(names[d] for d in run)
        for run in runs
    ]
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


def opening_hours_lines(text: str) -> list[str]:
    """Opening hours in plain words, one line a rule (the stored text if it cannot be read)."""
    try:
        rules = parse_opening_hours(text)
    except OpeningHoursError:
        return [text] if text else []
    lines = []
    for rule in rules:
        spans = ", ".join(f"{_clock(a)} – {_clock(b)}" for a, b in rule.spans) or _("closed")
        lines.append(str(_("%(days)s: %(hours)s", days=_days(rule), hours=spans)))
    return lines


# -- history ---------------------------------------------------------------------------------


def _items_text(kind: str, codes: Any, items: dict[tuple[str, str], ReferenceItem]) -> str:
    """The labels of reference codes (a code Relais no longer knows stays as it is)."""
    return ", ".join(
        items[(kind, code)].label(locale()) if (kind, code) in items else code for code in codes
    )


def _vocabulary_text(enum: type[Enum], value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(vocabulary_label(enum, str(v)) for v in values)


def _value_text(name: str, value: Any, items: dict[tuple[str, str], ReferenceItem]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if name == "phone":
        return phone(str(value))
    if name.startswith("capacity_status") and value in set(CapacityStatus):
        return enum_label(CapacityStatus(value))
    if name in ITEM_FIELDS:
        return _items_text(ITEM_FIELDS[name].value, value, items)
    if name in VOCABULARIES:
        return _vocabulary_text(VOCABULARIES[name], value)
    if name == "services":
        return ", ".join(str(s.get("name", "")) for s in value if isinstance(s, dict))
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def describe_change(
    change: StructureCardChange, items: dict[tuple[str, str], ReferenceItem]
) -> list[tuple[str, str, str]]:
    """(field label, old value, new value) for each field a change touched."""
    rows = []
    for name, pair in sorted(
        change.changes.items(),
        key=lambda kv: list(FIELD_LABELS).index(kv[0]) if kv[0] in FIELD_LABELS else 99,
    ):
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        label = str(FIELD_LABELS.get(name, name))
        if name.startswith("capacity_status:"):
            label = str(_("Capacity status (%(service)s)", service=name.partition(":")[2]))
        rows.append((label, _value_text(name, old, items), _value_text(name, new, items)))
    return rows
