"""The directory in the data·inclusion schema (v0): structures and services, JSON and CSV.

Export: each active structure is a data·inclusion *structure* (``id`` is the Relais code) and
each of its services a *service* (``id`` is ``CODE--n``) carrying the card's publics, referral
conditions, reception modes and zone. What data·inclusion has no field for (cohort codes,
barrier categories and stages as Relais codes, QPVs, age range, free places and their date,
the date the card was last checked, the referral delay) travels in one extension object,
``relais``, that other readers ignore. See docs/directory.md for the field-by-field mapping.

Import: every record is checked first; any problem (record, field, reason) stops the import
before anything is written. A record with a ``relais`` object is read from it exactly (a
round trip gives the same directory); another file's record is read from its standard
fields and its services (thématiques, profils, pré-requis...). QPVs named in a ``relais``
object are added to the reference list when missing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.directory import (
    TYPE_TYPOLOGIES,
    Fee,
    ReceptionMode,
    ReferralMode,
    ServiceType,
    ZoneType,
    codes_from_thematiques,
    cohorts_from_profils,
    profils_for,
    thematiques_for,
    type_from_typologie,
)
from app.models import ReferenceItem, ReferenceKind, Structure, StructureCard, User
from app.services.directory import PARIS, fold, local_date
from app.services.directory_cards import (
    CardInput,
    ServiceInput,
    apply_card,
    blank_card,
    card_snapshot,
    card_to_edit,
    check_card_input,
    diff,
    record_change,
)
from app.services.directory_records import ImportProblem, RecordReader
from app.services.structures import (
    REFERENCE_CODE,
    STRUCTURE_CODE,
    add_reference_item,
    create_structure,
)

SCHEMA = "data·inclusion v0"
STRUCTURE_FIELDS = (
    "id", "siret", "nom", "commune", "code_postal", "code_insee", "adresse",
    "complement_adresse", "typologie", "telephone", "courriel", "site_web",
    "presentation_resume", "presentation_detail", "source", "date_maj", "lien_source",
    "horaires_ouverture", "labels_nationaux", "thematiques", "relais",
)  # fmt: skip
SERVICE_FIELDS = (
    "id", "structure_id", "source", "nom", "presentation_resume", "types", "thematiques",
    "frais", "frais_autres", "profils", "profils_precisions", "pre_requis", "justificatifs",
    "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "telephone",
    "courriel", "contact_public", "date_maj", "modes_accueil",
    "modes_orientation_accompagnateur", "zone_diffusion_type", "zone_diffusion_code",
    "zone_diffusion_nom",
)  # fmt: skip
# Card fields as data·inclusion names them, to report a problem where the file has it.
DI_NAMES = {
    "name": "nom", "missions": "presentation_detail", "city": "commune", "siret": "siret",
    "postcode": "code_postal", "insee_code": "code_insee", "address": "adresse",
    "address_extra": "complement_adresse", "phone": "telephone", "email": "courriel",
    "website": "site_web", "opening_hours": "horaires_ouverture", "contact": "relais.contact",
    "capacity": "relais.places", "age_min": "relais.age_min", "age_max": "relais.age_max",
    "public_notes": "profils_precisions", "territory": "zone_diffusion_nom",
    "zone_type": "zone_diffusion_type", "zone_code": "zone_diffusion_code",
    "referral_conditions": "pre_requis", "referral_documents": "justificatifs",
    "referral_delay_days": "relais.delai_jours", "services": "services",
}  # fmt: skip
FILES = ("structures.csv", "services.csv")


class DirectoryImportError(Exception):
    """The file cannot be imported; ``problems`` says where and why. Nothing was written."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


@dataclass
class DirectoryFile:
    structures: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    services: int = 0
    qpvs_added: list[str] = field(default_factory=list)


# -- export ----------------------------------------------------------------------------------


