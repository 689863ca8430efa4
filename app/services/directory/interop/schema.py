"""data·inclusion's field names (schema v0), how a Relais card maps to them, and a file as read.

See docs/directory.md for the field-by-field mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.services.directory.interop.records import ImportProblem

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


def summary(text: str, limit: int = 280) -> str | None:
    """``presentation_resume``: the missions, cut on a word at 280 characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text or None
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
