"""A data·inclusion v0 file mapped to v1, with each value that could not be mapped.

v0 is frozen (Relais wrote it until it moved to v1); its files still import. Each record is
renamed field by field (``presentation_detail`` -> ``description``, ``horaires_ouverture`` ->
``horaires_accueil``, ``profils`` -> ``publics``, ``pre_requis`` -> ``conditions_acces``...)
and its vocabularies mapped through what Relais records (v0 thématique -> barrier category or
stage -> v1 thématique; profil -> public; typologie and labels -> structure type ->
réseau porteur). What Relais keeps and v1 cannot say (a service's several kinds and fees, its
documents, referral modes and zone) travels in the service's ``relais`` object, as in Relais's
own v1 files. A ``relais`` object on a structure (a v0 file written by Relais) is kept as is.

A value that maps to nothing is reported (``Unmapped``: record, field, value) and left out; the
rest of the record imports. Text cells of a CSV file are read as by the v1 reader (arrays as
JSON or comma-separated).
"""

from __future__ import annotations

from typing import Any

from data_inclusion.schema.v1 import Public, ReseauPorteur

from app.domain import data_inclusion as v1
from app.domain.directory import (
    TYPE_TYPOLOGIES,
    Fee,
    ReceptionMode,
    ReferralMode,
    ServiceType,
    ZoneType,
    codes_from_thematiques,
    type_from_typologie,
)
from app.services.directory.interop.records import ImportProblem, RecordReader
from app.services.directory.interop.schema import DirectoryFile, DirectoryImportError, Unmapped

# Fields with the same name and meaning in v0 and v1.
_SAME_STRUCTURE = (
    "id", "source", "nom", "date_maj", "siret", "commune", "code_postal", "code_insee",
    "adresse", "complement_adresse", "telephone", "courriel", "site_web", "lien_source",
)  # fmt: skip
_SAME_SERVICE = (
    "id", "structure_id", "source", "nom", "date_maj", "commune", "code_postal", "code_insee",
    "adresse", "complement_adresse", "telephone", "courriel",
)  # fmt: skip
_KNOWN_TYPOLOGIES = {value for value, _label in TYPE_TYPOLOGIES.values()} | {
    "CIAS", "DEPT", "AI", "EI", "ETTI", "EITI", "EPCI", "CC", "ETAT", "DEETS",
}  # fmt: skip
_NETWORK_VALUES = {n.value for n in ReseauPorteur}
# v0 ``profils`` -> v1 ``publics`` (the package's ``Public``), where v1 has a counterpart.
V0_PROFILS: dict[str, Public] = {
    "tous-publics": Public.TOUS_PUBLICS,
    "adultes": Public.TOUS_PUBLICS,
    "jeunes": Public.JEUNES,
    "jeunes-16-26": Public.JEUNES,
    "familles-enfants": Public.FAMILLES,
    "femmes": Public.FEMMES,
    "demandeurs-demploi": Public.DEMANDEURS_EMPLOI,
    "beneficiaires-rsa": Public.BENEFICIAIRES_DES_MINIMAS_SOCIAUX,
    "personnes-handicapees": Public.PERSONNES_EN_SITUATION_DE_HANDICAP,
    "deficience-visuelle": Public.PERSONNES_EN_SITUATION_DE_HANDICAP,
    "personnes-de-nationalite-etrangere": Public.PERSONNES_EXILEES,
    "sortants-de-detention": Public.PERSONNES_EN_SITUATION_JURIDIQUE_SPECIFIQUE,
    "sans-domicile-fixe": Public.PERSONNES_EN_SITUATION_D_URGENCE,
    "victimes": Public.PERSONNES_EN_SITUATION_D_URGENCE,
    "retraites": Public.SENIORS,
    "seniors-65": Public.SENIORS,
    "etudiants": Public.ETUDIANTS,
    "salaries": Public.ACTIFS,
    "alternants": Public.ACTIFS,
}


def _publics(values: list[str]) -> list[str] | None:
    """v1 publics of v0 profils: ``tous-publics`` alone when it is among them (v1 rule)."""
    found = {V0_PROFILS[v].value for v in values if v in V0_PROFILS}
    if Public.TOUS_PUBLICS.value in found:
        return [Public.TOUS_PUBLICS.value]
    return sorted(found) or None


