"""A structure's own figures against the network's: the page ``/structures/<code>/figures``
and its CSV export (publication view only, audited)."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent
from tests import factories
from tests.partner_world import PERIOD, fill
from tests.web.helpers import login
from tests.world import World

B_WORKER, A_WORKER = "b@relais.example", "a@relais.example"
COORDINATOR, ADMIN = "coord@relais.example", "admin@relais.example"


@pytest.fixture
def accounts(db_session: Session, world: World) -> None:
    factories.user(db_session, Role.CASEWORKER, world.b, email=B_WORKER)
    factories.user(db_session, Role.CASEWORKER, world.a, email=A_WORKER)
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    factories.user(db_session, Role.ADMIN, email=ADMIN)
    db_session.commit()


def cell(html: str, indicator: str, who: str) -> str:
    row = html.split(f'data-indicator="{indicator}"')[1].split("</tr>")[0]
    found = re.search(rf'<td data-who="{who}">(.*?)</td>', row, re.S)
    assert found is not None, (indicator, who)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_who_may_read_a_structures_figures(
    client: FlaskClient, accounts: None, world: World
) -> None:
    paths = ("/structures/IND-B/figures", f"/structures/IND-B/figures.csv?{PERIOD}")
    assert client.get(paths[0]).status_code == 302  # to the sign-in page
    for email, allowed in (
        (B_WORKER, True),
        (COORDINATOR, True),
        (A_WORKER, False),
        (ADMIN, False),
    ):
        login(client, email)
        for path in paths:
            assert client.get(path).status_code == (200 if allowed else 404), (email, path)
    login(client, B_WORKER)
    assert client.get("/structures/NOPE/figures").status_code == 404
    # "My structure", for a caseworker who manages nothing, opens the figures.
    html = client.get("/people/").get_data(as_text=True)
    assert 'href="/structures/IND-B/figures" data-testid="nav-my-structure"' in html


def test_the_page_shows_the_exact_figures_of_a_known_world_when_k_is_1(
    app: Flask, client: FlaskClient, accounts: None, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(world)
    monkeypatch.setitem(app.config, "SMALL_COUNT_THRESHOLD", 1)
    login(client, B_WORKER)
    html = client.get(f"/structures/IND-B/figures?{PERIOD}").get_data(as_text=True)
    assert 'data-view="publication"' in html
    expected = {
        "received": ("4", "8"),
        "sent": ("4", "8"),
        "sent_declined": ("1", "2"),
        "followed": ("5", "6"),
        "accepted_share": ("67 %", "60 %"),
        "loop_closure": ("50 %", "33 %"),
        "answered_in_time": ("50 %", "67 %"),
        "reached_employment": ("20 %", "17 %"),
    }
    for indicator, (mine, network) in expected.items():
        got = (cell(html, indicator, "mine"), cell(html, indicator, "network"))
        assert [g.replace("\u202f", " ").replace("\xa0", " ") for g in got] == [mine, network]
    assert cell(html, "to_first_contact", "mine").startswith("4,5")
    assert 'data-reason="not_eligible"' in html.split('id="partner-reasons"')[1]
    assert 'role="img"' in html
    assert html.count('class="bar share-') == 12  # every share drawn, for both


def test_the_page_and_export_protect_small_counts(
    client: FlaskClient, accounts: None, world: World, db_session: Session
) -> None:
    fill(world)
    login(client, B_WORKER)
    html = client.get(f"/structures/IND-B/figures?{PERIOD}").get_data(as_text=True)
    assert cell(html, "received", "mine") == "< 11"
    assert cell(html, "accepted_share", "network") == "n < 11"
    assert cell(html, "to_answer", "mine") == "n < 11"
    assert 'class="bar share-' not in html  # no share has 11 hand-offs behind it
    assert html.count('data-hidden="') == 12
    response = client.get(f"/structures/IND-B/figures.csv?{PERIOD}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "relais-figures-IND-B-publication-2026-01-01-2026-11-30.csv" in disposition
    lines = csv_rows(response.data)
    assert lines[0][0] == "code"
    assert lines[-1][0] == "view"
    delays = [line[1] for line in lines if line[0] in ("to_answer", "to_first_contact")]
    assert all(label.endswith(" (jours)") for label in delays), delays
    assert " 10 " in lines[-1][1]  # the last hidden count (the text is translated later)
    by_code = {line[0]: line[2:] for line in lines[1:-1]}
    assert by_code["received"] == ["", ""]
    assert by_code["accepted_share"] == ["", ""]
    assert by_code["declined:not_eligible"] == ["", ""]
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT.value)
    )
    assert event is not None
    assert event.data["table"] == "partner-figures"
    assert event.data["structure"] == "IND-B"


def test_the_export_holds_the_page_figures(
    app: Flask, client: FlaskClient, accounts: None, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(world)
    monkeypatch.setitem(app.config, "SMALL_COUNT_THRESHOLD", 1)
    login(client, COORDINATOR)
    lines = csv_rows(client.get(f"/structures/IND-B/figures.csv?{PERIOD}").data)
    by_code = {line[0]: line[2:] for line in lines[1:-1]}
    assert by_code["received"] == ["4", "8"]
    assert by_code["accepted_share"] == ["66,7", "60"]
    assert by_code["to_first_contact"] == ["4,5", "3"]
    assert by_code["declined:not_eligible"] == ["1", "1"]
    assert by_code["declined:no_capacity"] == ["0", "1"]


def test_the_period_defaults_to_a_year_and_bad_dates_get_a_form_error(
    client: FlaskClient, accounts: None
) -> None:
    login(client, B_WORKER)
    page = client.get("/structures/IND-B/figures")
    assert page.status_code == 200
    assert 'id="start"' in page.get_data(as_text=True)
    assert re.search(r'id="start"[^>]*value="\d{4}-\d{2}-01"', page.get_data(as_text=True))
    for query in ("start=2026-13-45", "start=2026-06-01&end=2026-01-01", "end=x"):
        for path in ("/structures/IND-B/figures", "/structures/IND-B/figures.csv"):
            answer = client.get(f"{path}?{query}")
            assert answer.status_code == 400, (path, query)
            assert "has-error" in answer.get_data(as_text=True), (path, query)