def _summary(text: str, limit: int = 280) -> str | None:
    """``presentation_resume``: the missions, cut on a word at 280 characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text or None
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _iso(moment: datetime | None) -> str | None:
    day = local_date(moment)
    return day.isoformat() if day else None


def _relais_object(structure: Structure, card: StructureCard) -> dict[str, Any]:
    qpvs = [
        {"code": q.code, "nom": q.label_fr, "nom_en": q.label_en}
        for q in sorted(card.of_kind(ReferenceKind.QPV), key=lambda q: q.code)
    ]
    values: dict[str, Any] = {
        "type": structure.type.code,
        "contact": structure.contact or None,
        "places": structure.capacity,
        "places_date_maj": _iso(card.capacity_updated_at),
        "date_verification": _iso(card.checked_at),
        "publics": sorted(card.codes(ReferenceKind.COHORT)),
        "age_min": card.age_min,
        "age_max": card.age_max,
        "publics_precisions": card.public_notes or None,
        "freins": sorted(card.codes(ReferenceKind.BARRIER_CATEGORY)),
        "etapes": sorted(card.codes(ReferenceKind.STAGE)),
        "qpv": qpvs,
        "tous_qpv": card.covers_all_qpvs,
        "territoire": card.territory or None,
        "zone_type": card.zone_type.value if card.zone_type else None,
        "zone_code": card.zone_code or None,
        "conditions": _lines(card.referral_conditions),
        "justificatifs": _lines(card.referral_documents),
        "delai_jours": card.referral_delay_days,
        "modes_orientation": sorted(card.referral_modes),
        "modes_accueil": sorted(card.reception_modes),
    }
    if len(structure.name) > 150 or structure.name.endswith("."):
        values["nom"] = structure.name
    return values


def _di_name(name: str) -> str:
    return name[:150].rstrip(". ")


def _structure_record(
    structure: Structure, card: StructureCard, source: str, base_url: str | None
) -> dict[str, Any]:
    typologie, label = TYPE_TYPOLOGIES.get(structure.type.code, ("Autre", None))
    changed = card.updated_at or structure.updated_at or structure.created_at
    return {
        "id": structure.code,
        "siret": card.siret or None,
        "nom": _di_name(structure.name),
        "commune": structure.city or None,
        "code_postal": card.postcode or None,
        "code_insee": card.insee_code or None,
        "adresse": card.address or None,
        "complement_adresse": card.address_extra or None,
        "typologie": typologie,
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "site_web": card.website or None,
        "presentation_resume": _summary(structure.missions),
        "presentation_detail": structure.missions or None,
        "source": source,
        "date_maj": _iso(changed),
        "lien_source": f"{base_url.rstrip('/')}/directory/{structure.code}" if base_url else None,
        "horaires_ouverture": card.opening_hours or None,
        "labels_nationaux": [label] if label else [],
        "thematiques": _thematiques(card),
        "relais": _relais_object(structure, card),
    }


def _thematiques(card: StructureCard) -> list[str]:
    return thematiques_for(
        card.codes(ReferenceKind.BARRIER_CATEGORY), card.codes(ReferenceKind.STAGE)
    )


def _service_records(
    structure: Structure, card: StructureCard, source: str
) -> list[dict[str, Any]]:
    shared = {
        "structure_id": structure.code,
        "source": source,
        "thematiques": _thematiques(card),
        "profils": profils_for(card.codes(ReferenceKind.COHORT)),
        "profils_precisions": card.public_notes or None,
        "pre_requis": _lines(card.referral_conditions),
        "justificatifs": _lines(card.referral_documents),
        "commune": structure.city or None,
        "code_postal": card.postcode or None,
        "code_insee": card.insee_code or None,
        "adresse": card.address or None,
        "complement_adresse": card.address_extra or None,
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "contact_public": True,
        "date_maj": _iso(card.updated_at or structure.updated_at or structure.created_at),
        "modes_accueil": sorted(card.reception_modes),
        "modes_orientation_accompagnateur": sorted(card.referral_modes),
        "zone_diffusion_type": card.zone_type.value if card.zone_type else None,
        "zone_diffusion_code": card.zone_code or None,
        "zone_diffusion_nom": card.territory or None,
    }
    return [
        {
            "id": f"{structure.code}--{position}",
            "nom": service.name,
            "presentation_resume": service.summary or None,
            "types": list(service.types),
            "frais": list(service.fees),
            "frais_autres": service.fees_detail or None,
            **shared,
        }
        for position, service in enumerate(card.services, start=1)
    ]


def export_directory(
    session: Session, *, source: str, base_url: str | None = None
) -> DirectoryFile:
    """The active structures and their services, by code. ``base_url`` (the public directory's
    address, if it is public) fills ``lien_source``."""
    rows = session.execute(
        select(Structure, StructureCard)
        .outerjoin(StructureCard, StructureCard.structure_id == Structure.id)
        .where(Structure.active.is_(True))
        .order_by(Structure.code)
    ).all()
    exported = DirectoryFile()
    for structure, card in rows:
        card = card if card is not None else blank_card(structure)
        exported.structures.append(_structure_record(structure, card, source, base_url))
        exported.services.extend(_service_records(structure, card, source))
    return exported


def to_json(data: DirectoryFile) -> str:
    document = {"schema": SCHEMA, "structures": data.structures, "services": data.services}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """A CSV table: arrays and objects as JSON in their cell, empty cells for null."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in columns])
    return buffer.getvalue()


