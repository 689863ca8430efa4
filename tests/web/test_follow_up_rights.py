"""Rights follow the follow-up: a structure whose follow-up has ended reads the person's file
during the grace period, but no longer edits the identity, records a withdrawal of consent or
erases (``app.domain.rights.may_change_person``, ``access.person_to_change``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.rights import ErasureCause, Following, WithdrawalSource, may_change_person
from app.models import AuditEvent, Beneficiary, Consent, FollowUp, PersonKey
from app.services.errors import Forbidden
from app.services.people import access
from app.services.people.facts import Facts, facts_of, update_facts
from app.services.people.identity import Identity, open_identity, update_identity
from app.services.rights.consents import withdraw_consent
from app.services.rights.erasure import RegisterFile, erase_person
from app.services.security.vault import Vault
from app.web.context import PARIS
from tests.rights_helpers import Network, network
from tests.web.helpers import csrf_token, login

WRITES = ("beneficiary:update", "beneficiary:facts_update", "consent:withdraw", "beneficiary:erase")
CHANGES = ("edit", "facts", "consent/withdraw", "erase")


@pytest.fixture
def ended(db_session: Session, vault: Vault) -> Network:
    """The network of the rights tests, A's follow-up ended ten days ago (B still follows)."""
    net = network(db_session, vault)
    follow_up = db_session.scalars(
        select(FollowUp).where(
            FollowUp.beneficiary_id == net.person.id, FollowUp.structure_id == net.a.id
        )
    ).one()
    follow_up.ended_on = _today() - timedelta(days=10)
    db_session.commit()
    return net


@pytest.fixture
def register(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RegisterFile:
    path = tmp_path / "register.txt"
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(path))
    return RegisterFile(path)


def _today() -> date:
    return datetime.now(PARIS).date()


def _writes(db_session: Session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(WRITES))))


def test_the_rule() -> None:
    assert [may_change_person(f) for f in Following] == [True, False, False]


def test_the_relation_of_each_structure(db_session: Session, ended: Network) -> None:
    today = _today()
    relation = {
        w.email: access.following(db_session, w, ended.person, today)
        for w in (ended.worker_a, ended.worker_b, ended.worker_c)
    }
    assert list(relation.values()) == [Following.GRACE, Following.NOW, Following.NOT]


def test_during_the_grace_period_the_page_reads_but_offers_no_change(
    client: FlaskClient, ended: Network
) -> None:
    login(client, ended.worker_a.email)
    pseudonym = ended.person.pseudonym
    response = client.get(f"/people/{pseudonym}")
    assert response.status_code == 200  # reading, as before
    page = response.get_data(as_text=True)
    for path in CHANGES:
        assert f"/people/{pseudonym}/{path}" not in page
    assert f"/handoffs/new/{pseudonym}" not in page
    # Nor the other forms of the page, which the services refuse without an open follow-up.
    assert 'method="post"' not in page.split('id="identity-title"')[1].split("</main>")[0]
    assert f"/people/{pseudonym}/access-report" in page  # the export is a reading
    assert 'id="read-only"' in page
    for path in CHANGES:
        assert client.get(f"/people/{pseudonym}/{path}").status_code == 404
    # The structure that follows now keeps every button.
    login(client, ended.worker_b.email)
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    for path in CHANGES:
        assert f"/people/{pseudonym}/{path}" in page
    for action in ("steps", "barriers", "end"):
        # Each change is a link to its form's own page, which holds the form (posted back to
        # the page's own address).
        assert f'href="/people/{pseudonym}/{action}"' in page
        form_page = client.get(f"/people/{pseudonym}/{action}")
        assert form_page.status_code == 200
        assert '<form method="post"' in form_page.get_data(as_text=True)
    assert 'id="read-only"' not in page


def test_during_the_grace_period_every_change_is_refused_and_nothing_written(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    ended: Network,
    register: RegisterFile,
) -> None:
    login(client, ended.worker_a.email)
    pseudonym = ended.person.pseudonym
    token = csrf_token(client, "/account/password")
    before = open_identity(vault, db_session, ended.person)
    posts = {
        "edit": {"last_name": "Quoxley", "first_name": "Aurélie", "phone": "06 11 22 33 44"},
        "facts": {"cohorts": "rsa"},
        "consent/withdraw": {"withdrawn_on": _today().isoformat(), "source": "oral"},
        "erase": {"confirm": pseudonym},
    }
    for path, data in posts.items():
        answer = client.post(f"/people/{pseudonym}/{path}", data={"csrf_token": token, **data})
        assert answer.status_code == 404, path  # as for any structure without a follow-up
    db_session.expire_all()
    assert open_identity(vault, db_session, ended.person) == before
    person = db_session.get(Beneficiary, ended.person.id)
    assert person is not None
    assert facts_of(person).cohort_codes == ["young_dropout"]
    consents = db_session.scalars(
        select(Consent.withdrawn_on).where(Consent.beneficiary_id == ended.person.id)
    ).all()
    assert consents == [None]
    assert db_session.get(PersonKey, ended.person.id) is not None
    assert register.read() == []
    assert _writes(db_session) == []


def test_the_services_refuse_too(db_session: Session, vault: Vault, ended: Network) -> None:
    """Whatever calls them (a future API, a command acting as a user), not only the views."""
    today, now = _today(), datetime.now(UTC)
    person, worker = ended.person, ended.worker_a
    changed = Identity(last_name="Quoxley", first_name="Aurélie")
    with pytest.raises(Forbidden):
        update_identity(vault, db_session, worker, person, changed, today=today)
    with pytest.raises(Forbidden):
        update_facts(db_session, worker, person, Facts(["rsa"], None, None, None))
    with pytest.raises(Forbidden):
        withdraw_consent(
            db_session,
            vault,
            worker,
            person,
            on=today,
            source=WithdrawalSource.ORAL,
            today=today,
            now=now,
        )
    with pytest.raises(Forbidden):
        erase_person(
            db_session,
            vault,
            worker,
            person,
            cause=ErasureCause.REQUEST,
            register=RegisterFile(Path("/nonexistent/never-written.txt")),
            today=today,
            now=now,
        )
    assert person.erased_at is None
    assert _writes(db_session) == []
    # The structure that follows now may.
    assert update_identity(vault, db_session, ended.worker_b, person, changed, today=today)
    assert _writes(db_session) == ["beneficiary:update"]


def test_the_send_form_offers_no_solution_found_only_with_a_follow_up_now(
    client: FlaskClient, ended: Network
) -> None:
    """In the reading grace period the "no solution found" route answers 404: the send form
    (which the grace period still shows) does not link to it."""
    pseudonym = ended.person.pseudonym
    login(client, ended.worker_a.email)
    form = client.get(f"/handoffs/new/{pseudonym}")
    assert form.status_code == 200
    assert f"/handoffs/no-solution/{pseudonym}" not in form.get_data(as_text=True)
    assert client.get(f"/handoffs/no-solution/{pseudonym}").status_code == 404
    login(client, ended.worker_b.email)
    page = client.get(f"/handoffs/new/{pseudonym}").get_data(as_text=True)
    assert f'href="/handoffs/no-solution/{pseudonym}"' in page
    assert client.get(f"/handoffs/no-solution/{pseudonym}").status_code == 200
