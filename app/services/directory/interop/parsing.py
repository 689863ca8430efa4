"""Reading a data·inclusion v1 file into checked cards, before anything is written.

Every record is read field by field (``RecordReader``) and every problem kept, with the record
and the field where the file has it; the cards are then checked as an edited card would be
(``check_card_input``) and their reference codes looked up. Any problem stops the import.
Vocabularies are checked against the ``data-inclusion-schema`` package's enums; a valid v1
value Relais records nothing for (a thématique about food aid...) is listed as *unmapped*,
not a problem. A v0 file is first mapped to v1 (``v0``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.data_inclusion import (
    codes_from_thematiques,
    cohorts_from_publics,
    type_from_networks,
)
from app.domain.directory import (
    ReceptionMode,
    ReferralMode,
    ZoneType,
    type_from_typologie,
)
from app.domain.french import fold
from app.models import ReferenceItem, ReferenceKind
from app.services.directory.card_input import CardInput, check_card_input
from app.services.directory.interop.records import ImportProblem, RecordReader
from app.services.directory.interop.schema import (
    DI_NAMES,
    DirectoryFile,
    DirectoryImportError,
    Unmapped,
)
from app.services.directory.interop.service_records import (
    NETWORKS,
    THEMATIQUES,
    FromServices,
    merge,
    read_services,
)
from app.services.structures import REFERENCE_CODE, STRUCTURE_CODE

# Standard text fields of a structure record: card field -> (data·inclusion field, limit).
STANDARD_TEXTS = {
    "city": ("commune", 100), "siret": ("siret", 20), "postcode": ("code_postal", 10),
    "insee_code": ("code_insee", 10), "address": ("adresse", 200),
    "address_extra": ("complement_adresse", 200), "phone": ("telephone", 40),
    "email": ("courriel", 254), "website": ("site_web", 300),
    "opening_hours": ("horaires_accueil", 300),
}  # fmt: skip
# Reference lists a record names, with where the file names them (QPVs are checked apart).
REFERENCE_LISTS = {
    "type_code": (ReferenceKind.STRUCTURE_TYPE, "relais.type"),
    "cohorts": (ReferenceKind.COHORT, "relais.publics"),
    "barrier_categories": (ReferenceKind.BARRIER_CATEGORY, "relais.freins"),
    "stages": (ReferenceKind.STAGE, "relais.etapes"),
}


@dataclass
class ParsedStructure:
    """A structure record of the file, checked: its Relais code, its card, its dates."""

    where: str
    code: str
    source: str
    source_id: str
    data: CardInput
    updated_on: date | None
    checked_on: date | None
    capacity_on: date | None
    qpvs: dict[str, tuple[str, str]]  # code -> (French name, English name)


def structure_code(identifier: str, name: str, *, own: bool) -> str:
    """The Relais code of a record: its ``id`` when it comes from Relais and is a valid code,
    otherwise a stable code made from its name and a digest of its ``id``."""
    candidate = identifier.strip().upper()
    if own and STRUCTURE_CODE.match(candidate):
        return candidate
    slug = re.sub(r"[^A-Z0-9]+", "-", fold(name).upper()).strip("-")[:20].strip("-") or "S"
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:6].upper()
    return f"{slug}-{digest}"


def _qpv_codes(x: RecordReader) -> list[str]:
    qpv_codes = []
    for entry in x.raw.get("qpv") or []:
        code = entry.get("code") if isinstance(entry, dict) else entry
        if isinstance(code, str):
            qpv_codes.append(code)
        else:
            x.problem("qpv", "each QPV is a code or an object with a code")
    return qpv_codes


def _card_fields_from_relais(x: RecordReader) -> dict[str, Any]:
    qpv_codes = _qpv_codes(x)
    return {
        "type_code": x.text("type", required=True, limit=64),
        "contact": x.text("contact", limit=300) or "",
        "capacity": x.integer("places"),
        "cohorts": x.strings("publics"),
        "age_min": x.integer("age_min"),
        "age_max": x.integer("age_max"),
        "public_notes": x.text("publics_precisions", limit=2000) or "",
        "barrier_categories": x.strings("freins"),
        "stages": x.strings("etapes"),
        "qpvs": qpv_codes,
        "covers_all_qpvs": bool(x.flag("tous_qpv")),
        "territory": x.text("territoire", limit=200) or "",
        "zone_type": x.text("zone_type", limit=16),
        "zone_code": x.text("zone_code", limit=9) or "",
        "referral_conditions": "\n".join(x.strings("conditions")),
        "referral_documents": "\n".join(x.strings("justificatifs")),
        "referral_delay_days": x.integer("delai_jours"),
        "referral_modes": x.choices("modes_orientation", {m.value for m in ReferralMode}),
        "reception_modes": x.choices("modes_accueil", {m.value for m in ReceptionMode}),
    }


def _structure_type(r: RecordReader) -> str:
    """The Relais type of a structure from elsewhere: its networks, else (a v0 file mapped to
    v1) its ``typologie`` and ``labels_nationaux``."""
    found = type_from_networks(r.choices("reseaux_porteurs", NETWORKS))
    typologie = r.text("typologie", limit=20)
    if found == "other" and typologie is not None:
        return type_from_typologie(typologie, r.strings("labels_nationaux"))
    return found


def _card_fields_from_services(
    r: RecordReader, taken: FromServices, unmapped: list[Unmapped]
) -> dict[str, Any]:
    # A structure has no thématiques in v1; a v0 file mapped to v1 keeps its structure's.
    values = merge([r.choices("thematiques", THEMATIQUES), taken.thematiques])
    barriers, stages, unknown = codes_from_thematiques(values)
    unmapped.extend(Unmapped(r.where, "thematiques", v) for v in unknown)
    zone_type, zone_code, territory = taken.zone or ("", "", "")
    return {
        "type_code": _structure_type(r),
        "cohorts": cohorts_from_publics(taken.publics),
        "public_notes": taken.notes,
        "barrier_categories": barriers,
        "stages": stages,
        "territory": territory,
        "zone_type": zone_type if zone_type in ZoneType._value2member_map_ else None,
        "zone_code": zone_code,
        "referral_conditions": "\n".join(taken.conditions),
        "referral_documents": "\n".join(taken.documents),
        "referral_modes": taken.referral,
        "reception_modes": taken.reception,
    }


def _qpv_names(x: RecordReader | None) -> dict[str, tuple[str, str]]:
    names = {}
    for entry in (x.raw.get("qpv") or []) if x else []:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            label = str(entry.get("nom") or "").strip()
            names[entry["code"]] = (label, str(entry.get("nom_en") or label).strip())
    return names


def _card_input(
    r: RecordReader,
    x: RecordReader | None,
    services: Sequence[RecordReader],
    unmapped: list[Unmapped],
) -> CardInput:
    """What the record says of the card: from its ``relais`` object ``x`` when it has one,
    otherwise from its standard fields and its services."""
    name = r.text("nom", required=True, limit=150) or ""
    service_inputs, taken = read_services(services)
    fields = _card_fields_from_relais(x) if x else _card_fields_from_services(r, taken, unmapped)
    if x is not None and x.text("nom", limit=200):
        name = x.text("nom", limit=200) or name
    texts: dict[str, Any] = {
        card_field: r.text(di_field, limit=limit) or ""
        for card_field, (di_field, limit) in STANDARD_TEXTS.items()
    }
    return CardInput(
        name=name,
        missions=r.text("description", limit=10000) or "",
        **texts,
        services=service_inputs,
        **fields,
    )


def _checked(r: RecordReader, data: CardInput) -> CardInput | None:
    """``data`` checked as an edited card is; each problem is named as the file names it."""
    clean, problems = check_card_input(data)
    for exc in problems:
        r.problem(DI_NAMES.get(exc.field or "", exc.field or "?"), str(exc))
    return clean


def _parse_structure(
    r: RecordReader,
    services: Sequence[RecordReader],
    own_source: str,
    unmapped: list[Unmapped],
) -> ParsedStructure | None:
    before = len(r.problems)
    identifier = r.text("id", required=True, limit=100) or ""
    source = r.text("source", required=True, limit=64) or ""
    updated_on = r.day("date_maj", required=True)
    x = r.nested("relais")
    checked_on = x.day("date_verification") if x else updated_on
    capacity_on = x.day("places_date_maj") if x else None
    data = _card_input(r, x, services, unmapped)
    # Services count: a wrong service of this structure leaves its card unchecked too.
    if len(r.problems) > before:
        return None
    clean = _checked(r, data)
    if clean is None:
        return None
    own = source == own_source
    return ParsedStructure(
        where=r.where,
        code=structure_code(identifier, data.name or "", own=own),
        source="" if own else source,
        source_id="" if own else identifier,
        data=clean,
        updated_on=updated_on,
        checked_on=checked_on,
        capacity_on=capacity_on,
        qpvs=_qpv_names(x),
    )


def _unknown_codes(
    p: ParsedStructure, known: set[tuple[ReferenceKind, str]]
) -> Iterable[ImportProblem]:
    for name, (kind, field_name) in REFERENCE_LISTS.items():
        value = getattr(p.data, name)
        for code in [value] if isinstance(value, str) else value:
            if (kind, code) not in known:
                yield ImportProblem(
                    p.where, field_name, f"unknown code {code} in the list {kind.value}"
                )
    for code in p.data.qpvs:
        if (ReferenceKind.QPV, code) in known:
            continue
        if not REFERENCE_CODE.match(code) or not p.qpvs.get(code, ("",))[0]:
            yield ImportProblem(
                p.where, "relais.qpv", f"unknown QPV {code} (give its code and name)"
            )


def _check_references(
    session: Session, parsed: Sequence[ParsedStructure], problems: list[ImportProblem]
) -> None:
    """Reference codes must exist (QPVs may be added when the file names them)."""
    known = {
        (item.kind, item.code)
        for item in session.scalars(select(ReferenceItem).where(ReferenceItem.active.is_(True)))
    }
    codes_seen: dict[str, str] = {}
    for p in parsed:
        if p.code in codes_seen:
            problems.append(ImportProblem(p.where, "id", f"same structure as {codes_seen[p.code]}"))
        codes_seen[p.code] = p.where
        problems.extend(_unknown_codes(p, known))


def _record_order(problem: ImportProblem) -> tuple[int, int, str]:
    """Structures before services, each in file order."""
    found = re.match(r"^(structures|services)\[(\d+)\]$", problem.where)
    if not found:
        return (-1, 0, problem.field)
    return (0 if found[1] == "structures" else 1, int(found[2]), problem.field)


def parse_directory(
    session: Session,
    data: DirectoryFile,
    *,
    own_source: str,
    unmapped: list[Unmapped] | None = None,
) -> list[ParsedStructure]:
    """Every structure of a v1 file, checked; raises ``DirectoryImportError`` with all
    problems. Valid values Relais has nothing for are added to ``unmapped``."""
    unmapped = unmapped if unmapped is not None else []
    problems: list[ImportProblem] = []
    by_structure: dict[str, list[RecordReader]] = {}
    ids = {str(s.get("id")) for s in data.structures}
    for index, raw in enumerate(data.services):
        r = RecordReader(f"services[{index}]", raw, problems)
        r.text("id", required=True, limit=200)
        r.text("source", required=True, limit=64)
        r.day("date_maj", required=True)
        owner = r.text("structure_id", required=True, limit=100)
        if owner is not None and owner not in ids:
            r.problem("structure_id", "no structure of the file has this id")
        by_structure.setdefault(owner or "", []).append(r)
    parsed = []
    for index, raw in enumerate(data.structures):
        r = RecordReader(f"structures[{index}]", raw, problems)
        services = by_structure.get(str(raw.get("id")), [])
        result = _parse_structure(r, services, own_source, unmapped)
        if result is not None:
            parsed.append(result)
    _check_references(session, parsed, problems)
    if problems:
        raise DirectoryImportError(sorted(problems, key=_record_order))
    return parsed
