"""The pathway chart: lanes, spans, markers and arrows computed from a timeline; an axis fitted
to the data, the events of one day side by side in their recorded order; a legend inside the
drawing; marks that link to the chronology."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import ReferenceKind
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, end_follow_up, timeline
from app.services.security.vault import Vault
from app.services.structures import reference_items
from app.web.pathways.timeline_axis import DAY, GAP, MONTH, QUARTER, WEEK, fit, tick_unit
from app.web.pathways.timeline_chart import LEFT, Chart, build_chart
from tests import factories, pathway_scenes
from tests.web.helpers import login

# No two marks closer than this (user units): a dot is 10 wide, an arrow's head 10.
MIN_DISTANCE = 12


def _label(item: object) -> str:
    return str(item.code)  # type: ignore[attr-defined]


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    """Dates and legend texts are written in the request's language."""
    with app.test_request_context():
        yield


def _positions(chart: Chart) -> list[tuple[int, float]]:
    """(line of the chronology, x) of every mark, in the chronology's order."""
    found = [(int(m.anchor.removeprefix("entry-")), m.x) for m in chart.marks()]
    return sorted(found)


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
    db_session.commit()  # (the end of the request context below drops what is not committed)
    with app.test_request_context():
        chart = build_chart(timeline(db_session, person), date(2026, 12, 20), _label)
    assert [lane.name for lane in chart.lanes] == [a.name, b.name]
    (arrow,) = chart.arrows
    assert arrow.y1 < arrow.y2  # from A's lane down to B's
    assert arrow.status == "accepted"
    (marker,) = chart.markers
    assert marker.status == "identified"
    assert [answer.status for answer in chart.answers] == ["accepted"]  # on B's lane
    assert chart.answers[0].y < chart.lanes[1].y
    (span,) = chart.spans
    assert span.stage == "orientation"
    # The step of A ends with A's follow-up (25 Nov), not "today" (20 Dec).
    band_a = next(band for band in chart.bands if abs(band.y + 26 - chart.lanes[0].y) < 0.1)
    assert span.x + span.width <= band_a.x + band_a.width + 0.1
    assert chart.today_x is not None  # B still follows: the axis runs to today
    assert all(LEFT <= m.x <= chart.width for m in chart.marks())
    # The axis starts with the data (2 Nov, less a small margin), not on the 1st of a month.
    assert chart.start is not None
    assert date(2026, 10, 30) <= chart.start <= date(2026, 11, 2)
    assert {t.unit for t in chart.ticks} == {WEEK}  # seven weeks: weekly ticks
    client = app.test_client()
    login(client, "chart-coord@relais.example")
    page = client.get(f"/pathways/{person.pseudonym}").get_data(as_text=True)
    assert 'role="group"' in page
    assert page.count('class="mark arrow state-accepted"') == 1
    assert "Zephyrin" not in page
    # Every mark links to a line of the chronology on the same page.
    links = set(re.findall(r'href="#(entry-\d+)"', page))
    ids = set(re.findall(r'id="(entry-\d+)"', page))
    assert links
    assert links <= ids


def test_one_busy_day_spreads_its_events_in_their_order(
    db_session: Session, vault: Vault, in_request: None
) -> None:
    people = pathway_scenes.cast(db_session, "DAY")
    person = pathway_scenes.one_busy_day(db_session, vault, people, factories.TODAY)
    tl = timeline(db_session, person)
    chart = build_chart(tl, factories.TODAY, _label)
    positions = _positions(chart)
    assert len(positions) == 6  # 2 steps, 1 barrier, 1 arrow, 1 acceptance, 1 first contact
    assert {e.on for e in tl.entries()} == {factories.TODAY}
    # In the chronology's order, left to right, never closer than MIN_DISTANCE.
    for (_n1, x1), (_n2, x2) in pairwise(positions):
        assert x2 - x1 >= MIN_DISTANCE
    # Marks of the same lane and row (same y) never overlap either.
    rows: dict[float, list[float]] = {}
    for m in [*chart.spans, *chart.markers, *chart.answers]:
        rows.setdefault(m.y, []).append(m.x)
    for xs in rows.values():
        assert all(b - a >= MIN_DISTANCE for a, b in pairwise(sorted(xs)))
    assert {t.unit for t in chart.ticks} == {DAY}
    assert chart.widened  # the busy day is marked as such
    # The long name of the second structure wraps on lines instead of being cut.
    lines = [text for _dy, text in chart.lanes[1].lines]
    assert len(lines) in (2, 3)
    assert " ".join(lines).replace("…", "").split()[:6] == pathway_scenes.LONG_NAME.split()[:6]


def test_long_pathway_reads_in_months(db_session: Session, vault: Vault, in_request: None) -> None:
    people = pathway_scenes.cast(db_session, "LNG")
    person = pathway_scenes.long_pathway(db_session, vault, people, factories.TODAY)
    chart = build_chart(timeline(db_session, person), factories.TODAY, _label)
    assert {t.unit for t in chart.ticks} == {MONTH}
    positions = _positions(chart)
    assert [x for _n, x in positions] == sorted(x for _n, x in positions)
    assert all(b - a >= MIN_DISTANCE for (_n, a), (_m, b) in pairwise(positions))
    statuses = [m.status for m in chart.markers]
    assert statuses == ["identified", BarrierStatus.LIFTED.value]  # identified, then lifted
    assert len(chart.barrier_lines) == 1
    assert [a.status for a in chart.arrows] == ["declined", "completed"]
    labelled = [t.x for t in chart.ticks if t.labelled]
    assert all(b - a >= 40 for a, b in pairwise(labelled))  # tick labels never touch


