"""The pathway chart: lanes, spans, markers and arrows computed from a timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, end_follow_up, timeline
from app.services.security.vault import Vault
from app.web.pathways.timeline_chart import LEFT, WIDTH, build_chart
from tests import factories
from tests.web.helpers import login


def _label(item: object) -> str:
    return str(item.code)  # type: ignore[attr-defined]


def test_chart_of_a_pathway_across_two_structures(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    a = factories.structure(db_session, "CHA")
    b = factories.structure(db_session, "CHB")
    worker_a = factories.user(db_session, structure_=a)
    worker_b = factories.user(db_session, structure_=b, email="chb@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="chart-coord@relais.example")
    person = factories.person(db_session, vault, worker_a)  # followed by A from TODAY
    add_step(
        db_session, vault, worker_a, person, stage_code="orientation", started_on=date(2026, 11, 2)
    )
    barrier = add_barrier(
        db_session,
        worker_a,
        person,
        category_code="mobility",
        identified_on=date(2026, 11, 3),
        acting_structure_id=b.id,
    )
    handoff = send_handoff(
        db_session,
        vault,
        worker_a,
        person,
        to_structure=b,
        now=datetime(2026, 11, 5, 10, tzinfo=UTC),
        purpose_barrier=barrier,
        consent_confirmed=True,
    )
    apply_event(
        db_session,
        vault,
        worker_b,
        handoff,
        HandoffEvent.ACCEPT,
        now=datetime(2026, 11, 6, tzinfo=UTC),
    )
    end_follow_up(db_session, worker_a, person, reason_code="handed_off", on=factories.TODAY)
    chart = build_chart(timeline(db_session, person), date(2026, 12, 20), _label)
    assert [name for _y, name in chart.lanes] == ["Structure " + str(n) for n in _numbers(a, b)]
    assert len(chart.arrows) == 1
    arrow = chart.arrows[0]
    assert arrow.y1 < arrow.y2  # from A's lane down to B's
    assert arrow.status == "accepted"
    assert len(chart.markers) == 1
    assert chart.markers[0].status == "identified"
    (span,) = chart.spans
    assert span.stage == "orientation"
    # The step of A ends with A's follow-up (25 Nov), not "today" (20 Dec).
    band_a = next(band for band in chart.bands if abs(band.y + 16 - chart.lanes[0][0]) < 0.1)
    assert span.x + span.width <= band_a.x + band_a.width + 0.1
    shapes = [
        *(s.x for s in chart.spans),
        *(m.x for m in chart.markers),
        *(a.x for a in chart.arrows),
    ]
    assert all(LEFT <= x <= WIDTH for x in shapes)
    db_session.commit()
    client = app.test_client()
    login(client, "chart-coord@relais.example")
    page = client.get(f"/pathways/{person.pseudonym}").get_data(as_text=True)
    assert 'role="img"' in page
    assert page.count('class="arrow state-accepted"') == 1
    assert "Zephyrin" not in page


def _numbers(*structures: object) -> list[str]:
    return [s.name.split()[-1] for s in structures]  # type: ignore[attr-defined]


def test_chart_of_an_empty_pathway(
    app: Flask, client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    chart = build_chart(timeline(db_session, person), factories.TODAY, _label)
    assert len(chart.lanes) == 1  # the registering structure follows the person
    assert chart.spans == []
    assert chart.arrows == []
    assert chart.ticks