def write_csv(data: DirectoryFile, folder: Path) -> list[Path]:
    """``structures.csv`` and ``services.csv`` in ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in FILES]
    paths[0].write_text(to_csv(data.structures, STRUCTURE_FIELDS), encoding="utf-8")
    paths[1].write_text(to_csv(data.services, SERVICE_FIELDS), encoding="utf-8")
    return paths


# -- reading files ---------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [dict(row) for row in csv.DictReader(stream)]


def read_directory_file(path: Path) -> DirectoryFile:
    """A JSON file, a folder holding ``structures.csv`` (and ``services.csv``), or one CSV file
    of structures. Raises ``DirectoryImportError`` when it cannot be read."""

    def fail(reason: str) -> DirectoryImportError:
        return DirectoryImportError([ImportProblem(str(path), "file", reason)])

    try:
        if path.is_dir():
            structures = path / FILES[0]
            if not structures.is_file():
                raise fail(f"no {FILES[0]} in this folder")
            services = path / FILES[1]
            return DirectoryFile(
                _read_csv(structures), _read_csv(services) if services.is_file() else []
            )
        if path.suffix.lower() == ".csv":
            return DirectoryFile(_read_csv(path), [])
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"cannot be read ({type(exc).__name__})") from exc
    except json.JSONDecodeError as exc:
        raise fail(f"is not valid JSON (line {exc.lineno})") from exc
    if isinstance(document, list):
        document = {"structures": document}
    if not isinstance(document, dict) or not isinstance(document.get("structures"), list):
        raise fail('a JSON file holds {"structures": [...], "services": [...]}')
    listed = document.get("services") or []
    if not isinstance(listed, list):
        raise fail("services are a list of objects")
    if not all(isinstance(r, dict) for r in [*document["structures"], *listed]):
        raise fail("structures and services are lists of objects")
    return DirectoryFile(list(document["structures"]), list(listed))


# -- import ----------------------------------------------------------------------------------


@dataclass
class _Parsed:
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


def _at_noon(day: date | None) -> datetime | None:
    return datetime.combine(day, time(12), PARIS) if day else None


def _merge(lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        seen.update(dict.fromkeys(values))
    return list(seen)


@dataclass
class _FromServices:
    """What a card takes from the services of a structure when the file is not Relais'."""

    thematiques: list[str] = field(default_factory=list)
    profils: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    reception: list[str] = field(default_factory=list)
    referral: list[str] = field(default_factory=list)
    notes: str = ""
    zone: tuple[str, str, str] | None = None


