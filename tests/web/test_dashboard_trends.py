"""The dashboard's trends, cooperation heatmap and overdue hand-offs, in both views."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.services.statistics.dashboard import TABLE_NAMES
from tests import factories
from tests.web.helpers import login
from tests.world import World

COORDINATOR = "coord@relais.example"
PERIOD = "start=2026-01-01&end=2026-12-31"


@pytest.fixture
def coordinator(db_session: Session, client: FlaskClient) -> None:
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    db_session.commit()
    login(client, COORDINATOR)


def fill(world: World) -> tuple[str, str]:
    """13 people handed from IND-A to IND-B two months ago; one still waiting for 30 days,
    one for 3 days (not overdue). Returns the pseudonyms of the overdue and the recent."""
    now = datetime.now(UTC)
    for _ in range(13):
        person = world.person()
        world.step(person, "orientation", (now - timedelta(days=62)).date(), world.a)
        sent = now - timedelta(days=60)
        world.handoff(person, world.a, world.b, HandoffStatus.ACCEPTED, sent, answered_after=2)
    overdue, recent = world.person(), world.person()
    world.handoff(overdue, world.a, world.c, HandoffStatus.SENT, now - timedelta(days=30))
    world.handoff(recent, world.a, world.c, HandoffStatus.SENT, now - timedelta(days=3))
    world.session.commit()
    return overdue.pseudonym, recent.pseudonym


def test_exact_view_shows_trends_heatmap_and_the_overdue_pathways(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    overdue, recent = fill(world)
    start = (date.today() - timedelta(days=300)).replace(day=1)  # noqa: DTZ011 - the page's day
    html = client.get(f"/dashboard/?start={start}").get_data(as_text=True)
    assert 'id="trends"' in html
    assert 'data-panel="counts"' in html
    assert 'data-series="entries"' in html
    assert 'id="network-map"' in html
    assert 'data-from="IND-A" data-to="IND-B" data-count="13"' in html
    assert "100 %" in html  # every answered hand-off from A to B was accepted
    section = html[html.index('id="overdue"') :]
    assert f'href="/pathways/{overdue}"' in section
    assert recent not in section
    assert 'data-receiver="IND-C"' in section
    assert "no-print" in html[html.index('id="overdue"') - 80 : html.index('id="overdue"')]


def test_publication_view_has_no_overdue_list_and_hides_small_cells(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    overdue, _recent = fill(world)
    start = (date.today() - timedelta(days=300)).replace(day=1)  # noqa: DTZ011 - the page's day
    html = client.get(f"/dashboard/?start={start}&view=publication").get_data(as_text=True)
    assert 'id="overdue"' not in html
    assert overdue not in html
    assert 'id="trends"' in html
    assert 'data-from="IND-A" data-to="IND-C" data-count=""' in html  # 2 hand-offs: hidden
    assert "&lt; 11" in html


@pytest.mark.parametrize("name", ["quarterly-trends"])
def test_trend_exports_say_they_are_the_publication_view(
    client: FlaskClient, coordinator: None, world: World, name: str
) -> None:
    fill(world)
    response = client.get(f"/dashboard/export/{name}.csv?{PERIOD}&view=exact")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert f"relais-{name}-publication-2026-01-01-2026-12-31.csv" in disposition
    lines = response.get_data(as_text=True).splitlines()
    assert lines[-1].startswith('"view"')
    for line in lines[1:-1]:
        for cell in line.split(";")[2:]:
            cell = cell.strip('"')
            assert cell == "" or int(cell) == 0 or int(cell) >= 11


def test_no_export_lists_the_overdue_pathways(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    overdue, _recent = fill(world)
    start = (date.today() - timedelta(days=300)).replace(day=1)  # noqa: DTZ011
    for name in TABLE_NAMES:
        text = client.get(f"/dashboard/export/{name}.csv?start={start}").get_data(as_text=True)
        assert overdue not in text, name
