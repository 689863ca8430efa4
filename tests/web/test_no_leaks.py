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
from tests.web.helpers import login

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