def _read_services(readers: Sequence[RecordReader]) -> tuple[list[ServiceInput], _FromServices]:
    """The services of one structure, and what its card would take from them."""
    services, taken = [], _FromServices()
    for r in readers:
        summary = r.text("presentation_resume", limit=280) or _summary(
            r.text("presentation_detail") or ""
        )
        services.append(
            ServiceInput(
                name=r.text("nom", required=True, limit=150) or "",
                summary=summary or "",
                types=r.choices("types", {t.value for t in ServiceType}),
                fees=r.choices("frais", {f.value for f in Fee}),
                fees_detail=r.text("frais_autres", limit=200) or "",
            )
        )
        taken.thematiques = _merge([taken.thematiques, r.strings("thematiques")])
        taken.profils = _merge([taken.profils, r.strings("profils")])
        taken.conditions = _merge([taken.conditions, r.strings("pre_requis")])
        taken.documents = _merge([taken.documents, r.strings("justificatifs")])
        reception = r.choices("modes_accueil", {m.value for m in ReceptionMode})
        taken.reception = _merge([taken.reception, reception])
        referral = r.choices("modes_orientation_accompagnateur", {m.value for m in ReferralMode})
        taken.referral = _merge([taken.referral, referral])
        taken.notes = taken.notes or r.text("profils_precisions", limit=2000) or ""
        zone_type = r.text("zone_diffusion_type", limit=16)
        if taken.zone is None and zone_type:
            code = r.text("zone_diffusion_code", limit=9) or ""
            taken.zone = (zone_type, code, r.text("zone_diffusion_nom", limit=200) or "")
    return services, taken


def _card_fields_from_relais(x: RecordReader) -> dict[str, Any]:
    qpv_codes = []
    for entry in x.raw.get("qpv") or []:
        code = entry.get("code") if isinstance(entry, dict) else entry
        if isinstance(code, str):
            qpv_codes.append(code)
        else:
            x.problem("qpv", "each QPV is a code or an object with a code")
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


