"""Directory cards and network events of the fictional Belfort-like network.

Everything is invented, like ``app.demo.data.network``: addresses on fictional streets,
phone numbers in the demo's range, ``.demo`` addresses. Commune codes are the real INSEE
codes of Belfort (90010), Offemont (90075) and Valdoie (90099), and ``90`` is the
Territoire de Belfort: they are public geographic codes, not data about anyone.

``app.demo.directory`` turns these constants into cards through the directory
services. Dates are days before the day the demo is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_QPVS = ("QN09001X", "QN09002X", "QN09003X", "QN09004X", "QN09005X")
BELFORT_QPVS = ("QN09001X", "QN09002X", "QN09003X")
WEEKDAYS = "Mo-Fr 09:00-12:00,13:30-17:00"
BELFORT = ("90000", "90010", "Belfort")
OFFEMONT = ("90300", "90075", "Offemont")
VALDOIE = ("90300", "90099", "Valdoie")
DEPARTEMENT = ("departement", "90", "Territoire de Belfort")


@dataclass(frozen=True)
class DemoService:
    name: str
    summary: str
    types: tuple[str, ...]
    fees: tuple[str, ...] = ("gratuit",)
    fees_detail: str = ""


@dataclass(frozen=True)
class DemoCard:
    code: str
    address: str
    place: tuple[str, str, str]  # postcode, INSEE code, commune
    phone: str
    hours: str
    contact: str
    cohorts: tuple[str, ...]
    ages: tuple[int | None, int | None]
    public_notes: str
    barriers: tuple[str, ...]
    stages: tuple[str, ...]
    zone: tuple[str, str, str]  # data·inclusion zone type, code, name
    qpvs: tuple[str, ...]
    conditions: tuple[str, ...]
    documents: tuple[str, ...]
    delay_days: int
    referral: tuple[str, ...]
    services: tuple[DemoService, ...]
    checked_days_ago: int
    capacity_days_ago: int | None = None
    reception: tuple[str, ...] = ("en-presentiel",)
    website: str = ""
    editor: bool = True  # the demo caseworker may edit the card

    @property
    def email(self) -> str:
        return f"accueil@{self.code.lower()}.demo"

    @property
    def all_qpvs(self) -> bool:
        return self.qpvs == ALL_QPVS


CARDS: tuple[DemoCard, ...] = (
    DemoCard(
        "ML90",
        "8 rue de l'Équerre",
        BELFORT,
        "03 53 01 00 10",
        WEEKDAYS,
        "Standard téléphonique, puis rendez-vous avec un conseiller ; orientations par Relais.",
        ("young_dropout", "young_graduate"),
        (16, 25),
        "Jeunes de 16 à 25 ans révolus, sortis du système scolaire, avec ou sans diplôme.",
        ("mobility", "housing", "health", "financial", "motivation", "digital"),
        ("orientation", "barriers", "training", "employment"),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir entre 16 et 25 ans", "Ne plus être scolarisé"),
        ("Pièce d'identité", "Justificatif de domicile (ou attestation d'hébergement)"),
        8,
        ("telephoner", "envoyer-un-mail", "prendre-rdv"),
        (
            DemoService(
                "Contrat d'engagement jeune (CEJ)",
                "Accompagnement intensif de 15 à 20 heures par semaine, avec une allocation, vers l'emploi ou la formation.",
                ("accompagnement",),
            ),
            DemoService(
                "Permanences dans les maisons de quartier",
                "Un conseiller reçoit sans rendez-vous aux Résidences, aux Glacis et à Jean-Jaurès.",
                ("accueil", "information"),
            ),
            DemoService(
                "Aides financières aux jeunes",
                "Fonds d'aide aux jeunes et aides au permis ou au transport, sur dossier.",
                ("aide-financiere",),
                ("gratuit-sous-conditions",),
                "Selon ressources",
            ),
        ),
        12,
        website="https://www.ml90.demo",
    ),
    DemoCard(
        "FT90",
        "2 avenue de la Laïcité",
        BELFORT,
        "03 53 01 00 20",
        "Mo-Fr 08:30-12:30; Mo-Th 13:30-16:30",
        "Ligne partenaires, ou courriel à l'équipe entreprise et partenariats.",
        ("other", "young_graduate", "single_parent"),
        (None, None),
        "Toute personne en recherche d'emploi ; accompagnement renforcé pour les demandeurs d'emploi de longue durée.",
        ("digital", "mobility"),
        ("orientation", "training", "employment"),
        DEPARTEMENT,
        ALL_QPVS,
        ("Être inscrit ou s'inscrire comme demandeur d'emploi",),
        ("Pièce d'identité", "Carte Vitale", "RIB"),
        10,
        ("envoyer-un-mail-avec-une-fiche-de-prescription", "telephoner"),
        (
            DemoService(
                "Accompagnement vers l'emploi",
                "Un conseiller référent, un diagnostic et un plan d'action personnalisé.",
                ("accompagnement",),
            ),
            DemoService(
                "Financement de formations",
                "Aide individuelle à la formation et préparation opérationnelle à l'emploi (POEI).",
                ("financement", "formation"),
            ),
        ),
        35,
        reception=("en-presentiel", "a-distance"),
        website="https://www.ft90.demo",
    ),
    DemoCard(
        "EPIDE90",
        "Quartier Maréchal Lefebvre, 1 allée des Casernes",
        BELFORT,
        "03 53 01 00 30",
        WEEKDAYS,
        "Entretien d'information au centre chaque mercredi ; dossier envoyé par le référent.",
        ("young_dropout",),
        (17, 25),
        "Jeunes de 17 à 25 ans sans diplôme ou sans emploi, volontaires pour un internat en semaine.",
        ("motivation", "housing"),
        ("training",),
        ("region", "27", "Bourgogne-Franche-Comté"),
        ALL_QPVS,
        ("Avoir entre 17 et 25 ans", "Être volontaire pour l'internat", "Être apte médicalement"),
        ("Pièce d'identité", "Certificat médical d'aptitude", "Attestation de recensement (JDC)"),
        21,
        ("envoyer-un-mail-avec-une-fiche-de-prescription", "prendre-rdv"),
        (
            DemoService(
                "Parcours en internat de huit mois",
                "Remobilisation, savoir-être, remise à niveau et projet professionnel, avec hébergement et allocation.",
                ("accompagnement", "formation"),
            ),
        ),
        20,
        20,
    ),
    DemoCard(
        "E2C90",
        "14 rue des Tanneurs",
        BELFORT,
        "03 53 01 00 40",
        "Mo-Fr 08:30-12:00,13:30-17:00",
        "Information collective le mardi à 14 h ; le référent peut réserver une place par téléphone.",
        ("young_dropout",),
        (16, 25),
        "Jeunes de 16 à 25 ans sortis sans qualification du système scolaire.",
        ("motivation", "language"),
        ("training",),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir entre 16 et 25 ans", "Être sorti du système scolaire depuis au moins six mois"),
        ("Pièce d'identité", "Dernier bulletin scolaire si disponible"),
        14,
        ("telephoner", "prendre-rdv"),
        (
            DemoService(
                "Parcours individualisé en alternance",
                "Six à neuf mois de remise à niveau et de stages en entreprise, avec une attestation de compétences.",
                ("formation", "accompagnement"),
            ),
        ),
        9,
        9,
    ),
    DemoCard(
        "UNIS90",
        "5 place de la Grande-Fontaine",
        BELFORT,
        "03 53 01 00 50",
        "Mo-Fr 09:30-17:30",
        "Réunion d'information tous les quinze jours ; inscription en ligne ou par le référent.",
        ("young_dropout", "young_graduate"),
        (16, 25),
        "Jeunes de 16 à 25 ans (30 ans en situation de handicap), avec ou sans diplôme.",
        ("motivation",),
        ("training",),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir entre 16 et 25 ans",),
        ("Pièce d'identité",),
        30,
        ("envoyer-un-mail", "completer-le-formulaire-dadhesion"),
        (
            DemoService(
                "Service civique en équipe",
                "Six à neuf mois de missions de solidarité en équipe, 24 heures par semaine, avec une indemnité.",
                ("accompagnement",),
            ),
        ),
        60,
        60,
        website="https://www.unis90.demo",
    ),
    DemoCard(
        "P1618-90",
        "Centre AFPA, 22 rue de la Forge",
        BELFORT,
        "03 53 01 00 60",
        WEEKDAYS,
        "Entrées toutes les six semaines : envoyer la fiche de liaison par courriel.",
        ("young_dropout",),
        (16, 18),
        "Mineurs de 16 à 18 ans sans solution de formation ou d'emploi (obligation de formation).",
        ("motivation",),
        ("training",),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir 16 ou 17 ans", "N'être ni en formation ni en emploi"),
        ("Pièce d'identité", "Autorisation parentale"),
        15,
        ("envoyer-un-mail-avec-une-fiche-de-prescription",),
        (
            DemoService(
                "Promo 16-18",
                "Quatre mois de remobilisation, de découverte des métiers et d'immersions en entreprise.",
                ("formation", "atelier"),
            ),
        ),
        45,
        45,
    ),
    DemoCard(
        "MLDS90",
        "CIO de Belfort, 3 rue du Lycée",
        BELFORT,
        "03 53 01 00 70",
        "Mo-Fr 09:00-12:00,13:30-17:00; We 09:00-12:00",
        "Entretien de situation au CIO, sur rendez-vous, y compris pendant les vacances.",
        ("young_dropout",),
        (16, 21),
        "Élèves et jeunes de 16 ans et plus sortis sans diplôme depuis moins d'un an.",
        ("motivation",),
        ("orientation", "training"),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir quitté le lycée ou le collège sans diplôme",),
        ("Dernier bulletin scolaire",),
        7,
        ("prendre-rdv", "telephoner"),
        (
            DemoService(
                "Retour en formation initiale",
                "Entretien de situation, puis retour au lycée ou en apprentissage avec un suivi.",
                ("accompagnement", "information"),
            ),
        ),
        90,
    ),
    DemoCard(
        "CD90",
        "Maison de l'action sociale, 6 rue des Résidences",
        BELFORT,
        "03 53 01 00 80",
        WEEKDAYS,
        "Accueil de la maison de l'action sociale ; le référent RSA est désigné après l'orientation.",
        ("other", "single_parent"),
        (None, None),
        "Allocataires du RSA, familles, jeunes en difficulté (fonds d'aide aux jeunes).",
        ("financial", "childcare", "housing", "legal_admin"),
        ("orientation", "barriers"),
        DEPARTEMENT,
        ALL_QPVS,
        ("Être allocataire du RSA ou résider dans le département",),
        ("Notification CAF", "Pièce d'identité"),
        15,
        ("telephoner", "envoyer-un-mail"),
        (
            DemoService(
                "Accompagnement socio-professionnel des allocataires du RSA",
                "Un référent de parcours aide à lever les freins et à construire le projet professionnel.",
                ("accompagnement",),
            ),
            DemoService(
                "Soutien aux familles",
                "Aide éducative, aide à la recherche d'un mode de garde et aides financières ponctuelles.",
                ("accompagnement", "aide-financiere"),
            ),
        ),
        25,
    ),
    DemoCard(
        "CCAS-OFF",
        "Mairie d'Offemont, 1 place de la Mairie",
        OFFEMONT,
        "03 53 01 00 90",
        "Mo,We,Fr 08:30-12:00",
        "Accueil sans rendez-vous les lundis, mercredis et vendredis matin.",
        ("other", "single_parent"),
        (18, None),
        "Habitants d'Offemont, en priorité les personnes isolées et les familles en difficulté.",
        ("financial", "legal_admin", "mobility"),
        ("barriers",),
        ("commune", "90075", "Offemont"),
        ("QN09004X",),
        ("Habiter Offemont",),
        ("Justificatif de domicile", "Justificatifs de ressources des trois derniers mois"),
        5,
        ("telephoner",),
        (
            DemoService(
                "Aides facultatives",
                "Secours d'urgence, aide aux transports et aide alimentaire, après un entretien.",
                ("aide-financiere", "aide-materielle"),
                ("gratuit-sous-conditions",),
                "Selon ressources",
            ),
            DemoService(
                "Domiciliation administrative",
                "Une adresse pour recevoir son courrier et faire valoir ses droits.",
                ("accompagnement",),
            ),
        ),
        50,
    ),
    DemoCard(
        "CAPE90",
        "11 rue du Général-Roussel",
        BELFORT,
        "03 53 01 01 00",
        WEEKDAYS,
        "Fiche de prescription par courriel ; réponse sous dix jours.",
        ("other",),
        (18, None),
        "Personnes bénéficiaires de l'obligation d'emploi (RQTH, pension d'invalidité...).",
        ("health",),
        ("employment",),
        DEPARTEMENT,
        ALL_QPVS,
        ("Reconnaissance de la qualité de travailleur handicapé (RQTH) ou démarche en cours",),
        ("Notification MDPH", "CV"),
        10,
        ("envoyer-un-mail-avec-une-fiche-de-prescription",),
        (
            DemoService(
                "Accompagnement vers l'emploi des personnes en situation de handicap",
                "Projet professionnel compatible avec la santé, recherche d'emploi, lien avec les employeurs.",
                ("accompagnement",),
            ),
        ),
        250,
        editor=False,
    ),
    DemoCard(
        "PLIE90",
        "Maison de l'emploi, 4 rue de Madrid",
        BELFORT,
        "03 53 01 01 10",
        WEEKDAYS,
        "Commission d'entrée mensuelle ; fiche de liaison à envoyer avant le 20 du mois.",
        ("other", "single_parent"),
        (26, None),
        "Demandeurs d'emploi de longue durée, allocataires du RSA, habitants des QPV de plus de 26 ans.",
        ("mobility", "motivation"),
        ("training", "employment"),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        ("Avoir plus de 26 ans", "Être éloigné de l'emploi depuis plus d'un an"),
        ("Pièce d'identité", "Attestation France Travail ou notification RSA"),
        20,
        ("envoyer-un-mail-avec-une-fiche-de-prescription",),
        (
            DemoService(
                "Accompagnement renforcé vers l'emploi durable",
                "Un référent unique jusqu'à six mois après la reprise d'emploi ; clauses sociales des marchés publics.",
                ("accompagnement",),
            ),
        ),
        40,
        40,
    ),
    DemoCard(
        "SIAE90",
        "Chemin des Jardins, lieu-dit Le Lion",
        VALDOIE,
        "03 53 01 01 20",
        "Mo-Fr 08:00-16:00",
        "Entretien de recrutement toute l'année ; venir avec le référent si possible.",
        ("other", "single_parent"),
        (18, None),
        "Personnes éloignées de l'emploi, éligibles à l'insertion par l'activité économique.",
        ("motivation", "mobility"),
        ("employment",),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        ("Être éligible à l'IAE (diagnostic du prescripteur)",),
        ("Pièce d'identité", "Carte Vitale", "Diagnostic socio-professionnel"),
        10,
        ("telephoner", "envoyer-un-mail"),
        (
            DemoService(
                "Contrat à durée déterminée d'insertion (CDDI)",
                "Maraîchage biologique et espaces verts, 26 heures par semaine, avec un accompagnement socio-professionnel.",
                ("accompagnement", "formation"),
            ),
        ),
        30,
        30,
    ),
    DemoCard(
        "EMP90",
        "Zone d'activité des Prés, 3 rue de la Logistique",
        OFFEMONT,
        "03 53 01 01 30",
        "Mo-Th 08:00-17:00",
        "Ressources humaines : CV par courriel, en précisant le poste et la structure qui oriente.",
        ("young_graduate", "other"),
        (18, None),
        "Demandeurs d'emploi motivés par la logistique ; permis B apprécié, CACES possible en interne.",
        (),
        ("employment",),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        ("Être disponible en horaires d'équipe (5 h – 13 h ou 13 h – 21 h)",),
        ("CV",),
        7,
        ("envoyer-un-mail",),
        (
            DemoService(
                "Recrutement de préparateurs de commandes et de caristes",
                "Contrats en intérim puis CDI, alternance et immersions professionnelles.",
                ("accompagnement",),
            ),
        ),
        270,
        270,
        editor=False,
    ),
    DemoCard(
        "MOB90",
        "17 faubourg de Montbéliard",
        BELFORT,
        "03 53 01 01 40",
        "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00",
        "Prescription par le référent (fiche mobilité), puis diagnostic avec un conseiller mobilité.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (16, None),
        "Personnes en parcours d'insertion, orientées par un référent, sans solution de transport.",
        ("mobility",),
        ("barriers",),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        ("Être orienté par un référent emploi ou social",),
        ("Pièce d'identité", "Justificatif de l'employeur ou de la formation"),
        7,
        ("envoyer-un-mail-avec-une-fiche-de-prescription", "telephoner"),
        (
            DemoService(
                "Location solidaire de scooters et de vélos électriques",
                "Location à petit prix pour se rendre au travail ou en formation, jusqu'à six mois.",
                ("aide-materielle",),
                ("payant",),
                "1 € par jour",
            ),
            DemoService(
                "Auto-école sociale",
                "Préparation au code et à la conduite, à un rythme adapté, avec une aide au financement.",
                ("formation",),
                ("gratuit-sous-conditions",),
                "Reste à charge selon ressources",
            ),
            DemoService(
                "Apprendre les transports en commun",
                "Accompagnement sur les trajets en bus et en train, lecture des horaires.",
                ("atelier",),
            ),
        ),
        16,
        16,
    ),
    DemoCard(
        "GARDE90",
        "9 allée des Lilas",
        OFFEMONT,
        "03 53 01 01 50",
        "Mo-Fr 07:00-19:00",
        "Téléphoner à la directrice : une place peut être réservée sous huit jours.",
        ("single_parent", "other"),
        (None, None),
        "Parents d'enfants de 10 semaines à 3 ans, en recherche d'emploi, en formation ou en reprise d'emploi.",
        ("childcare",),
        ("barriers",),
        ("epci", "200069052", "Grand Belfort"),
        ("QN09001X", "QN09003X", "QN09004X", "QN09005X"),
        ("Être en recherche d'emploi, en formation ou reprendre un emploi",),
        ("Carnet de santé de l'enfant", "Numéro d'allocataire CAF"),
        8,
        ("telephoner",),
        (
            DemoService(
                "Places de crèche à vocation d'insertion professionnelle",
                "Accueil de l'enfant pendant la recherche d'emploi ou la formation, puis six mois après la reprise.",
                ("accompagnement",),
                ("payant",),
                "Tarif CAF selon les ressources",
            ),
            DemoService(
                "Garde en horaires décalés",
                "Accueil de 7 h à 19 h et mise en relation avec des assistantes maternelles.",
                ("accompagnement",),
                ("payant",),
                "Tarif CAF selon les ressources",
            ),
        ),
        6,
        6,
    ),
    DemoCard(
        "NUM90",
        "Médiathèque des Glacis, 2 rue du Bastion",
        BELFORT,
        "03 53 01 01 60",
        "Tu-Fr 14:00-18:00; We 09:00-12:00",
        "Accès libre le mercredi après-midi ; ateliers sur inscription par téléphone.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (None, None),
        "Tout public, débutants ou non ; ateliers en petits groupes.",
        ("digital",),
        ("barriers",),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        (),
        (),
        3,
        ("telephoner", "envoyer-un-mail"),
        (
            DemoService(
                "Ateliers d'initiation au numérique",
                "Prendre en main un ordinateur ou un smartphone, créer une adresse électronique.",
                ("atelier",),
            ),
            DemoService(
                "Aide aux démarches en ligne",
                "France Travail, CAF, impôts, santé : un médiateur aide à faire les démarches.",
                ("accompagnement",),
            ),
            DemoService(
                "Ordinateurs reconditionnés",
                "Prêt ou don d'un ordinateur aux personnes en parcours d'insertion.",
                ("aide-materielle",),
                ("gratuit-sous-conditions",),
                "Sur orientation d'un référent",
            ),
        ),
        70,
        70,
        reception=("en-presentiel", "a-distance"),
    ),
    DemoCard(
        "SANTE90",
        "Centre de santé des Résidences, 4 rue de Londres",
        BELFORT,
        "03 53 01 01 70",
        "Mo-Fr 09:00-12:00; Th 13:30-18:00",
        "Permanences sans rendez-vous le jeudi après-midi ; sinon par téléphone.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (None, None),
        "Tout public, en priorité les habitants des quartiers prioritaires sans médecin traitant.",
        ("health", "mental_health"),
        ("barriers",),
        ("epci", "200069052", "Grand Belfort"),
        BELFORT_QPVS,
        (),
        ("Carte Vitale ou attestation de droits si disponible",),
        5,
        ("telephoner", "prendre-rdv"),
        (
            DemoService(
                "Bilan de santé et ouverture des droits",
                "Bilan de santé gratuit, complémentaire santé solidaire, recherche d'un médecin traitant.",
                ("accompagnement",),
            ),
            DemoService(
                "Écoute psychologique",
                "Entretiens avec une psychologue, sans avance de frais.",
                ("accompagnement",),
            ),
        ),
        100,
    ),
    DemoCard(
        "LOGE90",
        "12 rue de la Savoureuse",
        BELFORT,
        "03 53 01 01 80",
        WEEKDAYS,
        "Demande par le SIAO pour l'hébergement ; par courriel pour le logement accompagné.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (18, None),
        "Jeunes et familles sans logement stable ou hébergés chez des proches.",
        ("housing",),
        ("barriers",),
        DEPARTEMENT,
        ALL_QPVS,
        ("Avoir fait une demande au SIAO pour un hébergement",),
        (
            "Pièce d'identité",
            "Justificatifs de ressources",
            "Numéro unique de demande de logement social",
        ),
        15,
        ("envoyer-un-mail", "telephoner"),
        (
            DemoService(
                "Hébergement temporaire",
                "Logements meublés pour quelques mois, avec un accompagnement social.",
                ("aide-materielle", "accompagnement"),
                ("payant",),
                "Participation selon ressources",
            ),
            DemoService(
                "Accès au logement social",
                "Aide à la demande, préparation des commissions, installation dans le logement.",
                ("accompagnement",),
            ),
        ),
        80,
        10,
    ),
    DemoCard(
        "LANG90",
        "Maison de quartier du Ballon, 2 rue de la Forge",
        VALDOIE,
        "03 53 01 01 90",
        "Mo 09:00-12:00; Tu,Th 14:00-17:00",
        "Inscriptions le lundi matin avec un test de positionnement.",
        ("other", "single_parent"),
        (18, None),
        "Adultes ayant besoin d'améliorer leur français pour travailler, de débutant à intermédiaire.",
        ("language",),
        ("barriers", "training"),
        ("epci", "200069052", "Grand Belfort"),
        ALL_QPVS,
        ("Avoir au moins 18 ans",),
        ("Pièce d'identité ou titre de séjour",),
        10,
        ("telephoner", "envoyer-un-mail"),
        (
            DemoService(
                "Ateliers sociolinguistiques à visée professionnelle",
                "Français oral et écrit pour l'emploi, six heures par semaine.",
                ("atelier", "formation"),
            ),
            DemoService(
                "Préparation au DELF",
                "Préparation à l'examen du diplôme d'études en langue française.",
                ("formation",),
                ("adhesion",),
                "Adhésion annuelle de 10 €",
            ),
        ),
        28,
        28,
    ),
    DemoCard(
        "ADDI90",
        "CSAPA, 7 rue de Mulhouse",
        BELFORT,
        "03 53 01 02 00",
        "Mo-Fr 09:00-12:30,13:30-18:00",
        "La personne appelle elle-même ou vient avec son référent ; l'anonymat est possible.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (None, None),
        "Toute personne concernée par une consommation (alcool, cannabis, jeux...) et ses proches.",
        ("addiction", "mental_health"),
        ("barriers",),
        DEPARTEMENT,
        ALL_QPVS,
        (),
        (),
        10,
        ("telephoner", "prendre-rdv"),
        (
            DemoService(
                "Consultations gratuites et confidentielles",
                "Médecin, psychologue et éducateur spécialisé ; consultations jeunes consommateurs.",
                ("accompagnement",),
            ),
        ),
        215,
        editor=False,
    ),
    DemoCard(
        "DROIT90",
        "Point-justice, 1 rue de l'Ancien-Théâtre",
        BELFORT,
        "03 53 01 02 10",
        "Tu,Th 09:00-12:00,14:00-17:00",
        "Permanences le mardi et le jeudi ; prendre rendez-vous par téléphone.",
        ("young_dropout", "young_graduate", "single_parent", "other"),
        (None, None),
        "Tout public ; permanences spécialisées pour les jeunes et pour les femmes.",
        ("legal_admin", "financial"),
        ("barriers",),
        DEPARTEMENT,
        ALL_QPVS,
        (),
        ("Documents liés à la question posée (courriers, jugements, titres de séjour)",),
        12,
        ("telephoner", "prendre-rdv"),
        (
            DemoService(
                "Permanences juridiques gratuites",
                "Titres de séjour, dettes et surendettement, droit de la famille, droit du travail.",
                ("information", "accompagnement"),
            ),
        ),
        55,
    ),
)


@dataclass(frozen=True)
class DemoEvent:
    theme: str
    days_ago: int
    participants: int
    structures: tuple[str, ...]
    follow_ups: str


EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent(
        "Temps d'interconnaissance jeunes : se connaître pour mieux orienter",
        480,
        80,
        ("ML90", "EPIDE90", "MLDS90", "E2C90", "P1618-90", "UNIS90", "FT90", "CD90"),
        "Groupe de travail jeunes une fois par mois.\nFiche contact commune des six dispositifs jeunes.\n"
        "Permanences croisées de la Mission Locale à l'E2C.",
    ),
    DemoEvent(
        "Levée des freins : mobilité, garde d'enfants, numérique, santé, hébergement, langue",
        390,
        65,
        (
            "ML90",
            "FT90",
            "CD90",
            "PLIE90",
            "CCAS-OFF",
            "MOB90",
            "GARDE90",
            "NUM90",
            "SANTE90",
            "LOGE90",
            "LANG90",
        ),
        "Chaque association désigne un contact pour les conseillers emploi.\n"
        "Les places de crèche d'insertion sont signalées dans l'annuaire Relais.",
    ),
    DemoEvent(
        "Les addictions : repérer, en parler, orienter",
        300,
        40,
        ("ADDI90", "ML90", "EPIDE90", "E2C90", "SANTE90", "CD90", "LOGE90"),
        "Formation courte des conseillers au repérage précoce.\nConsultation avancée du CSAPA à la Mission Locale.",
    ),
    DemoEvent(
        "L'accès aux droits juridiques",
        210,
        35,
        ("DROIT90", "CCAS-OFF", "CD90", "FT90", "ML90", "LOGE90"),
        "Une permanence juridique par mois à la maison de quartier des Vergers.",
    ),
    DemoEvent(
        "Les mécanismes de la motivation",
        120,
        50,
        ("UNIS90", "E2C90", "EPIDE90", "ML90", "FT90", "PLIE90", "SIAE90", "CAPE90"),
        "Atelier commun de remobilisation avant les entrées en formation.",
    ),
    DemoEvent(
        "Des parcours de bénéficiaires à la rencontre des entreprises",
        45,
        90,
        ("E2C90", "EPIDE90", "ML90", "UNIS90", "FT90", "CD90", "EMP90", "SIAE90"),
        "Job dating trimestriel avec les entreprises partenaires.\n"
        "Immersions proposées par la plateforme logistique aux jeunes de l'E2C et de l'EPIDE.",
    ),
)
