"""Barriers with a level and a detail, who lifted them, jobs with their contract, and the
registration facts corrected later - on the person's page; the coordinator sees the levels and
contracts, never a barrier's detail nor an employer."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.employment import ContractType
from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierLevel
from app.domain.roles import Role
from app.models import AuditEvent, Barrier, Beneficiary, PathwayStep, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import action_tokens, csrf_token, login

DETAIL = "Pas de permis, suspendu jusqu'en mars"
EMPLOYER = "Boulangerie Vauban"


@pytest.fixture
def network(db_session: Session, vault: Vault) -> dict[str, object]:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    person = factories.person(db_session, vault, worker_a)
    db_session.commit()
    return {"a": a, "b": b, "worker_a": worker_a, "worker_b": worker_b, "person": person}


def _person(network: dict[str, object]) -> Beneficiary:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    return person


def _user(network: dict[str, object], name: str) -> User:
    user = network[name]
    assert isinstance(user, User)
    return user


def _coordinator_sees(client: FlaskClient, pseudonym: str) -> str:
    """The coordinator's pathway page and pseudonymous export, one after the other."""
    login(client, "coord@relais.example")
    page = client.get(f"/pathways/{pseudonym}")
    assert page.status_code == 200
    return page.get_data(as_text=True) + _export(client)


def _export(client: FlaskClient) -> str:
    export = client.get("/dashboard/export/pathways.csv?start=2026-01-01&end=2027-12-31")
    assert export.status_code == 200
    return export.get_data(as_text=True)


def _export_rows(client: FlaskClient) -> list[dict[str, str]]:
    text = _export(client).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def test_a_barrier_is_recorded_with_its_level_and_detail(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _person(network).pseudonym
    login(client, "a@relais.example")
    tokens = action_tokens(client, pseudonym)
    answer = client.post(
        f"/people/{pseudonym}/barriers",
        data={
            "barrier-csrf_token": tokens["csrf_token"],
            "barrier-submission": tokens["barrier-submission"],
            "barrier-category": "mobility",
            "barrier-level": "strong",
            "barrier-detail": DETAIL,
            "barrier-identified_on": "2026-11-02",
            "barrier-acting_structure": "",
        },
    )
    assert answer.status_code == 302
    barrier = db_session.scalars(select(Barrier)).one()
    assert barrier.level is BarrierLevel.STRONG
    assert barrier.detail is not None
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert "Pas de permis, suspendu jusqu&#39;en mars" in page
    assert "Frein fort à la recherche d&#39;emploi" in page
    seen = _coordinator_sees(client, pseudonym)
    assert "suspendu" not in seen
    assert "Pas de permis" not in seen
    (row,) = [r for r in _export_rows(client) if r["event"] == "barrier"]
    assert row["barrier_level"] == "strong"


def test_a_barrier_level_outside_the_scale_is_a_form_error(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _person(network).pseudonym
    login(client, "a@relais.example")
    tokens = action_tokens(client, pseudonym)
    answer = client.post(
        f"/people/{pseudonym}/barriers",
        data={
            "barrier-csrf_token": tokens["csrf_token"],
            "barrier-submission": tokens["barrier-submission"],
            "barrier-category": "mobility",
            "barrier-level": "enormous",
            "barrier-identified_on": "2026-11-02",
        },
    )
    assert answer.status_code == 200
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    assert db_session.scalars(select(Barrier)).all() == []


def test_level_and_detail_are_corrected_audited(
    client: FlaskClient, network: dict[str, object], db_session: Session, vault: Vault
) -> None:
    person, worker = _person(network), _user(network, "worker_a")
    barrier = add_barrier(
        db_session, worker, person, category_code="childcare", identified_on=factories.TODAY
    )
    db_session.commit()
    login(client, "a@relais.example")
    page = client.get(f"/people/{person.pseudonym}/barriers/{barrier.id.hex}").get_data(
        as_text=True
    )
    prefix = f"a{barrier.id.hex[:8]}"
    assert f'name="{prefix}-level"' in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    url = f"/people/{person.pseudonym}/barriers/{barrier.id.hex}/assessment"
    bad = client.post(url, data={f"{prefix}-csrf_token": token.group(1), f"{prefix}-level": "x"})
    assert bad.status_code == 200
    assert f'id="{prefix}-level-error"' in bad.get_data(as_text=True)
    good = client.post(
        url,
        data={
            f"{prefix}-csrf_token": token.group(1),
            f"{prefix}-level": "moderate",
            f"{prefix}-detail": "Crèche à trouver pour janvier",
        },
    )
    assert good.status_code == 302
    db_session.expire_all()
    assert db_session.get(Barrier, barrier.id).level is BarrierLevel.MODERATE  # type: ignore[union-attr]
    assert "Crèche à trouver pour janvier" in client.get(f"/people/{person.pseudonym}").get_data(
        as_text=True
    )
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_id == str(barrier.id))
    ).all()
    assert AuditAction.BARRIER_ASSESS.value in actions
    # Another structure, which does not follow the person, cannot reach the form.
    login(client, "b@relais.example")
    other = {f"{prefix}-csrf_token": csrf_token(client, "/people/"), f"{prefix}-level": "strong"}
    assert client.post(url, data=other).status_code == 404