def test_axis_fits_the_data() -> None:
    busy = date(2026, 3, 10)
    axis = fit({busy: 6}, busy, busy, 100, 700)
    assert axis.start == axis.end == busy
    xs = [axis.slot(busy, k, 6) for k in range(6)]
    assert all(b - a >= GAP for a, b in pairwise(xs))
    # A month with one busy day: the day is wide enough for its events, the others share.
    axis = fit({busy: 6, busy + timedelta(days=20): 1}, busy, busy + timedelta(days=25), 0, 700)
    assert axis.until(busy) - axis.at(busy) >= 6 * GAP
    assert round(axis.right - axis.left, 1) == 700 - 24  # the room less the two paddings
    # Too many events for the room: the axis grows rather than letting them overlap.
    crowded = {busy + timedelta(days=n): 5 for n in range(20)}
    axis = fit(crowded, busy, busy + timedelta(days=19), 0, 700)
    assert axis.right - axis.left >= 100 * GAP


def test_a_pathway_over_years_fits_its_room() -> None:
    """A unit a day drew 3.5 years at 60 % of the letters' size, 26 years as a strip."""
    first = date(2000, 1, 1)
    for years in (3.5, 10, 26):
        last = first + timedelta(days=round(365.25 * years))
        axis = fit({first: 2, last: 3}, first, last, 0, 800)
        assert axis.right - axis.left <= 800 - 24 + 0.01, years
        assert axis.until(first) - axis.at(first) >= 2 * GAP  # the busy days keep their room
    # Busy days needing more than the room: the axis grows by them, the quiet years a quarter.
    crowded = {first + timedelta(days=n): 5 for n in range(0, 40)}
    last = first + timedelta(days=9000)
    axis = fit(crowded, first, last, 0, 800)
    assert 40 * 5 * GAP <= axis.right - axis.left <= 40 * 5 * GAP + 800 / 4 + 1


@pytest.mark.parametrize(
    ("days", "unit"),
    [(1, DAY), (3, DAY), (28, DAY), (60, WEEK), (120, WEEK), (200, MONTH), (900, QUARTER)],
)
def test_tick_unit_follows_the_length(days: int, unit: str) -> None:
    assert tick_unit(days) == unit
    start = date(2025, 1, 15)
    axis = fit({}, start, start + timedelta(days=days - 1), 0, 800)
    ticks = axis.ticks()
    assert ticks
    assert {t.unit for t in ticks} == {tick_unit((axis.end - axis.start).days + 1)}


def test_legend_lists_every_active_stage_and_status(
    db_session: Session, vault: Vault, in_request: None
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    stages = reference_items(db_session, ReferenceKind.STAGE)
    chart = build_chart(timeline(db_session, person), factories.TODAY, _label, stages)
    assert chart.legend is not None
    classes = {k.css for k in chart.legend.keys}
    assert {f"stage-{s.code}" for s in stages} <= classes
    assert {f"barrier-{s.value}" for s in BarrierStatus} <= classes
    assert {"state-sent", "state-completed", "state-declined", "state-withdrawn"} <= classes
    assert {"contact", "band", "today", "widened"} <= classes
    # Inside the drawing, under the lanes; no key runs past the right edge.
    assert chart.legend.top > chart.plot_bottom
    assert chart.height >= chart.legend.top + chart.legend.height
    assert all(k.x < chart.width for k in chart.legend.keys)


def test_chart_of_an_empty_pathway(
    app: Flask, client: FlaskClient, db_session: Session, vault: Vault, in_request: None
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    chart = build_chart(timeline(db_session, person), factories.TODAY, _label)
    assert len(chart.lanes) == 1  # the registering structure follows the person
    assert chart.spans == []
    assert chart.arrows == []
    assert chart.ticks


def test_a_wrapped_lane_name_reads_with_its_spaces(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    # The chart is a group whose texts assistive technologies read: the lines of a wrapped
    # name must not run together ("du Territoirede Belfort").
    people = pathway_scenes.cast(db_session, "SPC")
    person = pathway_scenes.one_busy_day(db_session, vault, people, factories.TODAY)
    db_session.commit()
    login(client, people.first_worker.email, pathway_scenes.PASSWORD)
    page = client.get(f"/people/{person.pseudonym}").get_data(as_text=True)
    labels = re.findall(r'<text class="lane-label"[^>]*>(.*?)</text>', page, re.S)
    read = [re.sub(r"<title>.*?</title>|<[^>]+>", "", label) for label in labels]
    wrapped = next(text for text in read if "Territoire" in text)
    words = pathway_scenes.LONG_NAME.split()
    assert " ".join(wrapped.replace("…", "").split())[:40] == " ".join(words)[:40]
    assert wrapped.split()[: len(words) - 3] == words[: len(words) - 3]
