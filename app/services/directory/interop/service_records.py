"""The services of a data·inclusion v1 structure, read for its card: each one's name,
summary, kinds and fees, and what the card takes from them when the file is not Relais's
(thématiques, publics, conditions, modes, zone). A service's ``relais`` object (Relais's own
kinds, fees, documents, referral modes and zone) is read first when it has one.

Vocabularies are the ``data-inclusion-schema`` package's enums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from data_inclusion.schema.v1 import (
    Frais,
    ModeAccueil,
    ModeMobilisation,
    Public,
    ReseauPorteur,
    Thematique,
    TypeService,
)

from app.domain.data_inclusion import (
    fees_from,
    referral_modes_from,
    service_types_from,
    zone_from_eligibilite,
)
from app.domain.directory import Fee, ReferralMode, ServiceType
from app.services.directory.card_input import ServiceInput
from app.services.directory.interop.records import RecordReader
from app.services.directory.interop.schema import summary

THEMATIQUES = {t.value for t in Thematique}
_PUBLICS = {p.value for p in Public}
NETWORKS = {n.value for n in ReseauPorteur}
_RECEPTION = {m.value for m in ModeAccueil}
_MOBILISATION = {m.value for m in ModeMobilisation}
_SERVICE_TYPES_V1 = {t.value for t in TypeService}
_FRAIS_V1 = {f.value for f in Frais}


def merge(lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        seen.update(dict.fromkeys(values))
    return list(seen)


@dataclass
class FromServices:
    """What a card takes from the services of a structure when the file is not Relais'."""

    thematiques: list[str] = field(default_factory=list)
    publics: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    reception: list[str] = field(default_factory=list)
    referral: list[str] = field(default_factory=list)
    notes: str = ""
    zone: tuple[str, str, str] | None = None


def _one(r: RecordReader, name: str, allowed: set[str]) -> str | None:
    """A single value of a v1 vocabulary (``type``, ``frais``)."""
    value = r.text(name, limit=64)
    if value is not None and value not in allowed:
        r.problem(name, f"unknown value: {value}")
        return None
    return value


def _service_input(r: RecordReader, x: RecordReader | None) -> ServiceInput:
    """A service of the card: its kinds and fees from its ``relais`` object ``x`` (Relais
    keeps several of each), else from v1's one ``type`` and one ``frais``."""
    name = r.text("nom", required=True, limit=150) or ""
    v1_type = _one(r, "type", _SERVICE_TYPES_V1)
    v1_fee = _one(r, "frais", _FRAIS_V1)
    description = r.text("description", limit=10000) or ""
    resume = summary(description) or ""
    if x is not None:
        name = x.text("nom", limit=200) or name
        if "resume" in x.raw:
            resume = x.text("resume", limit=280) or ""
    types = x.choices("types", {t.value for t in ServiceType}) if x and "types" in x.raw else None
    fees = x.choices("frais", {f.value for f in Fee}) if x and "frais" in x.raw else None
    return ServiceInput(
        name=name,
        summary=resume,
        types=service_types_from(v1_type) if types is None else types,
        fees=fees_from(v1_fee) if fees is None else fees,
        fees_detail=r.text("frais_precisions", limit=200) or "",
    )


def _lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _take(taken: FromServices, r: RecordReader, x: RecordReader | None) -> None:
    """Add to ``taken`` what the service ``r`` (and its ``relais`` object ``x``) says of the
    card."""
    taken.thematiques = merge([taken.thematiques, r.choices("thematiques", THEMATIQUES)])
    taken.publics = merge([taken.publics, r.choices("publics", _PUBLICS)])
    taken.conditions = merge([taken.conditions, _lines_of(r.text("conditions_acces"))])
    taken.reception = merge([taken.reception, r.choices("modes_accueil", _RECEPTION)])
    mobilisation = r.choices("modes_mobilisation", _MOBILISATION)
    referral = referral_modes_from(mobilisation)
    if x is not None and "modes_orientation" in x.raw:
        referral = x.choices("modes_orientation", {m.value for m in ReferralMode})
    taken.referral = merge([taken.referral, referral])
    if x is not None:
        taken.documents = merge([taken.documents, x.strings("justificatifs")])
    taken.notes = taken.notes or r.text("publics_precisions", limit=2000) or ""
    if taken.zone is None:
        taken.zone = _zone(r, x)


def _zone(r: RecordReader, x: RecordReader | None) -> tuple[str, str, str] | None:
    """(kind, code, name) of a service's zone: from its ``relais`` object, else from the first
    code of its ``zone_eligibilite``."""
    if x is not None and x.text("zone_type", limit=16):
        kind = x.text("zone_type", limit=16) or ""
        return (kind, x.text("zone_code", limit=9) or "", x.text("territoire", limit=200) or "")
    found = zone_from_eligibilite(r.strings("zone_eligibilite"))
    return (found[0], found[1], "") if found else None


def read_services(
    readers: Sequence[RecordReader],
) -> tuple[list[ServiceInput], FromServices]:
    """The services of one structure, and what its card would take from them."""
    services, taken = [], FromServices()
    for r in readers:
        x = r.nested("relais")
        services.append(_service_input(r, x))
        _take(taken, r, x)
    return services, taken
