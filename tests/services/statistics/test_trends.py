"""Quarterly trends, the network's quarter-over-quarter change and the overdue hand-offs:
exact figures equal a direct count; the publication view hides what it must."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.disclosure import protect
from app.domain.handoffs import HandoffStatus
from app.domain.periods import Quarter
from app.models import PathwayStep, ReferenceKind, Structure
from app.services.statistics.dashboard import Dashboard, View, dashboard
from app.services.statistics.headings import HandoffGroup
from app.services.statistics.scope import Scope
from app.services.statistics.sql import year_quarter
from app.services.statistics.trend_queries import AnswerTime, TrendSeries, date_quarter
from tests.world import END, START, World, at

NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)
Q1, Q2, Q3, Q4 = (Quarter(2026, n) for n in (1, 2, 3, 4))


def board(world: World, view: View = View.EXACT, k: int = 11) -> Dashboard:
    world.session.flush()
    scope = Scope(start=START, end=END)
    return dashboard(world.session, scope, k=k, view=view, now=NOW, overdue_days=10)


def test_people_by_quarter_equal_a_direct_count(world: World) -> None:
    early = world.person()
    world.step(early, "orientation", date(2025, 11, 3), world.a)  # entered before the period
    world.step(early, "training", date(2026, 2, 10), world.b)
    for n in range(3):
        person = world.person()
        world.step(person, "orientation", date(2026, 2, 1 + n), world.a)
        world.step(person, "training", date(2026, 5, 4), world.b)
        world.step(person, "training", date(2026, 5, 20), world.b)  # twice in Q2: once
        if n:
            world.step(person, "employment", date(2026, 8, 1), world.c)

    people = board(world).trends.people

    assert people.rows == (Q1, Q2, Q3, Q4)
    assert [people.cell(q, TrendSeries.ENTRIES) for q in people.rows] == [3, 0, 0, 0]
    assert [people.cell(q, TrendSeries.TRAINING) for q in people.rows] == [1, 3, 0, 0]
    assert [people.cell(q, TrendSeries.EMPLOYMENT) for q in people.rows] == [0, 0, 2, 0]
    direct = dict(
        world.session.execute(
            select(
                date_quarter(PathwayStep.started_on),
                func.count(PathwayStep.beneficiary_id.distinct()),
            )
            .where(PathwayStep.started_on >= START, PathwayStep.started_on <= END)
            .where(PathwayStep.stage_id == world.ref(ReferenceKind.STAGE, "training").id)
            .group_by(date_quarter(PathwayStep.started_on))
        ).all()
    )
    assert direct == {20261: 1, 20262: 3}


def test_medians_and_answers_within_ten_days_by_quarter(world: World) -> None:
    for days in (10, 30, 20):  # to training in Q2: median 20
        person = world.person()
        world.step(person, "orientation", date(2026, 4, 1), world.a)
        world.step(person, "training", date(2026, 4, 1) + timedelta(days=days), world.b)
    sent = at(date(2026, 2, 2))
    for receiver, status, after in (
        (world.b, HandoffStatus.ACCEPTED, 3),
        (world.b, HandoffStatus.REDIRECTED, 10),
        (world.c, HandoffStatus.ACCEPTED, 12),
        (world.c, HandoffStatus.SENT, None),  # no answer after 10 days
    ):
        world.handoff(world.person(), world.a, receiver, status, sent, answered_after=after)
    waiting = NOW - timedelta(days=3)
    world.handoff(world.person(), world.a, world.c, HandoffStatus.SENT, waiting)

    result = board(world)

    answers = result.trends.answers
    assert answers is not None
    assert answers.cell(Q1, AnswerTime.WITHIN) == 2
    assert answers.cell(Q1, AnswerTime.LATE) == 1
    assert answers.cell(Q1, AnswerTime.UNANSWERED) == 1
    assert answers.cell(Q4, AnswerTime.WAITING) == 1
    # Its quarters' totals are the hand-offs sent each quarter ("handoffs-by-quarter").
    for quarter in answers.rows:
        assert answers.row_total(quarter) == result.quarters.row_total(quarter)
    trends = {t.quarter: t for t in result.trends.quarters}
    assert trends[Q1].answered_within == pytest.approx(0.5)  # 2 of 4
    assert trends[Q4].answered_within is None  # only one waiting: nothing to measure yet
    assert trends[Q1].to_answer == pytest.approx(10.0)  # 3, 10, 12
    assert trends[Q2].to_training == pytest.approx(20.0)
    assert trends[Q3].to_training is None
    published = board(world, View.PUBLICATION)
    assert published.trends.answers is None  # never published (docs/statistics.md)
    assert all(
        t.to_training is None and t.answered_within is None for t in published.trends.quarters
    )


def test_the_publication_view_hides_small_counts_of_the_trends(world: World) -> None:
    for n in range(14):
        person = world.person()
        world.step(person, "orientation", date(2026, 2, 1) if n < 12 else date(2026, 5, 1), world.a)
    people = board(world, View.PUBLICATION).trends.people
    raw = board(world).trends.people
    assert raw.cell(Q1, TrendSeries.ENTRIES) == 12
    assert people.cell(Q2, TrendSeries.ENTRIES) is None  # 2
    assert people.published.is_small(1, 0)
    assert people.cell(Q1, TrendSeries.ENTRIES) is None  # 14 - 12 would give the 2 away
    assert not people.published.is_small(0, 0)  # "secret", not "< 11"
    assert people.published == protect([[v or 0 for v in row] for row in raw.published.cells], 11)


def test_the_change_from_one_quarter_to_the_next(world: World) -> None:
    def send(sender: Structure, receiver: Structure, quarter: Quarter, count: int) -> None:
        for _ in range(count):
            world.handoff(
                world.person(),
                sender,
                receiver,
                HandoffStatus.ACCEPTED,
                at(quarter.starts_on),
                answered_after=1,
            )

    send(world.a, world.b, Q3, 12)
    send(world.a, world.b, Q4, 15)
    send(world.b, world.a, Q3, 20)
    send(world.b, world.a, Q4, 11)
    send(world.a, world.b, Q1, 13)
    send(world.c, world.a, Q4, 2)

    exact, published = board(world), board(world, View.PUBLICATION)

    network = exact.network
    assert (network.previous, network.last) == (Q3, Q4)
    assert [network.cell(world.a, world.b).change, network.cell(world.b, world.a).change] == [
        3,
        -9,
    ]
    assert network.cell(world.c, world.a).change == 2
    assert network.cell(world.a, world.b).accepted_share == 1.0
    # The publication view splits no pair by quarter nor by state: its published count only,
    # and each receiver's accepted share from the published "by receiver" table.
    for figures in published.network.pairs.values():
        assert figures.change is None
        assert figures.accepted_share is None
    assert published.network.cell(world.a, world.b).count == 40
    assert published.network.receiver_shares[world.b.id] == 1.0  # 40 accepted of 40
    assert published.network.receiver_shares[world.a.id] == 1.0  # 33, the 2 from C included


def test_overdue_hand_offs_by_receiving_partner(world: World) -> None:
    late = [world.person() for _ in range(3)]
    world.handoff(late[0], world.a, world.b, HandoffStatus.SENT, NOW - timedelta(days=30))
    world.handoff(late[1], world.c, world.b, HandoffStatus.SENT, NOW - timedelta(days=12))
    world.handoff(late[2], world.a, world.c, HandoffStatus.SENT, NOW - timedelta(days=11))
    recent = world.person()
    world.handoff(recent, world.a, world.b, HandoffStatus.SENT, NOW - timedelta(days=9))
    answered = world.person()
    world.handoff(
        answered,
        world.a,
        world.b,
        HandoffStatus.ACCEPTED,
        NOW - timedelta(days=40),
        answered_after=2,
    )

    overdue = board(world).overdue

    assert overdue is not None
    assert overdue.total == 3
    assert [r.receiver for r in overdue.receivers] == [world.b, world.c]
    to_b = overdue.receivers[0]
    assert to_b.count == 2
    assert to_b.oldest_days == 30
    assert [h.pseudonym for h in to_b.handoffs] == [late[0].pseudonym, late[1].pseudonym]
    assert [h.sender for h in to_b.handoffs] == [world.a, world.c]
    assert overdue.receivers[1].handoffs[0].pseudonym == late[2].pseudonym
    assert board(world, View.PUBLICATION).overdue is None
    # Still "sent" past its deadline: the quarter counts it as pending too.
    assert board(world).quarters.cell(Q4, HandoffGroup.PENDING) == 4


def test_the_hand_off_quarter_and_the_date_quarter_agree(world: World) -> None:
    assert world.session.scalar(select(date_quarter(date(2026, 4, 1)))) == 20262
    assert world.session.scalar(select(date_quarter(date(2026, 3, 31)))) == 20261
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert world.session.scalar(select(year_quarter(moment))) == 20261
