"""How Relais's own vocabularies map onto data·inclusion **v1**, in one place.

The v1 vocabularies are the ``data-inclusion-schema`` package's enums (``Thematique``,
``Categorie``, ``Public``, ``ReseauPorteur``, ``TypeService``, ``Frais``, ``ModeAccueil``,
``ModeMobilisation``, ``PersonneMobilisatrice``): nothing here copies their values, so a value
the package drops fails the tests (``tests/domain/test_data_inclusion.py`` and
``tests/services/directory/test_interop_v1.py`` check that every seeded Relais code maps onto
a member of the package's enum).

Relais keeps its own, richer card vocabularies (``app.domain.directory``: referral modes,
fees, service kinds, zone kinds; reception modes *are* the package's ``ModeAccueil``); each maps
here onto the v1 value it is published as, and back when a file from elsewhere is read.
"""

from __future__ import annotations

from collections.abc import Iterable

from data_inclusion.schema.v1 import (
    Categorie,
    Frais,
    ModeMobilisation,
    Public,
    ReseauPorteur,
    Thematique,
    TypeService,
)

from app.domain.directory import Fee, ReferralMode, ServiceType, ZoneType

SCHEMA_V1 = "data·inclusion v1"

# -- thématiques ------------------------------------------------------------------------------

# Each seeded barrier category and stage, and the v1 thématique it is published as.
BARRIER_THEMATIQUES: dict[str, Thematique] = {
    "mobility": Thematique.MOBILITE__ETRE_ACCOMPAGNE_DANS_SON_PARCOURS_MOBILITE,
    "childcare": Thematique.FAMILLE__GARDE_DENFANTS,
    "digital": Thematique.NUMERIQUE__MAITRISER_LES_FONDAMENTAUX_DU_NUMERIQUE,
    "health": Thematique.SANTE__ACCES_AUX_SOINS,
    "mental_health": Thematique.SANTE__SANTE_MENTALE,
    "addiction": Thematique.SANTE__ADDICTIONS,
    "housing": Thematique.LOGEMENT_HEBERGEMENT__SINFORMER_SUR_LES_DEMARCHES_LIEES_A_LACCES_AU_LOGEMENT,
    "language": Thematique.LECTURE_ECRITURE_CALCUL__MAITRISER_LE_FRANCAIS,
    "legal_admin": (
        Thematique.DIFFICULTES_ADMINISTRATIVES_OU_JURIDIQUES__ACCOMPAGNEMENT_POUR_LACCES_AUX_DROITS
    ),
    "financial": Thematique.DIFFICULTES_FINANCIERES__AMELIORER_SA_GESTION_BUDGETAIRE,
    "motivation": Thematique.REMOBILISATION__BIEN_ETRE_CONFIANCE_EN_SOI,
}
STAGE_THEMATIQUES: dict[str, Thematique | None] = {
    "orientation": Thematique.CHOISIR_UN_METIER__IDENTIFIER_SES_POINTS_FORTS_ET_SES_COMPETENCES,
    "barriers": Thematique.REMOBILISATION__LIEN_SOCIAL,
    "training": Thematique.SE_FORMER__TROUVER_SA_FORMATION,
    "employment": Thematique.TROUVER_UN_EMPLOI__REPONDRE_A_DES_OFFRES_DEMPLOI,
    "exit_other": None,  # leaving a pathway is no service: published as no thématique
}
# Reading a file from elsewhere: a thématique not listed above is read by its category (the
# part before ``--``), a few sub-thématiques more precisely; the others (food, international,
# business creation...) are outside what Relais records.
_BARRIER_CATEGORIES: dict[Categorie, str] = {
    Categorie.MOBILITE: "mobility",
    Categorie.NUMERIQUE: "digital",
    Categorie.LOGEMENT_HEBERGEMENT: "housing",
    Categorie.LECTURE_ECRITURE_CALCUL: "language",
    Categorie.DIFFICULTES_ADMINISTRATIVES_OU_JURIDIQUES: "legal_admin",
    Categorie.DIFFICULTES_FINANCIERES: "financial",
    Categorie.REMOBILISATION: "motivation",
    Categorie.SANTE: "health",
}
_BARRIER_SUBTHEMES: dict[Thematique, str] = {
    Thematique.FAMILLE__GARDE_DENFANTS: "childcare",
    Thematique.SANTE__SANTE_MENTALE: "mental_health",
    Thematique.SANTE__ADDICTIONS: "addiction",
}
_STAGE_CATEGORIES: dict[Categorie, str] = {
    Categorie.CHOISIR_UN_METIER: "orientation",
    Categorie.SE_FORMER: "training",
    Categorie.TROUVER_UN_EMPLOI: "employment",
    Categorie.PREPARER_SA_CANDIDATURE: "employment",
    Categorie.CREER_UNE_ENTREPRISE: "employment",
}


