"""The CDE report page and its CSV bundle: coordinators only, publication view only, a wrong
quarter is a form error (400), each generation is audited."""

from __future__ import annotations

import html
import io
import zipfile

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent
from app.services.statistics.delays import DelayLine
from app.web.steering import report
from tests import factories
from tests.web.helpers import login


@pytest.fixture
def coordinator(db_session: Session) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()


def _audits(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT)
        )
    )


@pytest.mark.usefixtures("coordinator")
def test_the_report_page_defaults_to_the_last_full_quarter_and_is_audited(
    client: FlaskClient, db_session: Session
) -> None:
    login(client, "coord@relais.example")
    response = client.get("/steering/report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-quarter="2026-Q3"' in page  # today is 2026-11-25 in the tests
    for section in ("decisions", "delays", "unmet", "lost", "outcomes", "events", "method"):
        assert f'id="report-{section}"' in page
    assert 'data-view="publication"' in page
    assert "/steering/report/2026-Q3.zip" in page
    assert 'id="next-quarter"' in page  # 2026-Q4 has begun
    assert 'id="quarter-in-progress"' not in page
    (event,) = _audits(db_session)
    assert event.data["table"] == "cde-report"
    assert event.data["start"] == "2026-07-01"


@pytest.mark.usefixtures("coordinator")
@pytest.mark.parametrize("quarter", ["2026-5", "nonsense", "2026-Q", "<script>", "2027-Q1"])
def test_a_wrong_quarter_is_a_form_error(
    client: FlaskClient, db_session: Session, quarter: str
) -> None:
    login(client, "coord@relais.example")
    response = client.get("/steering/report", query_string={"quarter": quarter})
    assert response.status_code == 400
    assert 'class="field has-error"' in response.get_data(as_text=True)
    assert not _audits(db_session)
    assert client.get(f"/steering/report/{quarter}.zip").status_code in (400, 404)


@pytest.mark.usefixtures("coordinator")
def test_the_quarter_in_progress_says_so_and_none_to_come_is_reported(
    client: FlaskClient, db_session: Session
) -> None:
    """A quarter to come reported today's people lost from view as its own."""
    login(client, "coord@relais.example")
    page = html.unescape(client.get("/steering/report?quarter=2026-Q4").get_data(as_text=True))
    assert 'id="quarter-in-progress"' in page
    assert "Trimestre en cours" in page
    assert 'id="next-quarter"' not in page  # 2027-Q1 has not begun
    assert client.get("/steering/report/2027-Q1.zip").status_code == 400
    refused = html.unescape(client.get("/steering/report?quarter=2027-Q1").get_data(as_text=True))
    assert "Ce trimestre n'a pas commencé" in refused
    assert len(_audits(db_session)) == 1  # the quarter in progress only


@pytest.mark.usefixtures("coordinator")
def test_the_bundle_holds_one_csv_per_table_and_the_method(
    client: FlaskClient, db_session: Session
) -> None:
    login(client, "coord@relais.example")
    response = client.get("/steering/report/2026-2.zip")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "publication" in disposition
    assert "2026-Q2" in disposition
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(bundle.namelist())
    assert {"README.txt", "handoffs-by-receiver.csv", "decisions-by-type.csv"} <= names
    assert {"delays-by-structure.csv", "network-events.csv", "lost_from_view.csv"} <= names
    for name in names - {"README.txt"}:
        text = bundle.read(name).decode("utf-8")
        assert text.startswith("\ufeff")
        last = text.strip().splitlines()[-1]
        assert last.split(";")[0].strip('"') == "view", name
    assert "2026-04-01" in bundle.read("README.txt").decode("utf-8")
    (event,) = _audits(db_session)
    assert event.data["table"] == "cde-report-bundle"


def test_a_caseworker_cannot_open_the_report(client: FlaskClient, db_session: Session) -> None:
    a = factories.structure(db_session, "AAA")
    factories.user(db_session, structure_=a, email="a@relais.example")
    db_session.commit()
    login(client, "a@relais.example")
    assert client.get("/steering/report").status_code == 404
    assert client.get("/steering/report/2026-2.zip").status_code == 404


@pytest.mark.parametrize(("lang", "written"), [("fr", "3,5"), ("en", "3.5")])
def test_a_median_is_written_as_the_reader_s_spreadsheet_reads_it(
    app: Flask, lang: str, written: str
) -> None:
    """A ";" file opened by a French spreadsheet reads "3.5" as a date or a text."""
    line = DelayLine(heading=1, within_target=0.5, within_contract=None, median=3.5, settled=9)
    with app.test_request_context("/"):
        session["lang"] = lang
        row = report._delay_row("answer", "ML90", "Mission Locale", line)
    assert row[3:] == [50, None, written]
