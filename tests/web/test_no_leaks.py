"""No personal value reaches a log line, even with SQL logging at its most verbose."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import action_tokens, login

SECRETS = (
    "Quintavalle",
    "Marguerite",
    "612345678",
    "marguerite.q@exemple.fr",
    "Tilleuls",
    "1999-07-04",
)


@pytest.fixture
def verbose_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything at DEBUG, SQL included - set before the test's connection is opened."""
    caplog.set_level(logging.DEBUG)
    engine_logger = logging.getLogger("sqlalchemy.engine")
    engine_logger.setLevel(logging.DEBUG)
    yield caplog
    engine_logger.setLevel(logging.WARNING)


def test_logs_hold_no_personal_value(
    verbose_logs: pytest.LogCaptureFixture, client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    caplog = verbose_logs
    # A whole journey: registration, caseload, person page, a 404, a coordinator view.
    worker = factories.user(db_session, email="w@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="c@relais.example")
    person = factories.person(
        db_session,
        vault,
        worker,
        last_name="Quintavalle",
        first_name="Marguerite",
        birth_date=date(1999, 7, 4),
        email="marguerite.q@exemple.fr",
    )
    db_session.commit()
    login(client, "w@relais.example")
    assert "Quintavalle".upper() in client.get("/people/").get_data(as_text=True)
    assert client.get(f"/people/{person.pseudonym}").status_code == 200
    client.get("/people/P-NOPE-NOPE")
    login(client, "c@relais.example")
    client.get(f"/pathways/{person.pseudonym}")
    assert "SELECT" in caplog.text  # the SQL log really was on
    for value in SECRETS:
        assert value not in caplog.text
        assert value.upper() not in caplog.text
    assert factories.PASSWORD not in caplog.text


def test_barrier_details_and_employers_stay_out_of_logs_and_coordinator_pages(
    verbose_logs: pytest.LogCaptureFixture, client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    """A barrier's detail and an employer are sealed like the identity: no log line holds
    them, and the coordinator's pathway page and export do not show them."""
    caplog = verbose_logs
    detail, employer = "Permis suspendu Quintavalle", "Garage Marguerite et fils"
    worker = factories.user(db_session, email="w@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="c@relais.example")
    person = factories.person(db_session, vault, worker)
    db_session.commit()
    login(client, "w@relais.example")
    tokens = action_tokens(client, person.pseudonym)
    posted = [
        client.post(
            f"/people/{person.pseudonym}/barriers",
            data={
                "barrier-csrf_token": tokens["csrf_token"],
                "barrier-submission": tokens["barrier-submission"],
                "barrier-category": "mobility",
                "barrier-level": "strong",
                "barrier-detail": detail,
                "barrier-identified_on": "2026-11-02",
            },
        ),
        client.post(
            f"/people/{person.pseudonym}/steps",
            data={
                "step-csrf_token": tokens["csrf_token"],
                "step-submission": tokens["step-submission"],
                "step-stage": "employment",
                "step-started_on": "2026-11-16",
                "step-contract_type": "cdd_long",
                "step-employer": employer,
            },
        ),
    ]
    assert [answer.status_code for answer in posted] == [302, 302]
    page = client.get(f"/people/{person.pseudonym}").get_data(as_text=True)
    assert detail in page
    assert employer in page
    login(client, "c@relais.example")
    seen = client.get(f"/pathways/{person.pseudonym}").get_data(as_text=True)
    seen += client.get("/dashboard/export/pathways.csv?start=2026-01-01").get_data(as_text=True)
    assert "cdd_long" in seen  # the export did run, with the step
    assert "SELECT" in caplog.text
    for value in (detail, employer, "Quintavalle", "Marguerite"):
        assert value not in caplog.text
        assert value not in seen
