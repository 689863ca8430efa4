"""The directory written in the data·inclusion schema: one structure record per active
structure, one service record per service of its card, and the ``relais`` extension object for
what data·inclusion has no field for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.directory import TYPE_TYPOLOGIES, profils_for, thematiques_for
from app.models import ReferenceKind, Structure, StructureCard
from app.services.directory.cards import blank_card
from app.services.directory.interop.schema import DirectoryFile, summary
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


def _structure_record(
    structure: Structure, card: StructureCard, source: str, base_url: str | None
) -> dict[str, Any]:
    typologie, label = TYPE_TYPOLOGIES.get(structure.type.code, ("Autre", None))
    return {
        "id": structure.code,
        "siret": card.siret or None,
        "nom": _di_name(structure.name),
        **_address(structure, card),
        "typologie": typologie,
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "site_web": card.website or None,
        "presentation_resume": summary(structure.missions),
        "presentation_detail": structure.missions or None,
        "source": source,
        "date_maj": _changed_on(structure, card),
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
        **_address(structure, card),
        "telephone": card.phone or None,
        "courriel": card.email or None,
        "contact_public": True,
        "date_maj": _changed_on(structure, card),
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