@pytest.mark.parametrize(("typed", "level"), [(" moderate ", BarrierLevel.MODERATE), (" ", None)])
def test_a_padded_or_blank_level_is_read_as_the_choice_or_none(
    client: FlaskClient,
    network: dict[str, object],
    db_session: Session,
    typed: str,
    level: BarrierLevel | None,
) -> None:
    """Found by tests/web/test_fuzz.py: a blank optional choice passed ``Optional()`` as
    ``" "`` and ``BarrierLevel(" ")`` raised (a 500)."""
    person, worker = _person(network), _user(network, "worker_a")
    barrier = add_barrier(
        db_session,
        worker,
        person,
        category_code="childcare",
        identified_on=factories.TODAY,
        level=BarrierLevel.STRONG,
    )
    db_session.commit()
    login(client, "a@relais.example")
    prefix = f"a{barrier.id.hex[:8]}"
    url = f"/people/{person.pseudonym}/barriers/{barrier.id.hex}/assessment"
    token = csrf_token(client, f"/people/{person.pseudonym}")
    answer = client.post(url, data={f"{prefix}-csrf_token": token, f"{prefix}-level": typed})
    assert answer.status_code == 302
    db_session.expire_all()
    assert db_session.get(Barrier, barrier.id).level is level  # type: ignore[union-attr]


def test_the_partner_that_lifted_a_barrier_is_shown(
    client: FlaskClient, network: dict[str, object], db_session: Session, vault: Vault
) -> None:
    person, a, b = _person(network), _user(network, "worker_a"), _user(network, "worker_b")
    barrier = add_barrier(
        db_session, a, person, category_code="mobility", identified_on=date(2026, 11, 2)
    )
    now = datetime.now(UTC)
    handoff = send_handoff(
        db_session, vault, a, person, to_structure=network["b"], now=now,  # type: ignore[arg-type]
        purpose_barrier=barrier, consent_confirmed=True,
    )  # fmt: skip
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, "barrier_lifted"),
    ):
        apply_event(db_session, vault, b, handoff, event, now=now, reason_code=reason)
    db_session.commit()
    receiver = network["b"]
    assert isinstance(receiver, Structure)
    login(client, "a@relais.example")
    page = client.get(f"/people/{person.pseudonym}").get_data(as_text=True)
    assert re.search(rf'class="small lifted-by">[^<]*{re.escape(receiver.name)}', page)
    seen = _coordinator_sees(client, person.pseudonym)
    assert re.search(rf'class="small lifted-by">[^<]*{re.escape(receiver.name)}', seen)
    (row,) = [r for r in _export_rows(client) if r["event"] == "barrier"]
    assert (row["status"], row["closed_by"]) == ("lifted", "BBB")


