"""Referents: named on the person page, shown with their work contact to the partners of a
hand-off, changed by a colleague, a whole caseload handed over; each change audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.models import AuditEvent, FollowUp, Handoff, User
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event
from app.services.people import referents
from app.services.security.accounts import deactivate_user
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import csrf_token, login


@pytest.fixture
def team(db_session: Session) -> dict[str, User]:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    return {
        "anna": factories.user(db_session, structure_=a, email="anna@relais.example"),
        "bruno": factories.user(db_session, structure_=a, email="bruno@relais.example"),
        "other": factories.user(db_session, structure_=b, email="other@relais.example"),
    }


def referent_of(session: Session, person_id: object, structure_id: int | None) -> int | None:
    return session.scalar(
        select(FollowUp.referent_id).where(
            FollowUp.beneficiary_id == person_id,
            FollowUp.structure_id == structure_id,
            FollowUp.ended_on.is_(None),
        )
    )


def test_the_registering_caseworker_is_the_referent_and_a_colleague_may_take_over(
    client: FlaskClient, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, bruno = team["anna"], team["bruno"]
    person = factories.person(db_session, vault, anna)
    db_session.commit()
    assert referent_of(db_session, person.id, anna.structure_id) == anna.id
    login(client, "bruno@relais.example")
    page = client.get(f"/people/{person.pseudonym}").get_data(as_text=True)
    assert "Référent·e dans votre structure" in page or "Référent" in page
    token = csrf_token(client, f"/people/{person.pseudonym}")
    answer = client.post(
        f"/people/{person.pseudonym}/referent", data={"referent": bruno.id, "csrf_token": token}
    )
    assert answer.status_code == 302
    db_session.expire_all()
    assert referent_of(db_session, person.id, anna.structure_id) == bruno.id
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "follow_up:referent")
    ).one()
    assert event.beneficiary_id == person.id


def test_a_referent_must_be_an_active_colleague(
    db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, bruno, other = team["anna"], team["bruno"], team["other"]
    person = factories.person(db_session, vault, anna)
    with pytest.raises(InvalidInput):
        referents.change_referent(db_session, anna, person, other.id)
    with pytest.raises(InvalidInput):
        referents.change_referent(db_session, anna, person, 999_999)
    deactivate_user(db_session, None, bruno)
    with pytest.raises(InvalidInput):
        referents.change_referent(db_session, anna, person, bruno.id)
    with pytest.raises(Forbidden):
        referents.change_referent(db_session, other, person, other.id)


def test_partners_on_a_hand_off_see_both_referents_with_their_work_contact(
    client: FlaskClient, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, other = team["anna"], team["other"]
    referents.set_work_phone(db_session, anna, anna, "03 84 12 34 56")
    person = factories.person(db_session, vault, anna)
    handoff = factories.handoff(db_session, vault, anna, person, other.structure)  # type: ignore[arg-type]
    db_session.commit()
    login(client, "other@relais.example")
    handoff_id = handoff.id
    page = client.get(f"/handoffs/{handoff_id}").get_data(as_text=True)
    assert "anna@relais.example" in page
    assert "tel:+33384123456" in page
    handoff = db_session.get(Handoff, handoff_id)  # the request ended the test's session
    other = db_session.get(User, other.id)
    assert handoff is not None
    assert other is not None
    apply_event(db_session, vault, other, handoff, HandoffEvent.ACCEPT, now=datetime.now(UTC))
    db_session.commit()
    page = client.get(f"/handoffs/{handoff.id}").get_data(as_text=True)
    assert "other@relais.example" in page  # the receiver's referent: who accepted


def test_a_caseload_is_handed_over_with_a_confirmation(
    client: FlaskClient, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, bruno = team["anna"], team["bruno"]
    people = [factories.person(db_session, vault, anna) for _ in range(3)]
    factories.person(db_session, vault, bruno)
    deactivate_user(db_session, None, anna)  # Anna left
    db_session.commit()
    login(client, "bruno@relais.example")
    token = csrf_token(client, "/people/hand-over")
    form = {"from_user": anna.id, "to_user": bruno.id, "csrf_token": token}
    counted = client.post("/people/hand-over", data=form).get_data(as_text=True)
    assert "3 personnes vont changer de référent" in counted
    db_session.expire_all()
    assert referent_of(db_session, people[0].id, anna.structure_id) == anna.id  # not yet
    done = client.post("/people/hand-over", data={**form, "confirmed": "y"})
    assert done.status_code == 302
    db_session.expire_all()
    assert {referent_of(db_session, p.id, anna.structure_id) for p in people} == {bruno.id}
    events = db_session.scalar(
        select(func.count()).where(AuditEvent.action == "follow_up:referent")
    )
    assert events == 3


def test_a_hand_over_needs_two_colleagues(
    db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, other = team["anna"], team["other"]
    with pytest.raises(InvalidInput):
        referents.hand_over_caseload(db_session, anna, anna.id, anna.id)
    with pytest.raises(InvalidInput):
        referents.hand_over_caseload(db_session, anna, anna.id, other.id)
    assert referents.hand_over_caseload(db_session, anna, anna.id, team["bruno"].id) == 0


def test_the_work_phone_is_checked_and_may_be_removed(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "anna@relais.example")
    token = csrf_token(client, "/account/contact")
    bad = client.post("/account/contact", data={"work_phone": "12", "csrf_token": token})
    assert bad.status_code == 200
    assert "Saisissez un numéro de téléphone valide." in bad.get_data(as_text=True)
    client.post("/account/contact", data={"work_phone": "06 12 34 56 78", "csrf_token": token})
    db_session.expire_all()
    assert db_session.get(User, team["anna"].id).work_phone == "+33612345678"  # type: ignore[union-attr]
    client.post("/account/contact", data={"work_phone": "", "csrf_token": token})
    db_session.expire_all()
    assert db_session.get(User, team["anna"].id).work_phone is None  # type: ignore[union-attr]


def test_the_command_line_sets_a_phone_and_warns_of_a_caseload_left_behind(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    factories.person(db_session, vault, team["anna"])
    db_session.commit()
    result = runner.invoke(args=["users", "set-phone", "anna@relais.example", "0384123456"])
    assert result.exit_code == 0, result.output
    assert "+33384123456" in result.output
    wrong = runner.invoke(args=["users", "set-phone", "anna@relais.example", "12"])
    assert wrong.exit_code != 0
    gone = runner.invoke(args=["users", "deactivate", "anna@relais.example"])
    assert "1 people still have anna@relais.example as referent" in gone.output


def test_a_hand_over_to_the_same_colleague_is_refused_before_counting(
    client: FlaskClient, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    anna, bruno = team["anna"], team["bruno"]
    factories.person(db_session, vault, anna)
    db_session.commit()
    login(client, "anna@relais.example")
    first = client.get("/people/hand-over").get_data(as_text=True)
    assert f'<option selected value="{bruno.id}">' in first  # to a colleague, not to oneself
    token = csrf_token(client, "/people/hand-over")
    form = {"from_user": anna.id, "to_user": anna.id, "csrf_token": token}
    page = client.post("/people/hand-over", data=form).get_data(as_text=True)
    assert "Choisissez deux collègues différents." in page
    assert "vont changer" not in page
    assert "va changer" not in page
