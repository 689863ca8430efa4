"""The coordinators' dashboard page, its CSV exports and the pseudonymous pathway export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import AuditEvent, Handoff
from app.services.directory import network_events
from app.services.security.vault import Vault
from app.services.statistics.dashboard import TABLE_NAMES, View, dashboard
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountTable
from tests import factories
from tests.web.helpers import csrf_token, login
from tests.world import World, at

PERIOD = "start=2026-01-01&end=2026-12-31"
COORDINATOR = "coord@relais.example"


@pytest.fixture
def coordinator(db_session: Session, client: FlaskClient) -> None:
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    db_session.commit()
    login(client, COORDINATOR)


def rows(response_data: bytes) -> list[list[str]]:
    text = response_data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def fill(world: World, people: int = 13) -> None:
    """People oriented by IND-A, handed to IND-B (all but two, handed to IND-C)."""
    for n in range(people):
        person = world.person()
        world.step(person, "orientation", date(2026, 3, 2), world.a)
        world.barrier(person, "mobility", BarrierStatus.LIFTED, date(2026, 3, 3), world.b)
        receiver = world.b if n < people - 2 else world.c
        world.handoff(person, world.a, receiver, HandoffStatus.SENT, at(date(2026, 3, 4)))
    world.session.commit()


def test_dashboard_is_for_coordinators_only(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    factories.user(db_session, Role.CASEWORKER, world.a, email="cw@relais.example")
    factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    db_session.commit()
    assert client.get("/dashboard/").status_code == 302  # to the sign-in page
    for email in ("cw@relais.example", "admin@relais.example"):
        login(client, email)
        for path in (
            "/dashboard/",
            "/dashboard/export/funnel.csv",
            "/dashboard/export/pathways.csv",
        ):
            assert client.get(path).status_code == 404, (email, path)


def test_dashboard_shows_protected_figures_and_every_section(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    fill(world)
    page = client.get(f"/dashboard/?{PERIOD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for title in (
        "Personnes entrant dans chaque étape",
        "Freins repérés, par catégorie et statut actuel",
        "Qui oriente vers qui",
        "Ce que sont devenues les orientations, par partenaire destinataire",
        "Longueur des chaînes de réorientation",
        "Le réseau de coopération",
        "Export des parcours",
    ):
        assert title in html, title
    assert html.count("<svg") >= 8
    assert 'role="img"' in html
    assert ">13<" in html  # people oriented, hand-offs sent
    # The coordinator reads the exact figures by default, and is told not to publish them.
    assert 'data-view="exact"' in html
    assert ">11<" in html
    assert "secret" not in html
    # The publication view: IND-A -> IND-C: 2 hand-offs read "< 11"; IND-A -> IND-B: 11, but
    # it would give the 2 away, reads "secret" (it is not below 11).
    html = client.get(f"/dashboard/?{PERIOD}&view=publication").get_data(as_text=True)
    assert 'data-view="publication"' in html
    assert ">11<" not in html
    assert "&lt; 11" in html
    assert "secret" in html
    assert ">masqué<" not in html
    # The filters keep the view; the view tabs keep the filters.
    assert 'name="view" value="publication"' in html
    assert "start=2026-01-01" in html.split('id="view-exact"')[0].rsplit("<a ", 1)[1]


def test_exact_counts_equal_a_direct_count(
    client: FlaskClient, coordinator: None, world: World, db_session: Session
) -> None:
    fill(world, people=4)
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))
    board = dashboard(db_session, scope, k=11, view=View.EXACT)
    matrix = board.handoff_matrix
    direct = dict(
        db_session.execute(
            select(Handoff.to_structure_id, func.count())
            .where(Handoff.from_structure_id == world.a.id)
            .group_by(Handoff.to_structure_id)
        ).all()
    )
    assert matrix.cell(world.a, world.b) == direct[world.b.id] == 2
    assert matrix.cell(world.a, world.c) == direct[world.c.id] == 2
    assert matrix.published.hidden_count == 0
    assert board.people == 4
    assert all(m.days is None or m.days >= 0 for m in board.stage_medians)
    published = dashboard(db_session, scope, k=11, view=View.PUBLICATION)
    assert published.handoff_matrix.cell(world.a, world.b) is None
    assert published.people is None


def test_invalid_filters_get_a_clear_answer(client: FlaskClient, coordinator: None) -> None:
    client.post(
        "/language",
        data={"csrf_token": csrf_token(client, "/account/password"), "lang": "en", "next": "/"},
    )
    for query, message in (
        ("start=2026-13-45", "Not a valid date value."),
        ("start=2026-06-01&end=2026-01-01", "The start of the period must come before its end."),
        ("start=1990-01-01&end=2026-01-01", "The period cannot be longer than ten years."),
        ("cohort=nope", "Not a valid choice."),
    ):
        for path in (
            "/dashboard/",
            "/dashboard/export/funnel.csv",
            "/dashboard/export/pathways.csv",
        ):
            page = client.get(f"{path}?{query}")
            assert page.status_code == 400, (path, query)
            assert message in page.get_data(as_text=True), (path, query)


def test_unknown_export_is_404(client: FlaskClient, coordinator: None) -> None:
    assert client.get("/dashboard/export/people.csv").status_code == 404


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_table_exports_are_the_protected_tables_and_audited(
    client: FlaskClient, coordinator: None, world: World, db_session: Session, name: str
) -> None:
    fill(world)
    response = client.get(f"/dashboard/export/{name}.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert f"relais-{name}-publication-2026-01-01-2026-12-31.csv" in disposition
    lines = rows(response.data)
    # Every export says which view it is, on its last line; and it is the publication view
    # whatever the page showed.
    assert lines[-1][0] == "view"
    assert "Vue publication" in lines[-1][1]
    assert "de 1 à 10" in lines[-1][1]
    assert rows(client.get(f"/dashboard/export/{name}.csv?{PERIOD}&view=exact").data) == lines
    # A horizon not elapsed (cohort outcomes) reads "not yet": a count of zero people so far.
    lines = [["0" if c in ("not yet", "pas encore") else c for c in line] for line in lines[:-1]]
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))
    table = dashboard(db_session, scope, k=11).tables()[name]
    if isinstance(table, CountTable):
        published = table.published
        assert lines[0][0] == "code"
        assert len(lines) == len(table.rows) + 2
        for line, cells, total in zip(
            lines[1:], published.cells, published.row_totals, strict=False
        ):
            assert line[2:] == ["" if v is None else str(v) for v in (*cells, total)]
        totals = (*published.column_totals, published.total)
        assert lines[-1][2:] == ["" if v is None else str(v) for v in totals]
    else:
        assert [line[2] for line in lines[1:]] == [
            "" if v is None else str(v) for v in table.values
        ]
    for line in lines[1:]:
        for cell in line[2:]:
            assert cell == "" or int(cell) == 0 or int(cell) >= 11
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_EXPORT.value)
    )
    assert event is not None
    assert event.data["table"] == name


def test_hidden_cells_are_empty_in_the_csv(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    fill(world)
    lines = rows(client.get(f"/dashboard/export/handoff-matrix.csv?{PERIOD}&view=exact").data)
    header, ind_a = lines[0], lines[1]
    assert ind_a[0] == "IND-A"
    assert ind_a[header.index(world.c.name)] == ""  # 2 hand-offs
    assert ind_a[header.index(world.b.name)] == ""  # 11, but it would give the 2 away
    assert ind_a[-1] == "13"  # the row total is published


def test_pathway_export_is_pseudonymous_and_audited(
    client: FlaskClient, coordinator: None, world: World, db_session: Session
) -> None:
    fill(world, people=3)
    response = client.get(f"/dashboard/export/pathways.csv?{PERIOD}")
    lines = rows(response.data)
    assert lines[0][:6] == ["pseudonym", "age_band", "cohorts", "qpv", "event", "date"]
    assert len(lines) == 1 + 3 * 3
    assert {line[4] for line in lines[1:]} == {"step", "barrier", "handoff"}
    assert all(line[0].startswith("P-TEST-") for line in lines[1:])
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.PATHWAYS_EXPORT.value)
    )
    assert event is not None
    assert event.data["start"] == "2026-01-01"


SECRETS = ("Quintavalle", "Marguerite", "612345678", "06 12 34 56 78", "marguerite.q@", "Tilleuls")


def test_no_identity_in_any_coordinator_page_or_export(
    client: FlaskClient, db_session: Session, vault: Vault, coordinator: None, world: World
) -> None:
    worker = factories.user(db_session, email="worker@relais.example")
    person = factories.person(
        db_session,
        vault,
        worker,
        last_name="Quintavalle",
        first_name="Marguerite",
        email="marguerite.q@exemple.fr",
    )
    world.step(person, "orientation", factories.TODAY, world.a)
    world.barrier(person, "mobility", BarrierStatus.IDENTIFIED, factories.TODAY, world.b)
    world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(factories.TODAY))
    db_session.commit()
    today = factories.TODAY.isoformat()
    paths = [
        f"/dashboard/?start=2025-01-01&end={today}",
        f"/dashboard/export/pathways.csv?start=2025-01-01&end={today}",
        "/pathways/",
        f"/pathways/{person.pseudonym}",
        *(f"/dashboard/export/{name}.csv?start=2025-01-01&end={today}" for name in TABLE_NAMES),
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (path, secret)
    export = client.get(f"/dashboard/export/pathways.csv?start=2025-01-01&end={today}")
    assert person.pseudonym in export.get_data(as_text=True)


def test_network_events_mark_the_heatmap_and_the_time_axis(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    event = network_events.record_event(
        db_session,
        coordinator,
        network_events.EventInput(
            theme="Rencontre mobilité et garde d'enfants",
            held_on=date(2026, 5, 12),
            participants=18,
            structure_ids=(world.a.id, world.b.id),
        ),
        today=factories.TODAY,
    )
    fill(world)
    login(client, COORDINATOR)
    html = client.get(f"/dashboard/?{PERIOD}").get_data(as_text=True)
    section = html[html.index('id="h-network"') :]
    assert "Rencontre mobilité et garde d&#39;enfants" in section
    assert f"/network-events/{event.id}" in section
    # The two structures are marked in the heatmap (IND-A sends, IND-B receives); the event
    # is a numbered mark of the trends' time axis, linking to its page.
    assert section.count("met-label") == 2
    assert f'data-event="{event.id}"' in section
