"""The dashboard's flows between stages (Sankey) and cohort outcomes: both views render with
their tables, hidden flows are never drawn to scale, and the exports are the publication
view, with "not yet" where a horizon has not elapsed."""

from __future__ import annotations

import csv
import importlib
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import Beneficiary
from tests import factories
from tests.services.statistics.flow_reference import add_step
from tests.web.helpers import login
from tests.world import World

PERIOD = "start=2026-01-01&end=2026-12-31"
COORDINATOR = "coord@relais.example"
_recorded = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's today: 25 November 2026 (horizons elapsed, ends read on it)."""
    views = importlib.import_module("app.web.dashboard.views")
    monkeypatch.setattr(views, "today", lambda: date(2026, 11, 25))


@pytest.fixture
def coordinator(db_session: Session, client: FlaskClient) -> None:
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    db_session.commit()
    login(client, COORDINATOR)


def step(world: World, person: Beneficiary, stage: str, day: date) -> None:
    add_step(world, person.id, stage, day, next(_recorded))


def fill(world: World) -> None:
    """Twelve people oriented in February then trained in March; three of them back to
    orientation in April (a flow back); one employed in May."""
    for n in range(12):
        person = world.person()
        step(world, person, "orientation", date(2026, 2, 2))
        step(world, person, "training", date(2026, 3, 2))
        if n < 3:
            step(world, person, "orientation", date(2026, 4, 1))
        if n == 5:
            step(world, person, "employment", date(2026, 5, 4))
    world.session.commit()


def link_values(html: str) -> list[str]:
    return re.findall(r'class="flow-link[^"]*"[^>]*data-value="([^"]*)"', html)


def test_both_views_draw_the_flows_and_the_outcomes(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    fill(world)
    page = client.get(f"/dashboard/?{PERIOD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for found in ('id="stage-flows"', 'id="flows-title"', 'id="cohort-outcomes"'):
        assert found in html
    assert 'id="outcomes-1-title"' in html
    assert 'id="outcomes-2-title"' in html
    assert 'id="cohort-outcomes-table"' in html
    # Exact: orientation -> training 12, training -> orientation 3 (back), training ->
    # employment 1; the ends: 8 lost at training (March), 3 lost at orientation, 1 at work.
    assert sorted(link_values(html), key=int) == ["1", "1", "3", "3", "8", "12"]
    assert "flow-back" in html
    assert "flow-hidden" not in html
    assert 'data-quarter="2026-Q1"' in html

    html = client.get(f"/dashboard/?{PERIOD}&view=publication").get_data(as_text=True)
    shown = link_values(html)
    assert all(v == "" or int(v) >= 11 for v in shown)
    assert "" in shown  # hidden flows are drawn, dashed, at no width
    assert 'class="flow-link stage-training flow-hidden' in html
    assert 'stroke-width="1.5" data-value=""' in html


def test_flow_and_outcome_exports_are_the_publication_view(
    client: FlaskClient, coordinator: None, world: World
) -> None:
    fill(world)
    for name in ("stage-flows", "cohort-outcomes-training", "cohort-outcomes-employment"):
        response = client.get(f"/dashboard/export/{name}.csv?{PERIOD}&view=exact")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert f"relais-{name}-publication-2026-01-01-2026-12-31.csv" in disposition
        lines = list(csv.reader(io.StringIO(response.data.decode()[1:]), delimiter=";"))
        assert lines[-1][0] == "view"
        for line in lines[1:-1]:
            for cell in line[2:]:
                assert cell in ("", "not yet", "pas encore") or int(cell) in (0,) or int(cell) >= 11
        if name == "cohort-outcomes-training":
            # Q1 2026: the 12 entrants, trained within 3 months; 12 months not yet elapsed.
            q1 = next(line for line in lines if line[0] == "2026-Q1")
            assert q1[2] == "12"
            assert q1[-1] == "12"
            assert q1[4] in ("not yet", "pas encore")


def test_the_page_reads_the_lost_from_view_setting(
    app: Flask,
    client: FlaskClient,
    coordinator: None,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``RELAIS_LOST_FROM_VIEW_DAYS`` at 400, nobody of ``fill`` is lost (their last
    steps are of February to May, the ends read on 25 November)."""
    fill(world)
    monkeypatch.setitem(app.config, "LOST_FROM_VIEW_DAYS", 400)
    html = client.get(f"/dashboard/?{PERIOD}").get_data(as_text=True)
    desc = re.search(r'<desc id="flows-desc">([^<]*)</desc>', html)
    assert desc is not None
    assert "400" in desc.group(1)
    response = client.get(f"/dashboard/export/stage-flows.csv?{PERIOD}")
    lines = list(csv.reader(io.StringIO(response.data.decode()[1:]), delimiter=";"))
    lost = lines[0].index(lines[0][-2])  # the "lost from view" column, before the total
    assert [line[lost] for line in lines[1:-1]] == ["0"] * (len(lines) - 2)
    monkeypatch.setitem(app.config, "LOST_FROM_VIEW_DAYS", 90)
    response = client.get(f"/dashboard/export/stage-flows.csv?{PERIOD}")
    lines = list(csv.reader(io.StringIO(response.data.decode()[1:]), delimiter=";"))
    assert lines[-2][lost] != "0"  # 8 + 3 lost (a total of the publication view)