def _card_fields_from_services(r: RecordReader, taken: _FromServices) -> dict[str, Any]:
    barriers, stages = codes_from_thematiques([*r.strings("thematiques"), *taken.thematiques])
    zone_type, zone_code, territory = taken.zone or ("", "", "")
    return {
        "type_code": type_from_typologie(
            r.text("typologie", limit=20), r.strings("labels_nationaux")
        ),
        "cohorts": cohorts_from_profils(taken.profils),
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


def _parse_structure(
    r: RecordReader, services: Sequence[RecordReader], own_source: str
) -> _Parsed | None:
    before = len(r.problems)
    identifier = r.text("id", required=True, limit=100) or ""
    name = r.text("nom", required=True, limit=150) or ""
    source = r.text("source", required=True, limit=64) or ""
    updated_on = r.day("date_maj", required=True)
    x = r.nested("relais")
    checked_on = x.day("date_verification") if x else updated_on
    capacity_on = x.day("places_date_maj") if x else None
    service_inputs, taken = _read_services(services)
    fields = _card_fields_from_relais(x) if x else _card_fields_from_services(r, taken)
    if x is not None and x.text("nom", limit=200):
        name = x.text("nom", limit=200) or name
    data = CardInput(
        name=name,
        missions=r.text("presentation_detail") or r.text("presentation_resume", limit=280) or "",
        city=r.text("commune", limit=100) or "",
        siret=r.text("siret", limit=20) or "",
        postcode=r.text("code_postal", limit=10) or "",
        insee_code=r.text("code_insee", limit=10) or "",
        address=r.text("adresse", limit=200) or "",
        address_extra=r.text("complement_adresse", limit=200) or "",
        phone=r.text("telephone", limit=40) or "",
        email=r.text("courriel", limit=254) or "",
        website=r.text("site_web", limit=300) or "",
        opening_hours=r.text("horaires_ouverture", limit=300) or "",
        services=service_inputs,
        **fields,
    )
    if len(r.problems) > before:
        return None
    clean, problems = check_card_input(data)
    for exc in problems:
        r.problem(DI_NAMES.get(exc.field or "", exc.field or "?"), str(exc))
    if clean is None:
        return None
    own = source == own_source
    return _Parsed(
        where=r.where,
        code=structure_code(identifier, name, own=own),
        source="" if own else source,
        source_id="" if own else identifier,
        data=clean,
        updated_on=updated_on,
        checked_on=checked_on,
        capacity_on=capacity_on,
        qpvs=_qpv_names(x),
    )


def _check_references(
    session: Session, parsed: Sequence[_Parsed], problems: list[ImportProblem]
) -> None:
    """Reference codes must exist (QPVs may be added when the file names them)."""
    known = {
        (item.kind, item.code)
        for item in session.scalars(select(ReferenceItem).where(ReferenceItem.active.is_(True)))
    }
    lists = {
        "type_code": (ReferenceKind.STRUCTURE_TYPE, "relais.type"),
        "cohorts": (ReferenceKind.COHORT, "relais.publics"),
        "barrier_categories": (ReferenceKind.BARRIER_CATEGORY, "relais.freins"),
        "stages": (ReferenceKind.STAGE, "relais.etapes"),
    }
    codes_seen: dict[str, str] = {}
    for p in parsed:
        if p.code in codes_seen:
            problems.append(ImportProblem(p.where, "id", f"same structure as {codes_seen[p.code]}"))
        codes_seen[p.code] = p.where
        for name, (kind, field_name) in lists.items():
            value = getattr(p.data, name)
            for code in [value] if isinstance(value, str) else value:
                if (kind, code) not in known:
                    problems.append(
                        ImportProblem(
                            p.where, field_name, f"unknown code {code} in the list {kind.value}"
                        )
                    )
        for code in p.data.qpvs:
            if (ReferenceKind.QPV, code) in known:
                continue
            if not REFERENCE_CODE.match(code) or not p.qpvs.get(code, ("",))[0]:
                problems.append(
                    ImportProblem(
                        p.where, "relais.qpv", f"unknown QPV {code} (give its code and name)"
                    )
                )


def _record_order(problem: ImportProblem) -> tuple[int, int, str]:
    """Structures before services, each in file order."""
    found = re.match(r"^(structures|services)\[(\d+)\]$", problem.where)
    if not found:
        return (-1, 0, problem.field)
    return (0 if found[1] == "structures" else 1, int(found[2]), problem.field)


def parse_directory(session: Session, data: DirectoryFile, *, own_source: str) -> list[_Parsed]:
    """Every structure of the file, checked; raises ``DirectoryImportError`` with all problems."""
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
        result = _parse_structure(r, by_structure.get(str(raw.get("id")), []), own_source)
        if result is not None:
            parsed.append(result)
    _check_references(session, parsed, problems)
    if problems:
        raise DirectoryImportError(sorted(problems, key=_record_order))
    return parsed


def import_directory(
    session: Session, actor: User | None, data: DirectoryFile, *, own_source: str, now: datetime
) -> ImportReport:
    """Check the whole file, then create or update each structure and its card.

    Raises ``DirectoryImportError`` (nothing written) when any record is wrong. Each card
    changed gets an ``import`` entry in its history.
    """
    parsed = parse_directory(session, data, own_source=own_source)
    report = ImportReport()
    for p in parsed:
        for code in sorted(p.data.qpvs):
            if code not in report.qpvs_added and _missing_qpv(session, code):
                fr, en = p.qpvs[code]
                add_reference_item(session, actor, ReferenceKind.QPV, code, fr, en or fr)
                report.qpvs_added.append(code)
        structure = session.scalar(select(Structure).where(Structure.code == p.code))
        if structure is None:
            structure = create_structure(
                session,
                actor,
                code=p.code,
                name=p.data.name or p.code,
                type_code=p.data.type_code or "other",
            )
            report.created.append(p.code)
        else:
            report.updated.append(p.code)
        _apply(session, actor, structure, p, now)
        report.services += len(p.data.services)
    session.flush()
    return report


def _missing_qpv(session: Session, code: str) -> bool:
    query = select(ReferenceItem.id).where(
        ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == code
    )
    return session.scalar(query) is None


def _apply(
    session: Session, actor: User | None, structure: Structure, p: _Parsed, now: datetime
) -> None:
    card = card_to_edit(session, structure)
    before = card_snapshot(structure, card)
    apply_card(session, structure, card, p.data)
    session.flush()
    changes = diff(before, card_snapshot(structure, card))
    card.updated_at = _at_noon(p.updated_on) or now
    card.checked_at = _at_noon(p.checked_on)
    card.capacity_updated_at = _at_noon(p.capacity_on)
    card.checked_by_id = None
    card.source, card.source_id = p.source, p.source_id
    structure.updated_at = now
    record_change(session, actor, structure, "import", changes, now=now)
