"""Rules of the partner directory that need no database.

* the card's vocabularies: reception modes are data·inclusion's ``ModeAccueil`` (from the
  ``data-inclusion-schema`` package); referral modes, fees, service kinds and zone kinds are
  Relais's own (they came from data·inclusion v0, richer than v1: ``app.domain.data_inclusion``
  maps them onto v1);
* data·inclusion **v0** (``thematiques``, ``typologie``, ``profils``): how a v0 file from
  elsewhere is read (v0 is frozen; Relais writes v1);
* freshness: a card not checked for some months is flagged;
* fit: how well a partner's card fits a hand-off (purpose, cohort, QPV, age);
* quarters, to place network events on a timeline.

Opening hours (OpenStreetMap format) are in ``app.domain.opening_hours``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from data_inclusion.schema.v1 import ModeAccueil

# ``modes_accueil``: how people are received (``A_DISTANCE``, ``EN_PRESENTIEL``).
ReceptionMode = ModeAccueil


class ReferralMode(StrEnum):
    """``modes_orientation_accompagnateur``: how a professional refers someone."""

    PHONE = "telephoner"
    EMAIL = "envoyer-un-mail"
    EMAIL_WITH_FORM = "envoyer-un-mail-avec-une-fiche-de-prescription"
    MEMBERSHIP_FORM = "completer-le-formulaire-dadhesion"
    APPOINTMENT = "prendre-rdv"
    OTHER = "autre"


class Fee(StrEnum):
    """``frais``: what a service costs the person."""

    FREE = "gratuit"
    FREE_UNDER_CONDITIONS = "gratuit-sous-conditions"
    PAID = "payant"
    MEMBERSHIP = "adhesion"
    PASS_NUMERIQUE = "pass-numerique"  # noqa: S105 - a vocabulary value


class ServiceType(StrEnum):
    """``types`` of a service (typologies de services)."""

    SUPPORT = "accompagnement"
    RECEPTION = "accueil"
    FINANCIAL_AID = "aide-financiere"
    MATERIAL_AID = "aide-materielle"
    WORKSHOP = "atelier"
    TRAINING = "formation"
    INFORMATION = "information"
    DIGITAL = "numerique"
    AUTONOMY = "autonomie"
    DELEGATION = "delegation"
    FUNDING = "financement"


class ZoneType(StrEnum):
    """``zone_diffusion_type``: the kind of territory a structure serves."""

    COMMUNE = "commune"
    EPCI = "epci"
    DEPARTEMENT = "departement"
    REGION = "region"
    PAYS = "pays"


# -- thématiques (v0) -----------------------------------------------------------------------

# Each seeded barrier category and stage, and the data·inclusion v0 thématique it stood for.
BARRIER_THEMATIQUES: dict[str, str] = {
    "mobility": "mobilite",
    "childcare": "famille--garde-denfants",
    "digital": "numerique",
    "health": "sante--acces-aux-soins",
    "mental_health": "sante--bien-etre-psychologique",
    "addiction": "sante--faire-face-a-une-situation-daddiction",
    "housing": "logement-hebergement",
    "language": "apprendre-francais",
    "legal_admin": "acces-aux-droits-et-citoyennete",
    "financial": "gestion-financiere",
    "motivation": "remobilisation",
}
STAGE_THEMATIQUES: dict[str, str] = {
    "orientation": "accompagnement-social-et-professionnel-personnalise",
    "barriers": (
        "accompagnement-social-et-professionnel-personnalise"
        "--parcours-d-insertion-socioprofessionnel"
    ),
    "training": "se-former",
    "employment": "trouver-un-emploi",
}
# Reading a file from elsewhere: a thématique not listed above is read by its family (the part
# before ``--``), or ignored when Relais has nothing for it (food aid, international...).
_BARRIER_FAMILIES: dict[str, str] = {
    "mobilite": "mobility",
    "numerique": "digital",
    "logement-hebergement": "housing",
    "apprendre-francais": "language",
    "illettrisme": "language",
    "acces-aux-droits-et-citoyennete": "legal_admin",
    "difficultes-administratives-ou-juridiques": "legal_admin",
    "gestion-financiere": "financial",
    "remobilisation": "motivation",
    "sante": "health",
}
_BARRIER_SUBTHEMES: dict[str, str] = {
    "famille--garde-denfants": "childcare",
    "sante--bien-etre-psychologique": "mental_health",
    "sante--accompagner-les-traumatismes": "mental_health",
    "sante--faire-face-a-une-situation-daddiction": "addiction",
}
_STAGE_FAMILIES: dict[str, str] = {
    "accompagnement-social-et-professionnel-personnalise": "orientation",
    "choisir-un-metier": "orientation",
    "se-former": "training",
    "trouver-un-emploi": "employment",
    "preparer-sa-candidature": "employment",
    "creation-activite": "employment",
}


def thematiques_for(barrier_codes: Iterable[str], stage_codes: Iterable[str]) -> list[str]:
    """The thématiques that publish these barrier categories and stages (unknown codes skipped)."""
    values = [BARRIER_THEMATIQUES[c] for c in barrier_codes if c in BARRIER_THEMATIQUES]
    values += [STAGE_THEMATIQUES[c] for c in stage_codes if c in STAGE_THEMATIQUES]
    return sorted(set(values))


def codes_from_thematiques(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """The barrier categories and stages that a list of thématiques speaks of, sorted."""
    barriers: set[str] = set()
    stages: set[str] = set()
    barrier_exact = {v: k for k, v in BARRIER_THEMATIQUES.items()} | _BARRIER_SUBTHEMES
    stage_exact = {v: k for k, v in STAGE_THEMATIQUES.items()}
    for value in values:
        family = value.split("--", 1)[0]
        if value in barrier_exact:
            barriers.add(barrier_exact[value])
        elif value in stage_exact:
            stages.add(stage_exact[value])
        elif family in _BARRIER_FAMILIES:
            barriers.add(_BARRIER_FAMILIES[family])
        elif family in _STAGE_FAMILIES:
            stages.add(_STAGE_FAMILIES[family])
    return sorted(barriers), sorted(stages)


# -- typologies and labels --------------------------------------------------------------------

# Relais structure type -> (data·inclusion typologie, national label telling two types apart).
TYPE_TYPOLOGIES: dict[str, tuple[str, str | None]] = {
    "mission_locale": ("ML", "mission-locale"),
    "france_travail": ("FT", "france-travail"),
    "epide": ("EPIDE", "epide"),
    "e2c": ("E2C", "ecoles-de-la-deuxieme-chance"),
    "uniscite": ("ASSO", "unis-cite"),
    "promo_16_18": ("AFPA", "afpa"),
    "mlds": ("ETABL_PUB", None),
    "departement": ("CD", None),
    "ccas": ("CCAS", None),
    "cap_emploi": ("CAP_EMPLOI", "cap-emploi-reseau-cheops"),
    "plie": ("PLIE", None),
    "siae": ("ACI", None),
    "association": ("ASSO", None),
    "ville": ("MUNI", None),
    "employer": ("ETABL_PRI", None),
    "prefecture": ("PREF", None),
    "other": ("Autre", None),
}
# Typologies of other files that fall into a Relais type (besides the ones above).
_MORE_TYPOLOGIES: dict[str, str] = {
    "CIAS": "ccas",
    "DEPT": "departement",
    "AI": "siae",
    "EI": "siae",
    "ETTI": "siae",
    "EITI": "siae",
    "EPCI": "ville",
    "CC": "ville",
    "ETAT": "prefecture",
    "DEETS": "prefecture",
}


def type_from_typologie(typologie: str | None, labels: Iterable[str]) -> str:
    """The Relais structure type of a data·inclusion structure (``other`` when unknown)."""
    labels = set(labels)
    for code, (value, label) in TYPE_TYPOLOGIES.items():
        if label is not None and label in labels and (typologie in (None, value)):
            return code
    for code, (value, label) in TYPE_TYPOLOGIES.items():
        if value == typologie and label is None:
            return code
    for code, (value, _label) in TYPE_TYPOLOGIES.items():
        if value == typologie:
            return code
    return _MORE_TYPOLOGIES.get(typologie or "", "other")


# Cohorts as data·inclusion ``profils`` (publics). Several cohorts share a profil, so reading a
# file from elsewhere is approximate; Relais' own files also carry the cohort codes.
COHORT_PROFILS: dict[str, str] = {
    "young_dropout": "jeunes-16-26",
    "young_graduate": "jeunes-16-26",
    "single_parent": "familles-enfants",
    "other": "tous-publics",
}
_PROFIL_COHORTS: dict[str, tuple[str, ...]] = {
    "jeunes-16-26": ("young_dropout", "young_graduate"),
    "jeunes": ("young_dropout", "young_graduate"),
    "familles-enfants": ("single_parent",),
    "tous-publics": ("other",),
    "adultes": ("other",),
    "demandeurs-demploi": ("other",),
    "beneficiaires-rsa": ("other",),
}


def profils_for(cohort_codes: Iterable[str]) -> list[str]:
    return sorted({COHORT_PROFILS[c] for c in cohort_codes if c in COHORT_PROFILS})


def cohorts_from_profils(values: Iterable[str]) -> list[str]:
    return sorted({c for v in values for c in _PROFIL_COHORTS.get(v, ())})


# -- freshness --------------------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def is_stale(checked_on: date | None, today: date, months: int) -> bool:
    """A card never checked, or last checked ``months`` months ago or more, is stale."""
    return checked_on is None or checked_on <= months_before(today, months)


# -- fit of a partner for a hand-off ----------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """How a partner's card fits a person and a purpose.

    ``purpose`` is None when no purpose is chosen yet. ``age`` is False only when the card gives
    an age range and the person's age is known and outside it.
    """

    purpose: bool | None
    cohort: bool
    qpv: bool
    age: bool = True

    @property
    def suggested(self) -> bool:
        """Shown first: fits the purpose (or, before a purpose is chosen, the cohort and the
        neighbourhood), and the person's age is not outside the card's range."""
        if not self.age:
            return False
        if self.purpose is None:
            return self.cohort and self.qpv
        return self.purpose

    @property
    def score(self) -> int:
        """Purpose first, then cohort, then neighbourhood; an age outside the range last."""
        value = 4 * bool(self.purpose) + 2 * self.cohort + self.qpv
        return value if self.age else value - 8


def age_fits(age: int | None, low: int | None, high: int | None) -> bool:
    if age is None:
        return True
    return (low is None or age >= low) and (high is None or age <= high)


def capacity_rank(places: int | None) -> int:
    """Among equal fits: free places first, then unknown capacity, then full."""
    if places is None:
        return 1
    return 0 if places > 0 else 2
