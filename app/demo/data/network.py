"""A fictional Belfort-like network for demonstrations and manual testing.

Everything here is invented: the priority neighbourhoods (QPV) are marked *fictif*, the
structures have made-up contact details (``.demo`` addresses, phone numbers in a range that
no real partner publishes) and the people are fictional, with ``@exemple.fr`` e-mail
addresses. Nothing here may ever be loaded into a production database that holds real people.

``app.demo.loading`` turns these constants into records through the same services as the web
pages; each person carries the name of the *story* (``app.demo.stories``) played for them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# One shared password for every demo account (it satisfies the password policy). It is public:
# a database holding demo accounts must never be reachable from the Internet.
DEMO_PASSWORD = "relais-demo-2026"  # noqa: S105 - the published demo password

ADMIN_EMAIL = "admin@relais.demo"
COORDINATOR_EMAIL = "coordination@relais.demo"
ADMIN_NAME = "Administration Relais (démo)"
COORDINATOR_NAME = "Délégation du préfet – coordination (démo)"


@dataclass(frozen=True)
class DemoQpv:
    code: str
    label_fr: str
    label_en: str
    city: str
    postcode: str
    streets: tuple[str, ...]


QPVS: tuple[DemoQpv, ...] = (
    DemoQpv(
        "QN09001X",
        "Les Résidences – Le Mont (fictif)",
        "Les Résidences – Le Mont (fictional)",
        "Belfort",
        "90000",
        ("rue de l'Ours-Brun", "avenue des Hêtres", "rue du Belvédère", "allée des Capucines"),
    ),
    DemoQpv(
        "QN09002X",
        "Les Glacis – Bastion (fictif)",
        "Les Glacis – Bastion (fictional)",
        "Belfort",
        "90000",
        ("rue du Bastion", "rue des Remparts", "place des Tisserands"),
    ),
    DemoQpv(
        "QN09003X",
        "Jean-Jaurès – Savoureuse (fictif)",
        "Jean-Jaurès – Savoureuse (fictional)",
        "Belfort",
        "90000",
        ("quai de la Savoureuse", "rue des Mésanges", "rue du Pré-Vert"),
    ),
    DemoQpv(
        "QN09004X",
        "Les Vergers – Offemont (fictif)",
        "Les Vergers – Offemont (fictional)",
        "Offemont",
        "90300",
        ("rue des Vergers", "allée des Lilas", "rue des Tilleuls"),
    ),
    DemoQpv(
        "QN09005X",
        "Le Ballon – Valdoie (fictif)",
        "Le Ballon – Valdoie (fictional)",
        "Valdoie",
        "90300",
        ("chemin du Ballon", "rue de la Forge", "rue des Écoles"),
    ),
)


@dataclass(frozen=True)
class DemoStructure:
    code: str
    name: str
    type_code: str
    missions: str
    contact: str
    city: str
    capacity: int | None
    caseworker_name: str

    @property
    def caseworker_email(self) -> str:
        return f"conseil@{self.code.lower()}.demo"


def _contact(code: str, phone: str, hours: str) -> str:
    return f"{phone} · accueil@{code.lower()}.demo · {hours}"


WEEKDAYS = "du lundi au vendredi, 9 h – 12 h et 13 h 30 – 17 h"

STRUCTURES: tuple[DemoStructure, ...] = (
    DemoStructure(
        "ML90",
        "Mission Locale du Pays belfortain",
        "mission_locale",
        "Accompagne les jeunes de 16 à 25 ans sortis de l'école : emploi, formation, Contrat "
        "d'engagement jeune (CEJ), santé, logement et mobilité. Permanences dans les maisons de "
        "quartier.",
        _contact("ML90", "03 53 01 00 10", WEEKDAYS),
        "Belfort",
        None,
        "Camille Besson",
    ),
    DemoStructure(
        "FT90",
        "France Travail – agence de Belfort Centre",
        "france_travail",
        "Inscription des demandeurs d'emploi, accompagnement vers l'emploi, financement de "
        "formations, mise en relation avec les entreprises du territoire.",
        _contact("FT90", "03 53 01 00 20", "du lundi au vendredi, 8 h 30 – 16 h 30"),
        "Belfort",
        None,
        "Julien Marchetti",
    ),
    DemoStructure(
        "EPIDE90",
        "EPIDE – centre de Belfort",
        "epide",
        "Internat en semaine pour les 17–25 ans sans diplôme ni emploi : remobilisation, "
        "savoir-être, remise à niveau et projet professionnel, pendant huit mois en moyenne.",
        _contact("EPIDE90", "03 53 01 00 30", "entrées chaque mois, sur entretien"),
        "Belfort",
        8,
        "Sophie Garnier",
    ),
    DemoStructure(
        "E2C90",
        "École de la 2e chance du Territoire de Belfort",
        "e2c",
        "Parcours individualisé de 6 à 9 mois pour les 16–25 ans sortis sans qualification : "
        "remise à niveau, stages en entreprise en alternance avec le centre, attestation de "
        "compétences.",
        _contact("E2C90", "03 53 01 00 40", "informations collectives le mardi à 14 h"),
        "Belfort",
        12,
        "Mathieu Roussel",
    ),
    DemoStructure(
        "UNIS90",
        "Unis-Cité – antenne de Belfort",
        "uniscite",
        "Service civique en équipe de 6 à 9 mois pour les 16–25 ans, avec ou sans diplôme : "
        "missions de solidarité et construction du projet d'avenir.",
        _contact("UNIS90", "03 53 01 00 50", "démarrage des équipes en octobre et en février"),
        "Belfort",
        15,
        "Léa Fournier",
    ),
    DemoStructure(
        "P1618-90",
        "Promo 16-18 – AFPA de Belfort",
        "promo_16_18",
        "Parcours de quatre mois pour les mineurs de 16 à 18 ans sans solution (obligation de "
        "formation) : remobilisation, découverte des métiers, immersions en entreprise.",
        _contact("P1618-90", "03 53 01 00 60", "entrées toutes les six semaines"),
        "Belfort",
        10,
        "Karim Benyahia",
    ),
    DemoStructure(
        "MLDS90",
        "Mission de lutte contre le décrochage scolaire – CIO de Belfort",
        "mlds",
        "Repère les élèves et les jeunes sortis sans diplôme, propose un retour en formation "
        "initiale ou une solution d'insertion ; entretiens de situation au CIO.",
        _contact("MLDS90", "03 53 01 00 70", "sur rendez-vous, y compris pendant les vacances"),
        "Belfort",
        None,
        "Anne-Laure Michaud",
    ),
    DemoStructure(
        "CD90",
        "Conseil départemental – Maison de l'action sociale des Résidences",
        "departement",
        "Accompagnement des allocataires du RSA, soutien aux familles, fonds d'aide aux jeunes, "
        "référents de parcours socio-professionnels.",
        _contact("CD90", "03 53 01 00 80", WEEKDAYS),
        "Belfort",
        None,
        "Nicolas Perrot",
    ),
    DemoStructure(
        "CCAS-OFF",
        "CCAS d'Offemont",
        "ccas",
        "Accueil social de proximité, aides facultatives (secours, aide aux transports), "
        "domiciliation, accès aux droits.",
        _contact("CCAS-OFF", "03 53 01 00 90", "lundi, mercredi et vendredi matin"),
        "Offemont",
        None,
        "Martine Lévêque",
    ),
    DemoStructure(
        "CAPE90",
        "Cap emploi Nord Franche-Comté – antenne de Belfort",
        "cap_emploi",
        "Accompagnement vers l'emploi des personnes en situation de handicap (RQTH) et maintien "
        "dans l'emploi, en lien avec les employeurs.",
        _contact("CAPE90", "03 53 01 01 00", WEEKDAYS),
        "Belfort",
        None,
        "Olivier Tissot",
    ),
    DemoStructure(
        "PLIE90",
        "PLIE du Grand Belfort",
        "plie",
        "Accompagnement renforcé des demandeurs d'emploi de longue durée et des allocataires du "
        "RSA vers un emploi durable ; clauses sociales des marchés publics.",
        _contact("PLIE90", "03 53 01 01 10", WEEKDAYS),
        "Belfort",
        20,
        "Hélène Carrel",
    ),
    DemoStructure(
        "SIAE90",
        "Les Jardins du Lion – atelier et chantier d'insertion",
        "siae",
        "Contrats à durée déterminée d'insertion (CDDI) en maraîchage biologique et espaces "
        "verts, avec un accompagnement socio-professionnel.",
        _contact("SIAE90", "03 53 01 01 20", "recrutements sur entretien, toute l'année"),
        "Valdoie",
        6,
        "Bruno Jacquot",
    ),
    DemoStructure(
        "EMP90",
        "Logistique de la Savoureuse (entreprise partenaire)",
        "employer",
        "Plateforme logistique qui recrute des préparateurs de commandes et des caristes ; "
        "accueille des immersions et des contrats en alternance.",
        _contact("EMP90", "03 53 01 01 30", "ressources humaines, du lundi au jeudi"),
        "Offemont",
        4,
        "Sandra Willemin",
    ),
    DemoStructure(
        "MOB90",
        "Mobilité 90 (association)",
        "association",
        "Location solidaire de scooters et de vélos électriques, auto-école sociale et aide au "
        "permis B, apprentissage des transports en commun.",
        _contact("MOB90", "03 53 01 01 40", "du lundi au samedi matin"),
        "Belfort",
        None,
        "Thomas Girardot",
    ),
    DemoStructure(
        "GARDE90",
        "Les Petits Pas (association) – crèche à vocation d'insertion professionnelle",
        "association",
        "Places de crèche réservées aux parents en recherche d'emploi ou en formation, garde en "
        "horaires décalés, lien avec les assistantes maternelles.",
        _contact("GARDE90", "03 53 01 01 50", "du lundi au vendredi, 7 h – 19 h"),
        "Offemont",
        4,
        "Aurélie Mougin",
    ),
    DemoStructure(
        "NUM90",
        "Connect'90 (association) – espace numérique",
        "association",
        "Ateliers d'initiation au numérique, aide aux démarches en ligne, prêt et don "
        "d'ordinateurs reconditionnés.",
        _contact("NUM90", "03 53 01 01 60", "accès libre le mercredi après-midi"),
        "Belfort",
        10,
        "Yacine Ferhat",
    ),
    DemoStructure(
        "SANTE90",
        "Point Santé Quartiers (association)",
        "association",
        "Accès aux soins : bilans de santé, ouverture des droits (complémentaire santé "
        "solidaire), recherche d'un médecin traitant, écoute psychologique.",
        _contact("SANTE90", "03 53 01 01 70", "permanences sans rendez-vous le jeudi"),
        "Belfort",
        None,
        "Docteure Claire Vautrin",
    ),
    DemoStructure(
        "LOGE90",
        "Toit Partagé 90 (association)",
        "association",
        "Hébergement temporaire, logement accompagné pour les jeunes et les familles, aide à "
        "l'accès au logement social.",
        _contact("LOGE90", "03 53 01 01 80", WEEKDAYS),
        "Belfort",
        5,
        "Pascal Bourquin",
    ),
    DemoStructure(
        "LANG90",
        "Parlons Ensemble (association) – ateliers sociolinguistiques",
        "association",
        "Ateliers de français à visée professionnelle, lecture, écriture et calcul, préparation "
        "au DELF.",
        _contact("LANG90", "03 53 01 01 90", "inscriptions le lundi matin"),
        "Valdoie",
        24,
        "Marie-Jo Pheulpin",
    ),
    DemoStructure(
        "ADDI90",
        "Cap Addictions 90 (association) – CSAPA",
        "association",
        "Consultations gratuites et confidentielles (alcool, cannabis, jeux…), consultations "
        "jeunes consommateurs, accompagnement des proches.",
        _contact("ADDI90", "03 53 01 02 00", "sur rendez-vous, du lundi au vendredi"),
        "Belfort",
        None,
        "Rémi Courtot",
    ),
    DemoStructure(
        "DROIT90",
        "Accès Droits 90 (association) – point-justice",
        "association",
        "Permanences juridiques gratuites : titres de séjour, dettes et surendettement, droit "
        "de la famille, droit du travail ; aide à la constitution des dossiers.",
        _contact("DROIT90", "03 53 01 02 10", "permanences le mardi et le jeudi"),
        "Belfort",
        None,
        "Maître Inès Lagrange",
    ),
)

# The article of each name in French sentences ("orientation envoyée à la Mission Locale",
# "aux Petits Pas"): chosen, as an administrator would, where the name alone would mislead.
STRUCTURE_ARTICLES: dict[str, str] = {
    "ML90": "la",
    "FT90": "none",
    "EPIDE90": "l",
    "E2C90": "l",
    "UNIS90": "none",
    "P1618-90": "none",
    "MLDS90": "la",
    "CD90": "le",
    "CCAS-OFF": "le",
    "CAPE90": "none",
    "PLIE90": "le",
    "SIAE90": "les",
    "EMP90": "none",
    "MOB90": "none",
    "GARDE90": "les",
    "NUM90": "none",
    "SANTE90": "le",
    "LOGE90": "none",
    "LANG90": "none",
    "ADDI90": "none",
    "DROIT90": "none",
}

# Which partner acts on each barrier category (the demo's first choice).
ACTING_ON: dict[str, str] = {
    "mobility": "MOB90",
    "childcare": "GARDE90",
    "digital": "NUM90",
    "health": "SANTE90",
    "mental_health": "SANTE90",
    "addiction": "ADDI90",
    "housing": "LOGE90",
    "language": "LANG90",
    "legal_admin": "DROIT90",
    "financial": "CCAS-OFF",
    "motivation": "UNIS90",
}


@dataclass(frozen=True)
class DemoPerson:
    """A fictional person; ``age`` is the age on the day the demo is loaded."""

    first_name: str
    last_name: str
    sex: str | None  # "F", "M" or None (not collected)
    age: int
    birthday: tuple[int, int]  # (month, day)
    cohorts: tuple[str, ...]
    registered_by: str  # structure code
    qpv: str
    education: str  # an EducationLevel value
    consent: str | None  # "oral", "signed" or None (not recorded)
    story: str  # a story of app.demo.stories
    phone: str
    email: str
    address: str


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


_Row = tuple[
    str, str, str | None, int, tuple[int, int], tuple[str, ...], str, str, str, str | None, str
]

DROP, GRAD, PARENT, OTHER = "young_dropout", "young_graduate", "single_parent", "other"

# first name, last name, sex, age, birthday, cohorts, registered by, QPV, education, consent, story
# fmt: off
_ROWS: tuple[_Row, ...] = (
    # Jeunes décrocheurs (16-25 ans)
    ("Yanis", "Belkacem", "M", 19, (3, 14), (DROP,), "ML90", "QN09001X", "none", "oral", "barrier_then_training"),
    ("Inès", "Moreau", "F", 18, (11, 2), (DROP,), "MLDS90", "QN09002X", "none", "signed", "redirect_two"),
    ("Kylian", "Ferreira", "M", 18, (6, 21), (DROP,), "MLDS90", "QN09004X", "none", "oral", "barrier_then_training"),
    ("Aminata", "Diallo", "F", 21, (1, 9), (DROP,), "ML90", "QN09001X", "none", "signed", "training_then_job"),
    ("Enzo", "Lambert", "M", 20, (9, 30), (DROP,), "ML90", "QN09005X", "none", "oral", "declined_then_other"),
    ("Sofiane", "Haddad", "M", 22, (4, 17), (DROP,), "ML90", "QN09003X", "none", "signed", "not_completed"),
    ("Maëlle", "Girard", "F", 18, (8, 5), (DROP,), "MLDS90", "QN09004X", "none", "oral", "redirect_three"),
    ("Mamadou", "Kouyaté", "M", 19, (12, 12), (DROP,), "E2C90", "QN09001X", "none", "signed", "barrier_then_training"),
    ("Lina", "Benali", "F", 20, (2, 26), (DROP,), "ML90", "QN09002X", "none", "oral", "sent_recent"),
    ("Théo", "Marchal", "M", 23, (7, 8), (DROP,), "ML90", "QN09005X", "none", None, "no_consent"),
    ("Ayoub", "Mansouri", "M", 18, (10, 19), (DROP,), "MLDS90", "QN09001X", "none", "signed", "redirect_two"),
    ("Chloé", "Perrin", "F", 24, (5, 3), (DROP,), "E2C90", "QN09003X", "level_3", "oral", "training_then_job"),
    ("Ibrahim", "Camara", "M", 21, (3, 27), (DROP,), "ML90", "QN09001X", "none", "signed", "declined_then_other"),
    ("Jade", "Rousseau", "F", 19, (9, 11), (DROP,), "ML90", "QN09004X", "none", "oral", "accepted_waiting"),
    ("Nolan", "Vasseur", "M", 18, (1, 23), (DROP,), "MLDS90", "QN09002X", "none", None, "no_consent"),
    ("Rayan", "Bouzid", "M", 20, (6, 4), (DROP,), "ML90", "QN09003X", "none", "oral", "not_completed"),
    ("Océane", "Fontaine", "F", 24, (12, 28), (DROP, PARENT), "ML90", "QN09001X", "none", "signed", "barrier_not_addressed"),
    ("Mehdi", "Cherif", "M", 25, (4, 1), (DROP,), "E2C90", "QN09005X", "none", None, "exit_lost"),
    # Jeunes diplômés des QPV (20-29 ans)
    ("Sarah", "Benhamou", "F", 24, (2, 10), (GRAD,), "FT90", "QN09001X", "level_6_plus", "signed", "graduate_barrier_job"),
    ("Kevin", "Nguyen", "M", 23, (10, 7), (GRAD,), "ML90", "QN09002X", "level_5", "oral", "training_then_job"),
    ("Fatoumata", "Sissoko", "F", 26, (5, 22), (GRAD,), "FT90", "QN09003X", "level_6_plus", "signed", "sent_overdue"),
    ("Hugo", "Lefebvre", "M", 25, (8, 16), (GRAD,), "ML90", "QN09005X", "level_5", "oral", "withdrawn_then_job"),
    ("Nour", "Amrani", "F", 27, (11, 25), (GRAD,), "FT90", "QN09001X", "level_6_plus", "signed", "expired_then_resent"),
    ("Samuel", "Oyelaran", "M", 28, (3, 3), (GRAD,), "FT90", "QN09004X", "level_6_plus", "oral", "graduate_barrier_job"),
    ("Yasmine", "Bensaïd", "F", 22, (7, 19), (GRAD,), "ML90", "QN09002X", "level_5", "signed", "training_then_job"),
    ("Alexandre", "Petitjean", "M", 24, (1, 30), (GRAD,), "FT90", "QN09003X", "level_5", "oral", "sent_overdue"),
    ("Aïcha", "Traoré", "F", 29, (9, 6), (GRAD,), "FT90", "QN09001X", "level_6_plus", "signed", "withdrawn_then_job"),
    ("Julien", "Morel", "M", 26, (4, 24), (GRAD,), "FT90", "QN09005X", "level_4", "oral", "declined_then_other"),
    ("Leïla", "Saidi", "F", 23, (6, 13), (GRAD,), "ML90", "QN09004X", "level_5", "signed", "accepted_waiting"),
    ("Tomás", "Oliveira", "M", 27, (12, 1), (GRAD,), "FT90", "QN09002X", "level_6_plus", None, "no_consent"),
    # Familles monoparentales
    ("Nadia", "Brahimi", "F", 34, (2, 18), (PARENT,), "CD90", "QN09001X", "level_3", "signed", "childcare_in_progress"),
    ("Sandrine", "Colin", "F", 41, (10, 27), (PARENT, OTHER), "CD90", "QN09004X", "level_4", "signed", "oriented_further"),
    ("Fatima", "Zerrouki", "F", 29, (5, 9), (PARENT,), "CD90", "QN09003X", "none", "oral", "childcare_in_progress"),
    ("Jessica", "Humbert", "F", 27, (8, 29), (PARENT,), "FT90", "QN09005X", "level_3", "signed", "sent_recent"),
    ("Mariam", "Konaté", "F", 38, (3, 20), (PARENT,), "CD90", "QN09001X", "none", "oral", "redirect_three"),
    ("Céline", "Barbier", "F", 45, (1, 15), (PARENT,), "CD90", "QN09002X", "level_4", "signed", "job_via_partner"),
    ("Karim", "Laouadi", "M", 39, (11, 11), (PARENT,), "FT90", "QN09003X", "level_3", "oral", "expired_then_resent"),
    ("Élodie", "Thiébaut", "F", 31, (6, 25), (PARENT,), "CCAS-OFF", "QN09004X", "level_4", "signed", "childcare_in_progress"),
    ("Hawa", "Cissé", "F", 24, (9, 2), (PARENT, DROP), "CD90", "QN09001X", "none", "oral", "redirect_two"),
    ("Stéphanie", "Guyot", "F", 36, (4, 7), (PARENT,), "FT90", "QN09005X", "level_5", "signed", "not_completed"),
    ("Samira", "Belhadj", "F", 33, (12, 19), (PARENT,), "CD90", "QN09002X", "level_3", None, "no_consent"),
    ("Priscilla", "Mbemba", "F", 30, (7, 31), (PARENT,), "CD90", "QN09003X", "level_4", "oral", "sent_recent"),
    ("Amandine", "Vuillemin", "F", 28, (2, 4), (PARENT,), "FT90", "QN09004X", "level_3", "signed", "exit_moved"),
    ("Khadija", "Ouali", "F", 43, (10, 14), (PARENT,), "CD90", "QN09001X", "none", "oral", "oriented_further"),
    ("David", "Grosjean", "M", 47, (5, 28), (PARENT,), "CD90", "QN09005X", "level_3", "signed", "redirect_two"),
    # Tout public (RSA, demandeurs d'emploi de longue durée...)
    ("Patrick", "Schmitt", "M", 52, (3, 9), (OTHER,), "FT90", "QN09002X", "level_3", "signed", "job_via_partner"),
    ("Nathalie", "Vernier", "F", 49, (8, 3), (OTHER,), "FT90", "QN09001X", "level_4", "oral", "barrier_persisting"),
    ("Ahmed", "Boukhari", "M", 44, (11, 20), (OTHER,), "CD90", "QN09003X", "none", "signed", "language_then_training"),
    ("Tuan", "Pham", "M", 37, (1, 5), (OTHER,), "FT90", "QN09004X", "level_4", "oral", "language_then_training"),
    ("Svetlana", "Morozova", "F", 41, (6, 16), (OTHER,), "FT90", "QN09005X", "level_6_plus", "signed", "sent_overdue"),
    ("Gérard", "Jeandel", "M", 57, (9, 24), (OTHER,), "FT90", "QN09001X", "level_3", "oral", "job_via_partner"),
    ("Mustafa", "Yilmaz", "M", 35, (4, 12), (OTHER,), "FT90", "QN09002X", "none", "signed", "expired_then_resent"),
    ("Bernadette", "Faivre", "F", 55, (12, 8), (OTHER,), "CD90", "QN09003X", "level_3", "oral", "barrier_persisting"),
    ("Olivier", "Demange", "M", 46, (2, 27), (OTHER,), "FT90", "QN09004X", "level_4", "signed", "withdrawn_then_job"),
    ("Rachid", "Meziane", "M", 38, (7, 2), (OTHER,), "CD90", "QN09001X", "level_3", "oral", "exit_moved"),
    ("Christelle", "Huguenin", "F", 42, (10, 30), (OTHER,), "FT90", "QN09005X", "level_4", None, "exit_lost"),
    ("Abdou", "Ndiaye", "M", 31, (5, 5), (OTHER,), "FT90", "QN09002X", "level_4", "signed", "accepted_waiting"),
    ("Valérie", "Cuenot", "F", 50, (8, 22), (OTHER,), "CD90", "QN09003X", "level_3", "oral", "oriented_further"),
    ("Armando", "Rossi", "M", 53, (3, 31), (OTHER,), "FT90", "QN09004X", "level_3", "signed", "sent_recent"),
    ("Zeynep", "Aydin", "F", 34, (11, 6), (OTHER, PARENT), "CCAS-OFF", "QN09004X", "none", None, "no_consent"),
)
# fmt: on


def _person(index: int, row: _Row) -> DemoPerson:
    first, last, sex, age, birthday, cohorts, by, qpv_code, education, consent, story = row
    qpv = next(q for q in QPVS if q.code == qpv_code)
    street = qpv.streets[index % len(qpv.streets)]
    number = 3 + (index * 7) % 61
    # 06 00 0x xx xx: mobile numbers that phonenumbers accepts as French; fictional here.
    serial = 1000 + index * 37
    phone = f"06 00 0{serial // 10000 % 10} {serial // 100 % 100:02d} {serial % 100:02d}"
    return DemoPerson(
        first_name=first,
        last_name=last,
        sex=sex,
        age=age,
        birthday=birthday,
        cohorts=cohorts,
        registered_by=by,
        qpv=qpv_code,
        education=education,
        consent=consent,
        story=story,
        phone=phone,
        email=f"{_ascii(first)}.{_ascii(last)}@exemple.fr",
        address=f"{number} {street}, {qpv.postcode} {qpv.city}",
    )


PEOPLE: tuple[DemoPerson, ...] = tuple(_person(i, row) for i, row in enumerate(_ROWS))
