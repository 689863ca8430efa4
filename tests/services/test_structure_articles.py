"""Structure names with their article (issue 11, point 11): stored or derived once, used in
French sentences and mails, the English untouched; lists sorted by name, accents folded."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.french import Article
from app.models import AuditEvent, MailKind
from app.services.directory.suggestions import suggest_partners
from app.services.errors import InvalidInput
from app.services.mail.composing import MailFacts, render
from app.services.security.vault import Vault
from app.services.structures import (
    create_structure,
    list_structures,
    set_structure_article,
    structure_article,
    structure_phrases,
)
from tests import factories


def _create(session: Session, code: str, name: str, article: str | None = None):  # type: ignore[no-untyped-def]
    return create_structure(
        session, None, code=code, name=name, type_code="association", article=article
    )


def test_the_article_is_chosen_or_derived_from_the_name(db_session: Session) -> None:
    chosen = _create(db_session, "PP90", "Les Petits Pas (association)", "les")
    derived = _create(db_session, "CCAS90", "CCAS de Belfort")
    brand = _create(db_session, "ACC90", "Accès Droits 90", "none")
    assert structure_article(chosen) is Article.LES
    assert structure_article(derived) is Article.LE  # nothing stored: the name says
    assert derived.article is None
    assert structure_phrases(chosen, "fr").to == "aux Petits Pas (association)"
    assert structure_phrases(derived, "fr").of == "du CCAS de Belfort"
    assert structure_phrases(brand, "fr").to == "à Accès Droits 90"
    assert structure_phrases(chosen, "en").to == "Les Petits Pas (association)"


def test_an_administrator_changes_the_article_audited(db_session: Session) -> None:
    structure = _create(db_session, "EP90", "EPIDE – centre de Belfort")
    set_structure_article(db_session, None, structure, "l'")
    assert structure.article == "l"
    set_structure_article(db_session, None, structure, "")
    assert structure.article is None
    actions = db_session.scalars(
        select(AuditEvent.data).where(AuditEvent.action == AuditAction.STRUCTURE_ARTICLE.value)
    ).all()
    assert len(actions) == 2
    with pytest.raises(InvalidInput):
        set_structure_article(db_session, None, structure, "der")


def test_structures_are_listed_by_name_with_accents_folded(db_session: Session) -> None:
    for code, name in (("V1", "Ville de Belfort"), ("E1", "École de la 2e chance"), ("C1", "CCAS")):
        _create(db_session, code, name)
    names = [s.name for s in list_structures(db_session) if s.code in ("V1", "E1", "C1")]
    assert names == ["CCAS", "École de la 2e chance", "Ville de Belfort"]


FACTS = MailFacts(
    pseudonym="P-7K3M-Q9XA",
    sender="Mission Locale Nord",
    receiver="CCAS de Valdoie",
    link="https://relais.example/handoffs/1",
    redirected_to="Les Petits Pas",
    sender_article=Article.LA,
    receiver_article=Article.LE,
    redirected_article=Article.LES,
)


def test_french_mails_name_structures_with_their_article() -> None:
    received = render(MailKind.HANDOFF_RECEIVED, FACTS, "fr")
    assert "La Mission Locale Nord a orienté la personne P-7K3M-Q9XA vers le CCAS de Valdoie." in (
        received.body_text
    )
    assert "en tant que conseiller·ère du CCAS de Valdoie" in received.body_text
    assert received.subject.endswith("envoyée par la Mission Locale Nord")
    accepted = render(MailKind.HANDOFF_ACCEPTED, FACTS, "fr")
    assert "Le CCAS de Valdoie a accepté l'orientation de P-7K3M-Q9XA." in accepted.body_text
    assert "conseiller·ère de la Mission Locale Nord" in accepted.body_text
    redirected = render(MailKind.HANDOFF_REDIRECTED, FACTS, "fr")
    assert "vers les Petits Pas." in redirected.body_text


def test_english_mails_keep_the_names_alone() -> None:
    received = render(MailKind.HANDOFF_RECEIVED, FACTS, "en")
    assert (
        "Mission Locale Nord has handed off the person P-7K3M-Q9XA to CCAS de Valdoie."
        in received.body_text
    )
    assert "as a caseworker of CCAS de Valdoie." in received.body_text


def test_partners_not_suggested_follow_by_name(db_session: Session, vault: Vault) -> None:
    for code, name in (
        ("ZV", "Ville de Belfort"),
        ("ZE", "École de la 2e chance"),
        ("ZC", "Cap emploi"),
    ):
        create_structure(
            db_session,
            None,
            code=code,
            name=name,
            type_code="association",
            capacity=3 if code == "ZV" else None,
        )
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    found = suggest_partners(
        db_session,
        person,
        purpose_barrier="mobility",  # no card says it acts on it: nobody is suggested
        purpose_stage=None,
        exclude=set(),
        today=date(2026, 11, 25),
        stale_months=6,
    )
    names = [s.entry.structure.name for s in found if s.entry.structure.code in ("ZV", "ZE", "ZC")]
    assert not any(s.fit.suggested for s in found)
    # By name, free places or not.
    assert names == ["Cap emploi", "École de la 2e chance", "Ville de Belfort"]
