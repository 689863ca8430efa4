"""Free texts checked against the person's identity before they are saved (issue 11, point 9):
the hand-off note, the message of an answer or a reminder, a step's action. The caseworker is
warned on the field, the text kept as typed, and chooses to edit it or to save it as it is."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    Handoff,
    HandoffTransition,
    PathwayStep,
    Structure,
)
from app.services.handoffs import send_handoff
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import action_tokens, login, page_tokens

SENDER = "note@relais.example"
RECEIVER = "lecture@relais.example"
WARNING = "Ce texte semble nommer la personne"


@pytest.fixture
def people(db_session: Session, vault: Vault) -> tuple[Structure, Structure, Beneficiary]:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a, email=SENDER)
    factories.user(db_session, structure_=b, email=RECEIVER)
    person = factories.person(
        db_session,
        vault,
        sender,
        last_name="Rose",
        first_name="Maëlys",
        phone="06 12 34 56 78",
        birth_date=date(2004, 3, 12),
    )
    db_session.commit()
    return a, b, person


def _send(client: FlaskClient, person: Beneficiary, to: Structure, note: str, **more: str):  # type: ignore[no-untyped-def]
    path = f"/handoffs/new/{person.pseudonym}"
    data = {
        **page_tokens(client, path),
        "to_structure": str(to.id),
        "purpose": "stage:training",
        "note": note,
        "consent_confirmed": "y",
        **more,
    }
    return client.post(path, data=data)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _checks(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.purpose == "free_text_check")
        )
        or 0
    )


def test_a_note_naming_the_person_is_held_back_until_edited_or_kept(
    client: FlaskClient, db_session: Session, people: tuple[Structure, Structure, Beneficiary]
) -> None:
    _a, b, person = people
    login(client, SENDER)
    note = "Maelys est motivée, joignable au 06.12.34.56.78, née le 12 mars 2004."
    held = _send(client, person, b, note)
    assert held.status_code == 200
    page = held.get_data(as_text=True)
    assert WARNING in page
    for found in ("le prénom (« Maelys »)", "« 06.12.34.56.78 »", "« 12 mars 2004 »"):
        assert found in page
    assert "Enregistrer le texte tel quel" in page
    assert note in page  # kept as typed
    assert _count(db_session, Handoff) == 0
    assert _checks(db_session) == 1  # the decryption for the check is audited

    # Edited: sent, and the confirmation names the person to the sender.
    sent = _send(client, person, b, "Motivée pour une formation, écharpe rose.")
    assert sent.status_code == 302
    assert _count(db_session, Handoff) == 1
    flashed = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"Orientation de Maëlys ROSE envoyée à {b.name}." in flashed


def test_the_writer_may_keep_a_text_that_names_the_person(
    client: FlaskClient, db_session: Session, people: tuple[Structure, Structure, Beneficiary]
) -> None:
    _a, b, person = people
    login(client, SENDER)
    assert _send(client, person, b, "Mme Rose viendra").status_code == 200
    kept = _send(client, person, b, "Mme Rose viendra", keep_text="y")
    assert kept.status_code == 302
    handoff = db_session.scalars(select(Handoff)).one()
    assert handoff.note is not None


def test_an_answer_message_is_checked_for_a_structure_that_follows_the_person(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    people: tuple[Structure, Structure, Beneficiary],
) -> None:
    a, b, person = people
    sender = factories.user(db_session, structure_=a)
    handoff = send_handoff(
        db_session,
        vault,
        sender,
        person,
        to_structure=b,
        now=datetime.now(UTC) - timedelta(days=1),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    db_session.commit()
    # The sender withdraws it, with a message naming the person: held back, on the form.
    login(client, SENDER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(r'name="withdraw-csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    data = {"withdraw-csrf_token": token.group(1), "withdraw-message": "Maëlys a déménagé"}
    held = client.post(f"/handoffs/{handoff.id.hex}/withdraw", data=data)
    assert held.status_code == 200
    assert WARNING in held.get_data(as_text=True)
    assert _count(db_session, HandoffTransition) == 1  # only the sending
    data["withdraw-keep_text"] = "y"
    assert client.post(f"/handoffs/{handoff.id.hex}/withdraw", data=data).status_code == 302
    assert _count(db_session, HandoffTransition) == 2


def test_a_receiver_that_may_not_see_the_identity_gets_no_check(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    people: tuple[Structure, Structure, Beneficiary],
) -> None:
    """A warning would tell a structure that may not see the identity whether a guessed name
    is the person's: its messages are not checked, and nothing is decrypted for them."""
    a, b, person = people
    handoff = send_handoff(
        db_session,
        vault,
        factories.user(db_session, structure_=a),
        person,
        to_structure=b,
        now=datetime.now(UTC),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    db_session.commit()
    login(client, RECEIVER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(r'name="decline-csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    data = {
        "decline-csrf_token": token.group(1),
        "decline-reason": "no_capacity",
        "decline-message": "Maëlys Rose : plus de place",
    }
    answered = client.post(f"/handoffs/{handoff.id.hex}/decline", data=data)
    assert answered.status_code == 302
    assert _checks(db_session) == 0
    # The confirmation shows the pseudonym to a structure that may not see the name.
    flashed = client.get(answered.headers["Location"]).get_data(as_text=True)
    assert person.pseudonym in flashed
    assert "ROSE" not in flashed


def test_a_step_action_naming_the_person_is_held_back(
    client: FlaskClient, db_session: Session, people: tuple[Structure, Structure, Beneficiary]
) -> None:
    _a, _b, person = people
    login(client, SENDER)
    path = f"/people/{person.pseudonym}"
    tokens = action_tokens(client, person.pseudonym)
    data = {
        "step-csrf_token": tokens["csrf_token"],
        "step-submission": tokens["step-submission"],
        "step-stage": "training",
        "step-started_on": "2026-11-02",
        "step-action": "Entrée en formation, contact 0612345678",
    }
    held = client.post(f"{path}/steps", data=data)
    assert held.status_code == 200
    assert WARNING in held.get_data(as_text=True)
    assert _count(db_session, PathwayStep) == 0
    data["step-action"] = "Entrée en formation CACES"
    assert client.post(f"{path}/steps", data=data).status_code == 302
    assert _count(db_session, PathwayStep) == 1


def test_ordinary_words_pass_without_warning(
    client: FlaskClient, db_session: Session, people: tuple[Structure, Structure, Beneficiary]
) -> None:
    _a, b, person = people
    login(client, SENDER)
    note = "La vie en rose : motivée, permis en cours, disponible le 12 mars."
    assert _send(client, person, b, note).status_code == 302


def test_a_reminder_message_naming_the_person_comes_back_as_typed(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    people: tuple[Structure, Structure, Beneficiary],
) -> None:
    a, b, person = people
    handoff = send_handoff(
        db_session,
        vault,
        factories.user(db_session, structure_=a),
        person,
        to_structure=b,
        now=datetime.now(UTC) - timedelta(days=5),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    db_session.commit()
    login(client, SENDER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(r'name="remind-csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    data = {"remind-csrf_token": token.group(1), "remind-message": "Maëlys attend votre appel"}
    held = client.post(f"/handoffs/{handoff.id.hex}/remind", data=data)
    assert held.status_code == 200
    text = held.get_data(as_text=True)
    assert WARNING in text
    assert "Maëlys attend votre appel" in text
    assert _count(db_session, HandoffTransition) == 1  # no reminder yet
    data["remind-keep_text"] = "y"
    assert client.post(f"/handoffs/{handoff.id.hex}/remind", data=data).status_code == 302
    assert _count(db_session, HandoffTransition) == 2


def test_a_barrier_detail_naming_the_person_is_held_back_when_recorded_and_corrected(
    client: FlaskClient, db_session: Session, people: tuple[Structure, Structure, Beneficiary]
) -> None:
    _a, _b, person = people
    login(client, SENDER)
    path = f"/people/{person.pseudonym}"
    tokens = action_tokens(client, person.pseudonym)
    data = {
        "barrier-csrf_token": tokens["csrf_token"],
        "barrier-submission": tokens["barrier-submission"],
        "barrier-category": "mobility",
        "barrier-identified_on": "2026-11-02",
        "barrier-detail": "Pas de permis ; écrire à maelys.rose@exemple.fr",
    }
    held = client.post(f"{path}/barriers", data=data)
    assert held.status_code == 200
    assert WARNING in held.get_data(as_text=True)
    assert _count(db_session, Barrier) == 0
    data["barrier-detail"] = "Pas de permis"
    assert client.post(f"{path}/barriers", data=data).status_code == 302
    barrier = db_session.scalars(select(Barrier)).one()
    # Corrected later: the same check.
    prefix = f"a{barrier.id.hex[:8]}"
    correction = {
        f"{prefix}-csrf_token": tokens["csrf_token"],
        f"{prefix}-detail": "Mme ROSE n'a pas le permis",
    }
    assessed = client.post(f"{path}/barriers/{barrier.id.hex}/assessment", data=correction)
    assert assessed.status_code == 200
    assert WARNING in assessed.get_data(as_text=True)
    correction[f"{prefix}-keep_text"] = "y"
    kept = client.post(f"{path}/barriers/{barrier.id.hex}/assessment", data=correction)
    assert kept.status_code == 302
