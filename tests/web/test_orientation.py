"""Orientation decisions on the person's page (the form, its errors, the history and the
criteria kept), on the coordinator's pseudonymous pathway, and the steering page with its
publication-view exports (issue 15, items 1 and 2)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.pathway import BarrierLevel
from app.domain.roles import Role
from app.models import AuditEvent, Barrier, Beneficiary, OrientationDecision
from app.services.pathways import add_barrier
from app.services.security.vault import Vault
from app.services.statistics.delays import TABLE_NAMES
from app.web.steering.views import DECISION_TABLES
from tests import factories
from tests.web.helpers import action_tokens, csrf_token, login
from tests.web.test_dashboard import PERIOD, rows
from tests.world import World

TODAY = factories.TODAY


@pytest.fixture
def network(db_session: Session, vault: Vault) -> dict[str, object]:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    factories.user(db_session, structure_=b, email="b@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    person = factories.person(db_session, vault, worker_a)
    add_barrier(db_session, worker_a, person, category_code="mobility",
                identified_on=date(2026, 11, 2), level=BarrierLevel.STRONG)  # fmt: skip
    db_session.commit()
    return {"person": person}


def _decide(client: FlaskClient, pseudonym: str, **fields: str) -> object:
    tokens = action_tokens(client, pseudonym)
    data = {
        "decision-csrf_token": tokens["csrf_token"],
        "decision-submission": tokens["decision-submission"],
        "decision-pathway_type": "social",
        "decision-decided_on": "2026-11-10",
        "decision-reason": "first_orientation",
    }
    data.update({f"decision-{k}": v for k, v in fields.items()})
    return client.post(f"/people/{pseudonym}/decisions", data=data)


def _pseudonym(network: dict[str, object]) -> str:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    return person.pseudonym


def test_a_decision_keeps_its_criteria_and_history(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _pseudonym(network)
    login(client, "a@relais.example")
    assert _decide(client, pseudonym).status_code == 302  # type: ignore[attr-defined]
    (decision,) = db_session.scalars(select(OrientationDecision)).all()
    assert decision.decided_on == date(2026, 11, 10)
    assert [(c.category.code, c.level) for c in decision.criteria] == [
        ("mobility", BarrierLevel.STRONG)
    ]
    # The barrier eases later: the decision's criteria do not change; a new decision follows.
    db_session.scalars(select(Barrier)).one().level = BarrierLevel.MODERATE
    db_session.commit()
    answer = _decide(client, pseudonym, pathway_type="professional", reason="barriers_lifted")
    assert answer.status_code == 302  # type: ignore[attr-defined]
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert 'data-pathway-type="professional"' in page
    assert page.count("<tr data-decision=") == 2
    assert 'data-level="strong"' in page
    assert 'data-level="moderate"' in page
    assert 'class="tl-decision"' in page
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.ORIENTATION_DECIDE.value)
    ).all()
    assert len(events) == 2


@pytest.mark.parametrize(
    "fields",
    [{"pathway_type": "enormous"}, {"pathway_type": ""}, {"decided_on": "2099-01-01"},
     {"decided_on": "yesterday"}, {"reason": "whim"}],
)  # fmt: skip
def test_bad_input_is_a_form_error(
    client: FlaskClient, network: dict[str, object], db_session: Session, fields: dict[str, str]
) -> None:
    login(client, "a@relais.example")
    answer = _decide(client, _pseudonym(network), **fields)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert db_session.scalars(select(OrientationDecision)).all() == []


def test_another_structure_cannot_decide(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    pseudonym = _pseudonym(network)
    login(client, "b@relais.example")
    answer = client.post(
        f"/people/{pseudonym}/decisions",
        data={
            "decision-csrf_token": csrf_token(client, "/people/"),
            "decision-pathway_type": "social",
            "decision-decided_on": "2026-11-10",
        },
    )
    assert answer.status_code == 404
    assert db_session.scalars(select(OrientationDecision)).all() == []


def test_the_coordinator_reads_the_decision_without_identity(
    client: FlaskClient, network: dict[str, object]
) -> None:
    pseudonym = _pseudonym(network)
    login(client, "a@relais.example")
    _decide(client, pseudonym)
    coordinator = client.application.test_client()
    login(coordinator, "coord@relais.example")
    page = coordinator.get(f"/pathways/{pseudonym}").get_data(as_text=True)
    assert 'data-pathway-type="social"' in page
    assert 'class="tl-decision"' in page
    assert "decision-pathway_type" not in page  # no form for the coordinator


def test_the_steering_page_and_its_publication_exports(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    person = world.person()
    world.follow(person, world.a)
    db_session.commit()
    login(client, "coord@relais.example")
    page = client.get(f"/steering/delays?{PERIOD}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-view="exact"' in text
    assert 'data-target="15"' in text
    assert 'id="summary-registration_to_decision"' in text
    assert client.get(f"/steering/delays?{PERIOD}&view=publication").status_code == 200
    assert client.get("/steering/delays?start=2026-12-31&end=2026-01-01").status_code == 400
    # Each table links its export (the links were lost when the tables became a shared macro).
    links = set(re.findall(r'href="(/steering/delays/export/[^"]+)"', text))
    names = {link.split("/")[-1].split(".csv")[0] for link in links}
    assert names == set(TABLE_NAMES) | DECISION_TABLES
    assert all(link.endswith(".csv?" + PERIOD.replace("&", "&amp;")) for link in links)
    export = client.get(
        f"/steering/delays/export/delays-registration-to-decision-by-quarter.csv?{PERIOD}"
    )
    assert export.status_code == 200
    assert "publication" in export.headers["Content-Disposition"]
    lines = rows(export.data)
    assert lines[-1][0] == "view"
    assert client.get(f"/steering/delays/export/unknown.csv?{PERIOD}").status_code == 404
    audited = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT.value)
    ).all()
    assert len(audited) == 1


def test_the_thresholds_come_from_the_settings(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    client.application.config.update(DELAY_TARGET_DAYS=7, DELAY_CONTRACT_DAYS=21)
    try:
        login(client, "coord@relais.example")
        text = client.get(f"/steering/delays?{PERIOD}").get_data(as_text=True)
        assert 'data-target="7"' in text
        assert 'data-contract="21"' in text
    finally:
        client.application.config.update(DELAY_TARGET_DAYS=15, DELAY_CONTRACT_DAYS=30)
