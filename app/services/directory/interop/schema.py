"""data·inclusion's field names (schema v1, from the ``data-inclusion-schema`` package's
models; v0's, to read older files), how a Relais card maps to them, and a file as read.

See docs/directory.md for the field-by-field mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from data_inclusion.schema import v1

from app.domain.data_inclusion import SCHEMA_V1
from app.services.directory.interop.records import ImportProblem

SCHEMA = SCHEMA_V1
SCHEMA_V0 = "data·inclusion v0"
# The v1 fields, as the package's models list them, and the ``relais`` extension object.
STRUCTURE_FIELDS: tuple[str, ...] = (*v1.Structure.model_fields, "relais")
SERVICE_FIELDS: tuple[str, ...] = (*v1.Service.model_fields, "relais")
# What tells a v0 file from a v1 one when it does not say (fields of one version only).
V0_FIELDS = frozenset(
    {
        "typologie", "labels_nationaux", "presentation_resume", "presentation_detail",
        "horaires_ouverture", "types", "profils", "profils_precisions", "pre_requis",
        "justificatifs", "frais_autres", "modes_orientation_accompagnateur",
        "zone_diffusion_type", "zone_diffusion_code", "zone_diffusion_nom", "contact_public",
    }
)  # fmt: skip
V1_FIELDS = frozenset(
    {
        "description", "reseaux_porteurs", "horaires_accueil", "accessibilite_lieu", "type",
        "publics", "publics_precisions", "conditions_acces", "frais_precisions",
        "modes_mobilisation", "mobilisable_par", "mobilisation_precisions", "zone_eligibilite",
        "lien_mobilisation", "contact_nom_prenom",
    }
)  # fmt: skip
# Card fields as data·inclusion v1 names them, to report a problem where the file has it.
DI_NAMES = {
    "name": "nom", "missions": "description", "city": "commune", "siret": "siret",
    "postcode": "code_postal", "insee_code": "code_insee", "address": "adresse",
    "address_extra": "complement_adresse", "phone": "telephone", "email": "courriel",
    "website": "site_web", "opening_hours": "horaires_accueil", "contact": "relais.contact",
    "capacity": "relais.places", "age_min": "relais.age_min", "age_max": "relais.age_max",
    "public_notes": "publics_precisions", "territory": "relais.territoire",
    "zone_type": "zone_eligibilite", "zone_code": "zone_eligibilite",
    "referral_conditions": "conditions_acces", "referral_documents": "relais.justificatifs",
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
    # What the file says of its schema (a JSON document's ``schema``), None if nothing.
    schema: str | None = None


@dataclass(frozen=True)
class Unmapped:
    """A value of a file that Relais could not map (a v0 value with no v1 or Relais
    counterpart, a v1 value Relais records nothing for): reported, not imported."""

    where: str
    field: str
    value: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.value}"


def version_of(data: DirectoryFile) -> str:
    """``v1`` or ``v0``: what the document says, or else what its fields tell (v1 when both
    or neither)."""
    said = (data.schema or "").lower()
    if "v0" in said:
        return "v0"
    if "v1" in said:
        return "v1"
    names = {name for record in [*data.structures, *data.services] for name in record}
    return "v0" if len(names & V0_FIELDS) > len(names & V1_FIELDS) else "v1"


def summary(text: str, limit: int = 280) -> str | None:
    """``presentation_resume``: the missions, cut on a word at 280 characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text or None
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
