"""The CDE report (issue 15, item 6): one quarter of the whole territory, each family of
tables exactly the one its own page publishes (same suppression), and the hand-off delays by
receiving structure without counts."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.handoffs import HandoffStatus
from app.domain.periods import Quarter
from app.services.errors import InvalidInput
from app.services.statistics.decisions import DecisionKind, decisions_by_type
from app.services.statistics.delay_queries import DelayLeg
from app.services.statistics.handoffs import HandoffGroup
from app.services.statistics.report import (
    HANDOFF_LEGS,
    Settings,
    cde_report,
    last_full_quarter,
    parse_quarter,
)
from app.services.statistics.scope import Scope
from app.services.statistics.unmet_needs import unmet_needs
from tests.services.statistics.test_delays import TODAY, known_world
from tests.world import World, at

Q1 = Quarter(2026, 1)


def settings(k: int) -> Settings:
    return Settings(k=k, target=15, contract=30, lost_days=90, contact_days=30)


@pytest.mark.parametrize(
    ("text", "quarter"),
    [("2026-3", Quarter(2026, 3)), ("2026-Q4", Quarter(2026, 4)), (" 2025-q1 ", Quarter(2025, 1))],
)
def test_a_quarter_is_read_as_typed(text: str, quarter: Quarter) -> None:
    assert parse_quarter(text) == quarter


@pytest.mark.parametrize("text", ["", "2026", "2026-5", "2026-Q0", "Q3-2026", "1999-1", "x" * 80])
def test_a_wrong_quarter_is_a_form_error(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_quarter(text)
    assert raised.value.field == "quarter"


def test_the_default_quarter_is_the_last_full_one() -> None:
    assert last_full_quarter(date(2026, 11, 25)) == Quarter(2026, 3)
    assert last_full_quarter(date(2026, 2, 1)) == Quarter(2025, 4)
    assert last_full_quarter(date(2026, 4, 1)) == Quarter(2026, 1)


def test_exact_report_of_a_known_quarter(world: World) -> None:
    known_world(world)
    report = cde_report(world.session, Q1, settings(1), today=TODAY)
    assert report.scope == Scope(start=date(2026, 1, 1), end=date(2026, 3, 31))
    by_type = report.decisions.by_type
    assert by_type.published.total == 3  # p1, p2, p3 decided in the first quarter
    assert by_type.column_total(DecisionKind.FIRST) == 3
    # One hand-off sent in the quarter: p1 to B, accepted.
    assert report.outcomes.rows == (world.b,)
    assert report.outcomes.cell(world.b, HandoffGroup.ACCEPTED) == 1
    assert report.outcomes.published.total == 1
    assert report.registration.published.total == 4
    answer = next(leg for leg in report.delays if leg.leg is DelayLeg.SENT_TO_ANSWER)
    (line,) = answer.lines
    assert line.heading == world.b
    assert line.within_target == 1.0  # answered after 3 days
    assert line.median == 3
    assert set(report.tables()) >= {"decisions-by-type", "handoffs-by-receiver", "lost_from_view"}


def test_the_published_report_hides_as_the_pages_do(world: World) -> None:
    known_world(world)
    k = 11
    report = cde_report(world.session, Q1, settings(k), today=TODAY)
    scope = report.scope
    assert report.decisions == decisions_by_type(world.session, scope, k)
    assert report.unmet == unmet_needs(world.session, scope, k)
    assert report.outcomes.published.total is None  # 1 hand-off: below the threshold
    for leg in report.delays:
        if leg.leg in HANDOFF_LEGS:
            assert leg.overall.settled is None  # no count of the hand-off legs is published
            assert all(line.settled is None for line in leg.lines)
        assert all(line.within_target is None and line.median is None for line in leg.lines)


def test_hand_off_delays_show_shares_only_where_the_outcomes_row_is_published(
    world: World,
) -> None:
    people = [world.person() for _n in range(12)]
    for person in people:
        world.follow(person, world.a)
        world.handoff(person, world.a, world.b, HandoffStatus.ACCEPTED, at(date(2026, 2, 2)),
                      answered_after=3, contact_after=5)  # fmt: skip
        world.handoff(person, world.a, world.c, HandoffStatus.ACCEPTED, at(date(2026, 2, 3)),
                      answered_after=2, contact_after=4)  # fmt: skip
    for person in people[:2]:  # two declines by C: a small count in its row
        world.handoff(person, world.a, world.c, HandoffStatus.DECLINED, at(date(2026, 2, 4)),
                      answered_after=1, reason="no_capacity")  # fmt: skip
    world.session.flush()
    report = cde_report(world.session, Q1, settings(11), today=TODAY)
    assert report.outcomes.cell(world.b, HandoffGroup.ACCEPTED) == 12
    assert report.outcomes.row_total(world.b) == 12
    answer = next(leg for leg in report.delays if leg.leg is DelayLeg.SENT_TO_ANSWER)
    shares = {line.heading: line.within_target for line in answer.lines}
    assert shares[world.b] == 1.0
    assert shares.get(world.c) is None
