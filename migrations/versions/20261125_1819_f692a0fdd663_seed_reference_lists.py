"""seed reference lists

Revision ID: f692a0fdd663
Revises: 5993e8cf34e2
Create Date: 2026-11-25 18:19:55.803529+00:00

The reference lists every territory starts with. The data is frozen here: a later change of
a label is a new revision, and this one never imports the models. Codes are stable
identifiers (used by the rules and for data exchange); positions leave room for items an
administrator adds between them. QPVs are territory data, added by an administrator or the
demo, not here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f692a0fdd663"
down_revision: str | None = "5993e8cf34e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# kind -> (code, French label, English label), in display order.
LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "structure_type": (
        ("mission_locale", "Mission Locale", "Mission Locale (youth employment service)"),
        ("france_travail", "France Travail", "France Travail (public employment service)"),
        (
            "epide",
            "EPIDE – Établissement pour l'insertion dans l'emploi",
            "EPIDE (residential integration-into-work centre)",
        ),
        ("e2c", "École de la deuxième chance (E2C)", "Second chance school (E2C)"),
        ("uniscite", "Unis-Cité (service civique)", "Unis-Cité (civic service)"),
        ("promo_16_18", "Promo 16-18 (AFPA)", "Promo 16-18 (AFPA)"),
        (
            "mlds",
            "Éducation nationale – MLDS / CIO",
            "National education – dropout prevention (MLDS / CIO)",
        ),
        ("departement", "Conseil départemental", "Departmental council"),
        ("ccas", "CCAS / CIAS", "Social action centre (CCAS / CIAS)"),
        ("cap_emploi", "Cap emploi", "Cap emploi (employment service for disabled people)"),
        (
            "plie",
            "PLIE – Plan local pour l'insertion et l'emploi",
            "PLIE (local plan for integration and employment)",
        ),
        (
            "siae",
            "SIAE – Structure d'insertion par l'activité économique",
            "Work integration social enterprise (SIAE)",
        ),
        ("association", "Association", "Non-profit association"),
        ("ville", "Ville ou intercommunalité", "Town or inter-municipal authority"),
        ("employer", "Employeur", "Employer"),
        ("prefecture", "Préfecture – services de l'État", "Prefecture – State services"),
        ("other", "Autre", "Other"),
    ),
    "cohort": (
        ("young_dropout", "Jeunes décrocheurs", "Young school dropouts"),
        (
            "young_graduate",
            "Jeunes diplômés des QPV",
            "Young graduates from priority neighbourhoods (QPV)",
        ),
        ("single_parent", "Familles monoparentales", "Single-parent families"),
        ("other", "Tout public", "General public"),
    ),
    "barrier_category": (
        ("mobility", "Mobilité", "Mobility"),
        ("childcare", "Garde d'enfants", "Childcare"),
        ("digital", "Numérique", "Digital access and skills"),
        ("health", "Santé – accès aux soins", "Health – access to care"),
        ("mental_health", "Santé mentale", "Mental health"),
        ("addiction", "Addictions", "Addiction"),
        ("housing", "Logement – hébergement", "Housing – accommodation"),
        ("language", "Maîtrise du français", "French language skills"),
        ("legal_admin", "Accès aux droits", "Access to rights (legal and administrative)"),
        ("financial", "Difficultés financières", "Financial difficulties"),
        ("motivation", "Motivation – confiance en soi", "Motivation – self-confidence"),
    ),
    "stage": (
        ("orientation", "Accueil, diagnostic, orientation", "Intake, assessment, guidance"),
        ("barriers", "Levée des freins", "Removing barriers"),
        ("training", "Formation, remobilisation", "Training, re-engagement"),
        (
            "employment",
            "Emploi, alternance, création d'activité",
            "Employment, work-study, business creation",
        ),
        ("exit_other", "Sortie – autre motif", "Exit – other reason"),
    ),
    "decline_reason": (
        ("unreachable", "Personne injoignable", "Person could not be reached"),
        ("did_not_come", "Personne non venue au rendez-vous", "Person did not attend"),
        ("not_eligible", "Personne non éligible", "Person not eligible"),
        ("no_capacity", "Pas de place disponible", "No place available"),
        ("not_interested", "Personne non intéressée", "Person not interested"),
        ("followed_elsewhere", "Déjà accompagnée par ailleurs", "Already supported elsewhere"),
        ("barrier_prevents", "Un frein empêche l'entrée", "A barrier prevents entry"),
        ("duplicate", "Orientation en double", "Duplicate referral"),
        ("other", "Autre motif", "Other reason"),
    ),
    "outcome": (
        ("barrier_lifted", "Frein levé", "Barrier lifted"),
        ("training_entered", "Entrée en formation", "Started training"),
        ("job_signed", "Contrat de travail signé", "Employment contract signed"),
        ("oriented_further", "Orientée vers une autre structure", "Referred on elsewhere"),
        ("person_stopped", "Arrêt à l'initiative de la personne", "Person chose to stop"),
        ("other", "Autre", "Other"),
    ),
    "end_reason": (
        ("goal_reached", "Objectif atteint", "Goal reached"),
        ("moved", "Déménagement", "Moved away"),
        ("lost_contact", "Perdu de vue", "Lost contact"),
        ("handed_off", "Relais pris par une autre structure", "Handed off to another structure"),
        ("person_stopped", "Arrêt à l'initiative de la personne", "Person chose to stop"),
        ("other", "Autre motif", "Other reason"),
    ),
}

reference_items = sa.table(
    "reference_items",
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("label_fr", sa.String),
    sa.column("label_en", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(
        reference_items,
        [
            {
                "kind": kind,
                "code": code,
                "label_fr": label_fr,
                "label_en": label_en,
                "position": 10 * rank,
                "active": True,
            }
            for kind, items in LISTS.items()
            for rank, (code, label_fr, label_en) in enumerate(items, start=1)
        ],
    )


def downgrade() -> None:
    # Only the seeded items: entries an administrator added stay.
    for kind, items in LISTS.items():
        op.execute(
            reference_items.delete().where(
                reference_items.c.kind == kind,
                reference_items.c.code.in_([code for code, _fr, _en in items]),
            )
        )
