"""French that reads as French (issue 11, point 11): structure names with their article in
every sentence, chosen by an administrator; the stage "Accueil, diagnostic" is not a hand-off;
partners listed by name with accents folded; English untouched."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, ReferenceItem, ReferenceKind, Structure
from app.services.security.vault import Vault
from app.services.structures import create_structure
from tests import factories
from tests.directory_data import paris_today
from tests.web.helpers import action_tokens, csrf_token, login, page_tokens

EPIDE = "epide@relais.example"
ADMIN = "admin-article@relais.example"


def _page(client: FlaskClient, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def _structure(session: Session, code: str, name: str, article: str | None = None) -> Structure:
    return create_structure(
        session, None, code=code, name=name, type_code="association", article=article
    )


def test_sentences_name_the_structure_with_its_article(
    client: FlaskClient, db_session: Session
) -> None:
    epide = _structure(db_session, "EPIDE90", "EPIDE – centre de Belfort")
    factories.user(db_session, structure_=epide, email=EPIDE)
    db_session.commit()
    login(client, EPIDE)
    assert "Personnes suivies par l'EPIDE – centre de Belfort" in _page(client, "/people/")
    assert "Orientations de l'EPIDE – centre de Belfort" in _page(client, "/handoffs/")
    assert "À faire pour l'EPIDE" in _page(client, "/work/")
    # In English, the name alone.
    client.post("/language", data={"csrf_token": csrf_token(client, "/people/"), "lang": "en"})
    page = client.get("/people/").get_data(as_text=True)
    assert "People followed by EPIDE – centre de Belfort" in page


def test_a_hand_off_sent_to_a_structure_named_with_le_and_les(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    ml = _structure(db_session, "ML90", "Mission Locale du Pays belfortain")
    ccas = _structure(db_session, "CCAS90", "CCAS d'Offemont")
    pas = _structure(db_session, "PAS90", "Les Petits Pas (association)", "les")
    worker = factories.user(db_session, structure_=ml, email="ml@relais.example")
    person = factories.person(db_session, vault, worker, last_name="Keller", first_name="Inès")
    db_session.commit()
    login(client, "ml@relais.example")
    for target, expected in ((ccas, "au CCAS d'Offemont"), (pas, "aux Petits Pas (association)")):
        path = f"/handoffs/new/{person.pseudonym}"
        sent = client.post(
            path,
            data={
                **page_tokens(client, path),
                "to_structure": str(target.id),
                "purpose": "stage:training",
                "consent_confirmed": "y",
                "send_anyway": "y",
            },
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)
        page = _page(client, sent.headers["Location"])
        assert f"Orientation de Inès KELLER envoyée {expected}." in page


def test_an_administrator_chooses_the_article(client: FlaskClient, db_session: Session) -> None:
    lion = _structure(db_session, "ACC90", "Jardins du Lion")
    factories.user(db_session, Role.ADMIN, email=ADMIN)
    db_session.commit()
    login(client, ADMIN)
    page = _page(client, "/admin/structures")
    # Each choice shows how sentences read; the name alone suggests no article.
    assert "D'après le nom : à Jardins du Lion" in page
    assert re.search(r'<option [^>]*lang="fr"[^>]*>aux Jardins du Lion</option>', page)
    token = re.search(rf'name="a{lion.id}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    posted = client.post(
        "/admin/structures/ACC90/article",
        data={f"a{lion.id}-csrf_token": token.group(1), f"a{lion.id}-article": "les"},
        follow_redirects=True,
    )
    done = html.unescape(posted.get_data(as_text=True))
    assert "Les phrases la nomment désormais « les Jardins du Lion »." in done
    db_session.expire_all()
    assert db_session.get(Structure, lion.id).article == "les"  # type: ignore[union-attr]


def test_the_stage_is_not_called_orientation(db_session: Session) -> None:
    stage = db_session.scalars(
        select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.STAGE, ReferenceItem.code == "orientation"
        )
    ).one()
    assert stage.label_fr == "Accueil, diagnostic"
    assert "orientation" not in stage.label_fr.lower()


def test_partners_are_offered_by_name_with_accents_folded(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    home = _structure(db_session, "HOME", "Mission Locale")
    for code, name in (
        ("VIL", "Ville de Belfort"),
        ("ECO", "École de la 2e chance"),
        ("CAP", "Cap emploi"),
    ):
        _structure(db_session, code, name)
    worker = factories.user(db_session, structure_=home, email="tri@relais.example")
    person = factories.person(db_session, vault, worker)
    db_session.commit()
    login(client, "tri@relais.example")
    page = client.get(f"/people/{person.pseudonym}/barriers").get_data(as_text=True)
    acting = page[page.index('name="barrier-acting_structure"') :]
    acting = acting[: acting.index("</select>")]
    names = re.findall(r"<option[^>]*>([^<]+)</option>", acting)
    mine = [n for n in names if n in ("Cap emploi", "École de la 2e chance", "Ville de Belfort")]
    assert mine == ["Cap emploi", "École de la 2e chance", "Ville de Belfort"]


def test_confirmations_name_the_person_to_the_structure_that_follows_them(
    client: FlaskClient, db_session: Session
) -> None:
    home = _structure(db_session, "CONF", "Mission Locale")
    factories.user(db_session, structure_=home, email="conf@relais.example")
    db_session.commit()
    login(client, "conf@relais.example")
    registered = client.post(
        "/people/new",
        data={
            **page_tokens(client, "/people/new"),
            "last_name": "Okafor",
            "first_name": "Chidi",
            "birth_date": "2003-05-17",
            "cohorts": "young_graduate",
            "consent_method": "oral",
            "consent_on": "2026-11-01",
        },
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)
    pseudonym = registered.headers["Location"].rsplit("/", 1)[-1]
    page = _page(client, registered.headers["Location"])
    assert f"Inscription de Chidi OKAFOR enregistrée ({pseudonym})." in page
    tokens = action_tokens(client, pseudonym)
    ended = client.post(
        f"/people/{pseudonym}/end",
        data={
            "end-csrf_token": tokens["csrf_token"],
            "end-reason": "moved",
            "end-ended_on": paris_today().isoformat(),
        },
    )
    assert ended.status_code == 302
    assert "Le suivi de Chidi OKAFOR par votre structure a pris fin." in _page(
        client, ended.headers["Location"]
    )
    # Every name shown in a confirmation is an audited reveal: the registration's, shown on the
    # person's page, is that page's own; the end's, shown on the caseload, one of its own.
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.purpose == "confirmation")
        )
        == 1
    )