def test_an_employment_step_needs_its_contract(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _person(network).pseudonym
    login(client, "a@relais.example")
    tokens = action_tokens(client, pseudonym)
    data = {
        "step-csrf_token": tokens["csrf_token"],
        "step-submission": tokens["step-submission"],
        "step-stage": "employment",
        "step-started_on": "2026-11-16",
        "step-employer": EMPLOYER,
    }
    refused = client.post(f"/people/{pseudonym}/steps", data=data)
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert 'id="step-contract_type-error"' in text
    assert f'value="{EMPLOYER}"' in text  # what was typed is kept
    assert db_session.scalars(select(PathwayStep)).all() == []
    answer = client.post(f"/people/{pseudonym}/steps", data={**data, "step-contract_type": "cdi"})
    assert answer.status_code == 302
    step = db_session.scalars(select(PathwayStep)).one()
    assert step.contract_type is ContractType.CDI
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert EMPLOYER in page
    seen = _coordinator_sees(client, pseudonym)
    assert EMPLOYER not in seen
    (row,) = [r for r in _export_rows(client) if r["stage"] == "employment"]
    assert row["contract_type"] == "cdi"


def test_a_contract_on_another_stage_is_a_form_error(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _person(network).pseudonym
    login(client, "a@relais.example")
    tokens = action_tokens(client, pseudonym)
    answer = client.post(
        f"/people/{pseudonym}/steps",
        data={
            "step-csrf_token": tokens["csrf_token"],
            "step-submission": tokens["step-submission"],
            "step-stage": "training",
            "step-started_on": "2026-11-16",
            "step-contract_type": "interim",
        },
    )
    assert answer.status_code == 200
    assert 'id="step-contract_type-error"' in answer.get_data(as_text=True)
    assert db_session.scalars(select(PathwayStep)).all() == []


def test_registration_facts_are_corrected_on_their_page(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    person = _person(network)
    login(client, "a@relais.example")
    url = f"/people/{person.pseudonym}/facts"
    form = client.get(url)
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="young_dropout"', text)
    assert not re.search(r'<input checked[^>]*value="rsa"', text)
    for code in ("rsa", "deld", "rqth", "cej", "training_obligation"):
        assert f'value="{code}"' in text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    assert token is not None
    empty = client.post(url, data={"csrf_token": token.group(1), "sex": "female"})
    assert empty.status_code == 200
    assert 'id="cohorts-error"' in empty.get_data(as_text=True)
    answer = client.post(
        url,
        data={
            "csrf_token": token.group(1),
            "cohorts": ["young_dropout", "cej"],
            "education_level": "level_3",
            "sex": "female",
            "qpv": "",
        },
    )
    assert answer.status_code == 302
    db_session.expire_all()
    again = db_session.get(Beneficiary, person.id)
    assert again is not None
    assert [c.code for c in again.cohorts] == ["young_dropout", "cej"]
    assert again.sex is not None
    assert again.sex.value == "female"
    (event,) = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.BENEFICIARY_FACTS.value)
    ).all()
    assert event.data["fields"] == "cohorts,education_level,sex"
    # The coordinator reads the corrected facts (no identity), but cannot correct them.
    login(client, "coord@relais.example")
    assert client.get(url).status_code == 404


def test_the_facts_of_a_person_not_followed_are_out_of_reach(
    client: FlaskClient, network: dict[str, object]
) -> None:
    login(client, "b@relais.example")
    assert client.get(f"/people/{_person(network).pseudonym}/facts").status_code == 404


def test_an_employment_step_recorded_in_the_service_shows_its_contract_to_the_coordinator(
    client: FlaskClient, network: dict[str, object], db_session: Session, vault: Vault
) -> None:
    person, worker = _person(network), _user(network, "worker_a")
    add_step(
        db_session, vault, worker, person, stage_code="employment", started_on=factories.TODAY,
        contract_type=ContractType.IAE, employer=EMPLOYER,
    )  # fmt: skip
    db_session.commit()
    seen = _coordinator_sees(client, person.pseudonym)
    assert EMPLOYER not in seen
    assert "(IAE)" in seen


def _job_handoff(db_session: Session, vault: Vault, network: dict[str, object]) -> str:
    """A hand-off for a job from A to B, accepted and contacted by B: ready to close."""
    person, a, b = _person(network), _user(network, "worker_a"), _user(network, "worker_b")
    now = datetime.now(UTC)
    handoff = send_handoff(
        db_session, vault, a, person, to_structure=network["b"], now=now,  # type: ignore[arg-type]
        purpose_stage_code="employment", consent_confirmed=True,
    )  # fmt: skip
    for event in (HandoffEvent.ACCEPT, HandoffEvent.FIRST_CONTACT):
        apply_event(db_session, vault, b, handoff, event, now=now)
    db_session.commit()
    return handoff.id.hex


def test_a_job_signed_is_closed_with_its_contract_once(
    client: FlaskClient, network: dict[str, object], db_session: Session, vault: Vault
) -> None:
    handoff = _job_handoff(db_session, vault, network)
    login(client, "b@relais.example")
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    assert 'name="complete-contract_type"' in page
    token = csrf_token(client, f"/handoffs/{handoff}")
    data = {
        "complete-csrf_token": token,
        "complete-outcome": "job_signed",
        "complete-employer": EMPLOYER,
    }
    refused = client.post(f"/handoffs/{handoff}/complete", data=data)
    assert refused.status_code == 200
    assert 'id="complete-contract_type-error"' in refused.get_data(as_text=True)
    assert db_session.scalars(select(PathwayStep)).all() == []
    first_day = datetime.now(UTC).date() + timedelta(days=10)  # signed before the first day
    answer = client.post(
        f"/handoffs/{handoff}/complete",
        data={
            **data,
            "complete-contract_type": "apprenticeship",
            "complete-job_started_on": first_day.isoformat(),
        },
    )
    assert answer.status_code == 302
    (step,) = db_session.scalars(select(PathwayStep)).all()
    assert step.stage.code == "employment"
    assert step.contract_type is ContractType.APPRENTICESHIP
    assert step.started_on == first_day
    # The partner that follows the person now reads the employer on the person's page.
    person = _person(network).pseudonym
    assert EMPLOYER in client.get(f"/people/{person}").get_data(as_text=True)
    seen = _coordinator_sees(client, person)
    assert EMPLOYER not in seen
    assert "alternance" in seen.lower()