def thematiques_for(barrier_codes: Iterable[str], stage_codes: Iterable[str]) -> list[str]:
    """The v1 thématiques that publish these barrier categories and stages, sorted."""
    values = {BARRIER_THEMATIQUES[c].value for c in barrier_codes if c in BARRIER_THEMATIQUES}
    values |= {t.value for c in stage_codes if (t := STAGE_THEMATIQUES.get(c)) is not None}
    return sorted(values)


def codes_from_thematiques(values: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """The barrier categories and stages that v1 thématiques (or categories) speak of, and the
    values Relais has nothing for, each sorted."""
    barriers: set[str] = set()
    stages: set[str] = set()
    unknown: set[str] = set()
    barrier_exact = {t.value: c for c, t in BARRIER_THEMATIQUES.items()}
    barrier_exact |= {t.value: c for t, c in _BARRIER_SUBTHEMES.items()}
    stage_exact = {t.value: c for c, t in STAGE_THEMATIQUES.items() if t is not None}
    barrier_families = {k.value: c for k, c in _BARRIER_CATEGORIES.items()}
    stage_families = {k.value: c for k, c in _STAGE_CATEGORIES.items()}
    for value in values:
        family = value.split("--", 1)[0]
        if value in barrier_exact:
            barriers.add(barrier_exact[value])
        elif value in stage_exact:
            stages.add(stage_exact[value])
        elif family in barrier_families:
            barriers.add(barrier_families[family])
        elif family in stage_families:
            stages.add(stage_families[family])
        else:
            unknown.add(value)
    return sorted(barriers), sorted(stages), sorted(unknown)


# -- structures: réseaux porteurs -------------------------------------------------------------

# Relais structure type -> the network (``reseaux_porteurs``) it is published with, if any.
TYPE_NETWORKS: dict[str, ReseauPorteur | None] = {
    "mission_locale": ReseauPorteur.MISSION_LOCALE,
    "france_travail": ReseauPorteur.FRANCE_TRAVAIL,
    "epide": ReseauPorteur.EPIDE,
    "e2c": ReseauPorteur.ECOLES_DE_LA_DEUXIEME_CHANCE,
    "uniscite": ReseauPorteur.UNIS_CITE,
    "promo_16_18": ReseauPorteur.AFPA,
    "mlds": None,
    "departement": ReseauPorteur.DEPARTEMENTS,
    "ccas": ReseauPorteur.CCAS_CIAS,
    "cap_emploi": ReseauPorteur.CAP_EMPLOI_RESEAU_CHEOPS,
    "plie": ReseauPorteur.PLIE,
    "siae": ReseauPorteur.INAE,
    "association": None,
    "ville": ReseauPorteur.COMMUNES,
    "employer": None,
    "prefecture": None,
    "other": None,
}
# Networks of other files that fall into a Relais type (besides the ones above).
_MORE_NETWORKS: dict[ReseauPorteur, str] = {
    ReseauPorteur.ACI: "siae",
    ReseauPorteur.AI: "siae",
    ReseauPorteur.EI: "siae",
    ReseauPorteur.ETTI: "siae",
    ReseauPorteur.EITI: "siae",
    ReseauPorteur.COORACE: "siae",
    ReseauPorteur.REGIONS: "ville",
    ReseauPorteur.MAISONS_DES_SOLIDARITES: "departement",
    ReseauPorteur.DELEGATAIRE_CONSEIL_DEPARTEMENTAL: "departement",
}


def networks_for(type_code: str) -> list[str]:
    network = TYPE_NETWORKS.get(type_code)
    return [network.value] if network is not None else []


def type_from_networks(values: Iterable[str]) -> str:
    """The Relais structure type of a v1 structure from its networks (``other`` when none)."""
    found = set(values)
    for code, network in TYPE_NETWORKS.items():
        if network is not None and network.value in found:
            return code
    for network, code in _MORE_NETWORKS.items():
        if network.value in found:
            return code
    return "other"


# -- publics ----------------------------------------------------------------------------------

COHORT_PUBLICS: dict[str, Public] = {
    "young_dropout": Public.JEUNES,
    "young_graduate": Public.JEUNES,
    "single_parent": Public.FAMILLES,
    "rsa": Public.BENEFICIAIRES_DES_MINIMAS_SOCIAUX,
    "deld": Public.DEMANDEURS_EMPLOI,
    "rqth": Public.PERSONNES_EN_SITUATION_DE_HANDICAP,
    "cej": Public.JEUNES,
    "training_obligation": Public.JEUNES,
    "other": Public.TOUS_PUBLICS,
}
# Reading a file from elsewhere: the cohorts a public stands for (a broader public than any
# cohort, such as all job seekers, is "Tout public").
_PUBLIC_COHORTS: dict[Public, tuple[str, ...]] = {
    Public.JEUNES: ("young_dropout", "young_graduate"),
    Public.FAMILLES: ("single_parent",),
    Public.TOUS_PUBLICS: ("other",),
    Public.DEMANDEURS_EMPLOI: ("other",),
    Public.BENEFICIAIRES_DES_MINIMAS_SOCIAUX: ("rsa",),
    Public.RESIDENTS_QPV_FRR: ("other",),
    Public.ACTIFS: ("other",),
    Public.FEMMES: ("other",),
    Public.SENIORS: ("other",),
    Public.ETUDIANTS: ("other",),
    Public.PERSONNES_EN_SITUATION_DE_HANDICAP: ("rqth",),
    Public.PERSONNES_EN_SITUATION_D_URGENCE: ("other",),
    Public.PERSONNES_EN_SITUATION_JURIDIQUE_SPECIFIQUE: ("other",),
    Public.PERSONNES_EXILEES: ("other",),
}


def publics_for(cohort_codes: Iterable[str]) -> list[str] | None:
    """The v1 ``publics`` of these cohorts: ``tous-publics`` alone when the card is open to
    everyone (v1 allows it with no other value), None when no cohort maps."""
    values = {COHORT_PUBLICS[c].value for c in cohort_codes if c in COHORT_PUBLICS}
    if Public.TOUS_PUBLICS.value in values:
        return [Public.TOUS_PUBLICS.value]
    return sorted(values) or None


def cohorts_from_publics(values: Iterable[str]) -> list[str]:
    by_value = {p.value: cohorts for p, cohorts in _PUBLIC_COHORTS.items()}
    return sorted({c for v in values for c in by_value.get(v, ())})


# -- services ---------------------------------------------------------------------------------

SERVICE_TYPES: dict[ServiceType, TypeService | None] = {
    ServiceType.SUPPORT: TypeService.ACCOMPAGNEMENT,
    ServiceType.RECEPTION: TypeService.INFORMATION,
    ServiceType.FINANCIAL_AID: TypeService.AIDE_FINANCIERE,
    ServiceType.MATERIAL_AID: TypeService.AIDE_MATERIELLE,
    ServiceType.WORKSHOP: TypeService.ATELIER,
    ServiceType.TRAINING: TypeService.FORMATION,
    ServiceType.INFORMATION: TypeService.INFORMATION,
    ServiceType.DIGITAL: None,
    ServiceType.AUTONOMY: None,
    ServiceType.DELEGATION: TypeService.ACCOMPAGNEMENT,
    ServiceType.FUNDING: TypeService.AIDE_FINANCIERE,
}
FEES: dict[Fee, Frais] = {
    Fee.FREE: Frais.GRATUIT,
    Fee.FREE_UNDER_CONDITIONS: Frais.GRATUIT,
    Fee.PAID: Frais.PAYANT,
    Fee.MEMBERSHIP: Frais.PAYANT,
    Fee.PASS_NUMERIQUE: Frais.PAYANT,
}
REFERRAL_MOBILISATION: dict[ReferralMode, ModeMobilisation | None] = {
    ReferralMode.PHONE: ModeMobilisation.TELEPHONER,
    ReferralMode.EMAIL: ModeMobilisation.ENVOYER_UN_COURRIEL,
    ReferralMode.EMAIL_WITH_FORM: ModeMobilisation.ENVOYER_UN_COURRIEL,
    ReferralMode.MEMBERSHIP_FORM: None,
    ReferralMode.APPOINTMENT: ModeMobilisation.SE_PRESENTER,
    ReferralMode.OTHER: None,
}
_MOBILISATION_REFERRAL: dict[ModeMobilisation, ReferralMode] = {
    ModeMobilisation.TELEPHONER: ReferralMode.PHONE,
    ModeMobilisation.ENVOYER_UN_COURRIEL: ReferralMode.EMAIL,
    ModeMobilisation.SE_PRESENTER: ReferralMode.APPOINTMENT,
    ModeMobilisation.UTILISER_LIEN_MOBILISATION: ReferralMode.OTHER,
}


def service_type_for(types: Iterable[str]) -> str | None:
    """The one v1 ``type`` of a service of several Relais kinds: the first that maps."""
    for value in types:
        mapped = SERVICE_TYPES.get(ServiceType(value)) if value in _SERVICE_VALUES else None
        if mapped is not None:
            return str(mapped.value)
    return None


def service_types_from(value: str | None) -> list[str]:
    """The Relais kinds of a v1 ``type`` (the v1 values are among Relais's)."""
    return [value] if value in _SERVICE_VALUES else []


def fee_for(fees: Iterable[str]) -> str | None:
    """The one v1 ``frais`` of a service: ``payant`` if any fee is paid, else ``gratuit``."""
    mapped = {FEES[Fee(v)] for v in fees if v in _FEE_VALUES}
    if not mapped:
        return None
    return str((Frais.PAYANT if Frais.PAYANT in mapped else Frais.GRATUIT).value)


def fees_from(value: str | None) -> list[str]:
    return [value] if value in _FEE_VALUES else []


def mobilisation_for(referral_modes: Iterable[str]) -> list[str] | None:
    found = {
        m.value
        for r in referral_modes
        if r in _REFERRAL_VALUES and (m := REFERRAL_MOBILISATION[ReferralMode(r)]) is not None
    }
    return sorted(found) or None


def referral_modes_from(values: Iterable[str]) -> list[str]:
    by_value = {m.value: r.value for m, r in _MOBILISATION_REFERRAL.items()}
    return sorted({by_value[v] for v in values if v in by_value})


_SERVICE_VALUES = {t.value for t in ServiceType}
_FEE_VALUES = {f.value for f in Fee}
_REFERRAL_VALUES = {m.value for m in ReferralMode}

# -- zone -------------------------------------------------------------------------------------

FRANCE = "france"


def zone_eligibilite_for(zone_type: ZoneType | None, zone_code: str) -> list[str] | None:
    """``zone_eligibilite``: the card's zone as one official code (a region is given by its
    départements in v1, which Relais does not know: no zone then)."""
    if zone_type is ZoneType.PAYS:
        return [FRANCE]
    if zone_type in (ZoneType.COMMUNE, ZoneType.EPCI, ZoneType.DEPARTEMENT) and zone_code:
        return [zone_code]
    return None


def zone_from_eligibilite(codes: Iterable[str]) -> tuple[str, str] | None:
    """(zone kind, code) of the first code of a ``zone_eligibilite``, told by its shape."""
    for code in codes:
        if code == FRANCE or code == "99100":
            return (ZoneType.PAYS.value, "")
        if len(code) == 9 and code.isdigit():
            return (ZoneType.EPCI.value, code)
        if len(code) == 5:
            return (ZoneType.COMMUNE.value, code)
        if 2 <= len(code) <= 3:
            return (ZoneType.DEPARTEMENT.value, code)
    return None
