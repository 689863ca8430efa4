"""The words the demo caseworkers write: step actions, hand-off notes, answers' messages.

In French, as the partners of the network would write them; the demo stories and the
synthetic caseloads draw from the same lists.
"""

from __future__ import annotations

# -- pathway steps --

ORIENTATION_ACTION = {
    "ML90": "Premier accueil, diagnostic et entrée en Contrat d'engagement jeune (CEJ)",
    "FT90": "Inscription et diagnostic approfondi avec le conseiller",
    "CD90": "Orientation RSA : accompagnement socio-professionnel",
    "MLDS90": "Entretien de situation après un décrochage scolaire",
    "E2C90": "Information collective et entretien d'admission",
    "CCAS-OFF": "Accueil social et ouverture des droits",
}
BARRIERS_ACTION = (
    "Diagnostic des freins : plan d'action partagé avec la personne",
    "Point sur les freins à lever avant une entrée en formation",
    "Bilan de situation : freins repérés et partenaires à solliciter",
)
TRAINING_ACTION = (
    "Formation qualifiante – préparation opérationnelle à l'emploi (POEI)",
    "Remise à niveau en français et mathématiques, 3 mois",
    "Titre professionnel agent de propreté et d'hygiène",
)
EMPLOYMENT_ACTION = (
    "CDD de 6 mois – agent de production",
    "Contrat d'apprentissage – CAP cuisine",
    "CDI à temps partiel – aide à domicile",
    "Contrat de professionnalisation – préparateur de commandes",
    "Mission d'intérim longue – cariste",
)

# -- hand-off notes --

BARRIER_NOTE = {
    "mobility": "Pas de permis ni de véhicule ; les horaires de bus ne permettent pas de "
    "rejoindre la zone d'activité.",
    "childcare": "Enfants en bas âge, pas de solution de garde le matin.",
    "digital": "Pas d'ordinateur ; besoin d'aide pour l'espace personnel en ligne.",
    "health": "Problèmes de santé non suivis depuis longtemps, pas de médecin traitant.",
    "mental_health": "Anxiété importante exprimée lors des derniers entretiens.",
    "addiction": "Consommations évoquées par la personne, qui souhaite en parler.",
    "housing": "Hébergement chez des proches, solution précaire.",
    "language": "Comprend le français oral, grandes difficultés à l'écrit.",
    "legal_admin": "Titre de séjour ou dossier administratif à régulariser.",
    "financial": "Dettes de loyer, budget très serré.",
    "motivation": "Découragement après plusieurs refus : besoin de reprendre confiance.",
}
STAGE_NOTE = {
    "training": (
        "Souhaite entrer en formation rapidement ; disponible à temps plein.",
        "Projet encore flou : une remobilisation est à envisager.",
        "Intéressée par les métiers du soin et du service à la personne.",
    ),
    "employment": (
        "Prête à travailler : recherche un poste en logistique ou en espaces verts.",
        "Fin de parcours réussie ; souhaite un contrat d'au moins six mois.",
        "Expérience en restauration ; disponible en horaires décalés.",
    ),
}

# -- answers and endings --

DECLINE_MESSAGE = {
    "unreachable": "Trois appels et un SMS sans réponse.",
    "did_not_come": "Ne s'est pas présentée au rendez-vous d'information collective.",
    "not_eligible": "Ne remplit pas les conditions d'âge ou de statut du dispositif.",
    "no_capacity": "Session complète ; prochaine entrée dans trois mois.",
    "not_interested": "La personne ne souhaite pas donner suite pour le moment.",
    "followed_elsewhere": "Déjà accompagnée par un autre partenaire pour ce besoin.",
    "barrier_prevents": "Le frein de mobilité empêche l'entrée (centre éloigné).",
    "duplicate": "Orientation déjà reçue la semaine dernière.",
    "no_such_service": "Nous ne proposons pas ce type d'accompagnement (ni d'antenne proche).",
    "other": "Le dispositif ne correspond pas au besoin exprimé.",
}
WITHDRAW_MESSAGE = (
    "La personne a signé un CDD entre-temps : orientation annulée.",
    "Orientation envoyée par erreur à la mauvaise structure.",
    "La personne préfère attendre la rentrée : nous reviendrons vers vous.",
)
EXIT_ACTION = {
    "moved": "Déménagement hors du département",
    "lost_contact": "Perdue de vue après trois relances (courrier, téléphone, SMS)",
    "person_stopped": "La personne a souhaité arrêter l'accompagnement",
    "other": "Sortie du dispositif : situation personnelle",
}
STOP_MESSAGE = "La personne a mis fin à l'accompagnement après deux rendez-vous."
NEVER_CAME_MESSAGE = "Ne s'est jamais présentée aux rendez-vous d'entrée malgré deux relances."
RESEND_NOTE = "Relance : la première orientation est restée sans réponse."
LEFT_MESSAGE = "La personne a quitté le dispositif : orientation annulée."


def redirect_message(partner: str) -> str:
    """What a receiver writes when it redirects the person to ``partner`` (its name)."""
    return f"Demande plus adaptée à : {partner}. Nous transmettons, avec l'accord de la personne."
