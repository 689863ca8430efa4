"""The directory written in the data·inclusion schema v1: one structure record per active
structure, one service record per service of its card, and the ``relais`` extension objects
for what data·inclusion has no field for (on each structure: the card; on each service: its
kinds and fees, richer in Relais than v1's one ``type`` and one ``frais``).

Every value of a v1 vocabulary comes from ``app.domain.data_inclusion`` (the package's enums);
the tests validate every record with the package's pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.data_inclusion import (
    fee_for,
    mobilisation_for,
    networks_for,
    publics_for,
    service_type_for,
    thematiques_for,
    zone_eligibilite_for,
)
from app.models import ReferenceKind, Structure, StructureCard
from app.services.directory.cards import blank_card
from app.services.directory.interop.schema import DirectoryFile
from app.services.directory.search import local_date


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


def _address(structure: Structure, card: StructureCard) -> dict[str, str | None]:
    """Where the structure is, the same on its record and on each of its services."""
    return {
        "commune": structure.city or None,
        "code_postal": card.postcode or None,
        "code_insee": card.insee_code or None,
        "adresse": card.address or None,
        "complement_adresse": card.address_extra or None,
    }


def _changed_on(structure: Structure, card: StructureCard) -> str | None:
    """``date_maj``: the day the card (or else the structure) last changed."""
    return _iso(card.updated_at or structure.updated_at or structure.created_at)


def _siret(card: StructureCard) -> str | None:
    siret = card.siret.replace(" ", "") if card.siret else ""
    return siret if len(siret) == 14 and siret.isdigit() else None


def _structure_record(
    structure: Structure, card: StructureCard, source: str, base_url: str | None
) -> dict[str, Any]:
    missions = " ".join(structure.missions.split())
    return {
        "source": source,
        "id": structure.code,
        "nom": _di_name(structure.name),
        "date_maj": _changed_on(structure, card),
        "description": structure.missions if len(missions) >= 5 else None,
        "lien_source": f"{base_url.rstrip('/')}/directory/{structure.code}" if base_url else None,
        "siret": _siret(card),
        **_address(structure, card),
        "longitude": None,
        "latitude": None,
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "site_web": card.website or None,
        "horaires_accueil": card.opening_hours or None,
        "accessibilite_lieu": None,
        "reseaux_porteurs": networks_for(structure.type.code) or None,
        "relais": _relais_object(structure, card),
    }


def _thematiques(card: StructureCard) -> list[str] | None:
    found = thematiques_for(
        card.codes(ReferenceKind.BARRIER_CATEGORY), card.codes(ReferenceKind.STAGE)
    )
    return found or None


def _conditions(card: StructureCard) -> str | None:
    return "\n".join(_lines(card.referral_conditions)) or None


def _service_name(name: str, structure: Structure) -> str:
    """v1 wants 3 to 150 characters, no final full stop."""
    named = name if len(name) >= 3 else f"{name} – {structure.name}"
    return _di_name(named)


def _service_description(summary_text: str, structure: Structure, name: str) -> str:
    """v1 wants a description of at least 5 characters: the summary, else the missions, else
    the service and structure names."""
    for text in (summary_text, structure.missions):
        if len(" ".join(text.split())) >= 5:
            return text
    return f"{name} – {structure.name}"


def _service_records(
    structure: Structure, card: StructureCard, source: str
) -> list[dict[str, Any]]:
    shared = {
        "source": source,
        "structure_id": structure.code,
        "lien_source": None,
        "date_maj": _changed_on(structure, card),
        "thematiques": _thematiques(card),
        "publics": publics_for(card.codes(ReferenceKind.COHORT)),
        "publics_precisions": card.public_notes or None,
        "conditions_acces": _conditions(card),
        **_address(structure, card),
        "longitude": None,
        "latitude": None,
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "modes_accueil": sorted(card.reception_modes) or None,
        "zone_eligibilite": zone_eligibilite_for(card.zone_type, card.zone_code),
        "contact_nom_prenom": None,
        "lien_mobilisation": None,
        "modes_mobilisation": mobilisation_for(card.referral_modes),
        "mobilisable_par": ["professionnels"] if card.referral_modes else None,
        "mobilisation_precisions": None,
        "volume_horaire_hebdomadaire": None,
        "nombre_semaines": None,
        "horaires_accueil": card.opening_hours or None,
    }
    records = []
    for position, service in enumerate(card.services, start=1):
        name = _service_name(service.name, structure)
        extension: dict[str, Any] = {"types": list(service.types), "frais": list(service.fees)}
        if name != service.name:
            extension["nom"] = service.name
        description = _service_description(service.summary, structure, service.name)
        if description != service.summary:
            extension["resume"] = service.summary
        records.append(
            {
                **shared,
                "id": f"{structure.code}--{position}",
                "nom": name,
                "description": description,
                "type": service_type_for(service.types),
                "frais": fee_for(service.fees),
                "frais_precisions": service.fees_detail or None,
                "relais": extension,
            }
        )
    return records


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