class _Mapper:
    def __init__(self) -> None:
        self.unmapped: list[Unmapped] = []
        # Cells that cannot be read (a JSON array that is not one...): the file is refused.
        self.unreadable: list[ImportProblem] = []

    def reader(self, where: str, raw: dict[str, Any]) -> RecordReader:
        return RecordReader(where, raw, self.unreadable)

    def report(self, where: str, name: str, values: list[str]) -> None:
        self.unmapped.extend(Unmapped(where, name, value) for value in values)

    def kept(self, r: RecordReader, name: str, allowed: set[str]) -> list[str]:
        """The values of ``name`` among ``allowed``; the others reported."""
        values = r.strings(name)
        self.report(r.where, name, [v for v in values if v not in allowed])
        return [v for v in values if v in allowed]

    def thematiques(self, r: RecordReader) -> list[str]:
        """v0 thématiques -> Relais codes -> v1 thématiques; those Relais has nothing for are
        reported."""
        values = r.strings("thematiques")
        barriers, stages = codes_from_thematiques(values)
        lost = [v for v in values if codes_from_thematiques([v]) == ([], [])]
        self.report(r.where, "thematiques", lost)
        return v1.thematiques_for(barriers, stages)

    def structure(self, index: int, raw: dict[str, Any]) -> dict[str, Any]:
        r = self.reader(f"structures[{index}]", raw)
        out = {name: raw.get(name) for name in _SAME_STRUCTURE if name in raw}
        out["description"] = raw.get("presentation_detail") or raw.get("presentation_resume")
        out["horaires_accueil"] = raw.get("horaires_ouverture")
        if raw.get("relais") not in (None, ""):
            out["relais"] = raw["relais"]
            return out
        typologie = r.text("typologie", limit=64)
        labels = r.strings("labels_nationaux")
        if typologie and typologie not in _KNOWN_TYPOLOGIES:
            self.report(r.where, "typologie", [typologie])
        networks = [label for label in labels if label in _NETWORK_VALUES]
        self.report(r.where, "labels_nationaux", [x for x in labels if x not in _NETWORK_VALUES])
        type_code = type_from_typologie(typologie, labels)
        networks = sorted({*networks, *v1.networks_for(type_code)})
        out["reseaux_porteurs"] = networks or None
        # Read back by the v1 reader when the networks say nothing (an association...).
        out["typologie"], out["labels_nationaux"] = typologie, labels
        out["thematiques"] = self.thematiques(r) or None
        return out

    def service(self, index: int, raw: dict[str, Any]) -> dict[str, Any]:
        r = self.reader(f"services[{index}]", raw)
        out = {name: raw.get(name) for name in _SAME_SERVICE if name in raw}
        detail = raw.get("presentation_detail") or raw.get("presentation_resume")
        out["description"] = detail
        out["thematiques"] = self.thematiques(r) or None
        profils = r.strings("profils")
        self.report(r.where, "profils", [p for p in profils if p not in V0_PROFILS])
        out["publics"] = _publics(profils)
        out["publics_precisions"] = raw.get("profils_precisions")
        out["conditions_acces"] = "\n".join(r.strings("pre_requis")) or None
        out["modes_accueil"] = self.kept(r, "modes_accueil", {m.value for m in ReceptionMode})
        types = self.kept(r, "types", {t.value for t in ServiceType})
        fees = self.kept(r, "frais", {f.value for f in Fee})
        referral = self.kept(r, "modes_orientation_accompagnateur", {m.value for m in ReferralMode})
        out["type"] = v1.service_type_for(types)
        out["frais"] = v1.fee_for(fees)
        out["frais_precisions"] = raw.get("frais_autres")
        out["modes_mobilisation"] = v1.mobilisation_for(referral)
        out["mobilisable_par"] = ["professionnels"] if referral else None
        extension: dict[str, Any] = {
            "types": types,
            "frais": fees,
            "justificatifs": r.strings("justificatifs"),
            "modes_orientation": referral,
        }
        if detail and raw.get("presentation_resume") and detail != raw["presentation_resume"]:
            extension["resume"] = raw["presentation_resume"]
        extension.update(self.zone(r, out))
        out["relais"] = extension
        return out

    def zone(self, r: RecordReader, out: dict[str, Any]) -> dict[str, Any]:
        kind = r.text("zone_diffusion_type", limit=16)
        if not kind:
            return {}
        if kind not in ZoneType._value2member_map_:
            self.report(r.where, "zone_diffusion_type", [kind])
            return {}
        code = r.text("zone_diffusion_code", limit=9) or ""
        out["zone_eligibilite"] = v1.zone_eligibilite_for(ZoneType(kind), code)
        name = r.text("zone_diffusion_nom", limit=200) or ""
        return {"zone_type": kind, "zone_code": code, "territoire": name}


def v0_to_v1(data: DirectoryFile) -> tuple[DirectoryFile, list[Unmapped]]:
    """The file in v1, and each v0 value that could not be mapped (in file order). Raises
    ``DirectoryImportError`` when a cell cannot be read at all."""
    mapper = _Mapper()
    structures = [mapper.structure(i, raw) for i, raw in enumerate(data.structures)]
    services = [mapper.service(i, raw) for i, raw in enumerate(data.services)]
    if mapper.unreadable:
        raise DirectoryImportError(mapper.unreadable)
    return DirectoryFile(structures, services, v1.SCHEMA_V1), mapper.unmapped
