"""People lost from view: the exact list and counts on a known world, the two thresholds,
the exclusions (ended pathway, closed follow-up, erased), the coordinators' list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.domain.lost_from_view import LostReason
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, ReferenceKind
from app.services.errors import Forbidden
from app.services.pathways import stale_people
from app.services.people.lost import lost_from_view, referent_lost
from app.services.people.overview import Filters, Situation, Sort, caseload
from app.services.statistics.headings import Heading
from app.services.statistics.lost import (
    kept_lost_branches,
    kept_reason,
    lost_from_view_counts,
    lost_people_query,
    lost_query,
    lost_reasons,
    lost_today,
)
from app.services.statistics.scope import Scope
from app.services.statistics.steering_index import steering_figures
from app.services.statistics.tables import CountTable
from tests import factories
from tests.sql_count import count_queries
from tests.world import END, START, World, at

DAY = END  # 2026-12-31


@pytest.fixture
def lost_world(world: World) -> dict[str, object]:
    w = world
    people = {}
    # p1: last event on 1 June at A: no news for 213 days.
    p1 = people["p1"] = w.person()
    w.follow(p1, w.a)
    w.step(p1, "orientation", date(2026, 6, 1), w.a)
    # p2: a step at B on 1 December: news.
    p2 = people["p2"] = w.person()
    w.follow(p2, w.a)
    w.step(p2, "orientation", date(2026, 12, 1), w.b)
    # p3: in employment since March: the pathway ended.
    p3 = people["p3"] = w.person()
    w.follow(p3, w.a)
    w.step(p3, "employment", date(2026, 3, 1), w.a)
    # p4: news on 1 December, but a hand-off accepted on 1 November without a first contact.
    p4 = people["p4"] = w.person()
    w.follow(p4, w.a)
    w.step(p4, "orientation", date(2026, 12, 1), w.a)
    w.handoff(p4, w.a, w.b, HandoffStatus.ACCEPTED, at(date(2026, 10, 31)), answered_after=1)
    # p5: no news, but the follow-up ended: not followed any more.
    p5 = people["p5"] = w.person()
    w.session.add(
        FollowUp(
            beneficiary_id=p5.id, structure_id=w.a.id, started_on=START, ended_on=date(2026, 7, 1)
        )
    )
    # p6: no news since June at C (a recent acceptance without contact: no news counts first).
    p6 = people["p6"] = w.person()
    w.follow(p6, w.a)
    w.step(p6, "orientation", date(2026, 6, 1), w.c)
    w.handoff(p6, w.a, w.b, HandoffStatus.ACCEPTED, at(date(2026, 12, 19)), answered_after=1)
    # p7: erased.
    p7 = people["p7"] = w.person()
    w.follow(p7, w.a)
    p7.erased_at = datetime(2026, 12, 1, tzinfo=UTC)
    # p8: accepted long ago, first contact made: news only from the step in December.
    p8 = people["p8"] = w.person()
    w.follow(p8, w.a)
    w.step(p8, "orientation", date(2026, 12, 1), w.a)
    w.handoff(
        p8, w.a, w.b, HandoffStatus.ACCEPTED, at(date(2026, 9, 1)), answered_after=1,
        contact_after=3,
    )  # fmt: skip
    w.session.flush()
    return people


def _lost(session: Session, days: int = 90, contact_days: int = 30) -> dict[object, tuple]:
    return {
        person: (structure, reason)
        for person, _day, structure, reason in session.execute(
            lost_people_query(DAY, days, contact_days)
        )
    }


def test_the_people_lost_from_view_and_why(world: World, lost_world: dict) -> None:
    p = lost_world
    assert _lost(world.session) == {
        p["p1"].id: (world.a.id, 1),
        p["p6"].id: (world.c.id, 1),
        p["p4"].id: (world.a.id, 2),
    }


def test_the_thresholds_are_settings(world: World, lost_world: dict) -> None:
    p = lost_world
    # 300 days without news: only the hand-off without contact remains.
    assert set(_lost(world.session, days=300)) == {p["p4"].id}
    # Accepted on 1 November: 60 days before 31 December, not 61.
    assert p["p4"].id in _lost(world.session, contact_days=60)
    assert p["p4"].id not in _lost(world.session, contact_days=61)


def test_counts_by_last_structure_and_reason(world: World, lost_world: dict) -> None:
    scope = Scope(start=START, end=END)
    table: CountTable = lost_from_view_counts(world.session, scope, 1, 90, today=date(2027, 1, 10))
    assert table.rows == (world.a, world.c)
    assert table.columns == (LostReason.NO_NEWS, LostReason.NO_FIRST_CONTACT)
    assert table.cell(world.a, LostReason.NO_NEWS) == 1
    assert table.cell(world.a, LostReason.NO_FIRST_CONTACT) == 1
    assert table.cell(world.c, LostReason.NO_NEWS) == 1
    assert table.published.total == 3
    # Publication view: every count below 11 is hidden.
    hidden = lost_from_view_counts(world.session, scope, 11, 90, today=date(2027, 1, 10))
    assert hidden.cell(world.a, LostReason.NO_NEWS) is None
    # A period ending in June reads the state of 30 June: p2, p4, p5 (its follow-up ended in
    # July) and p8 had no news since their follow-ups started on 1 January; p1 and p6 had a
    # step on 1 June; p3 was in employment.
    june = Scope(start=START, end=date(2026, 6, 30))
    early = lost_from_view_counts(world.session, june, 1, 90, today=date(2027, 1, 10))
    assert early.rows == (world.a,)
    assert early.cell(world.a, LostReason.NO_NEWS) == 4


def test_counts_keep_the_population(world: World, lost_world: dict) -> None:
    graduate = world.ref(ReferenceKind.COHORT, "young_graduate")
    lost_world["p1"].cohorts = [graduate]
    world.session.flush()
    scope = Scope(start=START, end=END, cohort=graduate)
    table = lost_from_view_counts(world.session, scope, 1, today=date(2027, 1, 10))
    assert table.rows == (world.a,)
    assert table.published.total == 1


def test_a_person_without_structure_behind_the_last_event(world: World) -> None:
    person = world.person()
    world.follow(person, world.a)
    world.barrier(person, "mobility", BarrierStatus.IDENTIFIED, date(2026, 5, 1), None)
    world.session.flush()
    table = lost_from_view_counts(
        world.session, Scope(start=START, end=END), 1, today=date(2027, 1, 10)
    )
    assert table.rows == (Heading.NO_STRUCTURE,)


def test_the_coordinators_list(world: World, lost_world: dict) -> None:
    coordinator = factories.user(world.session, Role.COORDINATOR)
    p = lost_world
    page = lost_from_view(
        world.session, coordinator, filters=Filters(), page=1, today=DAY, days=90,
        contact_days=30,
    )  # fmt: skip
    assert page.total == 3
    # Longest silence first.
    assert [row.person for row in page.items] == [p["p1"], p["p6"], p["p4"]] or [
        row.person for row in page.items
    ] == [p["p6"], p["p1"], p["p4"]]
    assert {row.person.id: row.reason for row in page.items}[p["p4"].id] is (
        LostReason.NO_FIRST_CONTACT
    )
    assert page.items[0].last_event_on == date(2026, 6, 1)
    only_a = lost_from_view(
        world.session, coordinator, filters=Filters(structure="IND-A"), page=1, today=DAY,
        days=90, contact_days=30,
    )  # fmt: skip
    assert {row.person for row in only_a.items} == {p["p1"], p["p4"]}
    small = lost_from_view(
        world.session, coordinator, filters=Filters(), page=2, today=DAY, days=90,
        contact_days=30, per_page=2,
    )  # fmt: skip
    assert (small.page, small.pages, len(small.items)) == (2, 2, 1)
    beyond = lost_from_view(
        world.session, coordinator, filters=Filters(), page=9, today=DAY, days=90,
        contact_days=30, per_page=2,
    )  # fmt: skip
    assert (beyond.page, beyond.total, beyond.items) == (2, 3, small.items)
    nobody = lost_from_view(
        world.session, coordinator, filters=Filters(structure="NOPE"), page=3, today=DAY,
        days=90, contact_days=30,
    )  # fmt: skip
    assert (nobody.page, nobody.total, nobody.items) == (1, 0, [])
    worker = factories.user(world.session, Role.CASEWORKER, world.a)
    with pytest.raises(Forbidden):
        lost_from_view(
            world.session, worker, filters=Filters(), page=1, today=DAY, days=90,
            contact_days=30,
        )  # fmt: skip


def test_a_referent_sees_their_own(world: World, lost_world: dict) -> None:
    worker = factories.user(world.session, Role.CASEWORKER, world.a)
    other = factories.user(world.session, Role.CASEWORKER, world.a)
    follow_ups = world.session.query(FollowUp).filter(
        FollowUp.beneficiary_id.in_([lost_world["p1"].id, lost_world["p4"].id])
    )
    for follow_up in follow_ups:
        follow_up.referent_id = worker.id
    world.session.flush()
    mine, total, exact = referent_lost(
        world.session, worker, today=DAY, days=90, contact_days=30, shown=5, limit=100
    )
    assert [row.person for row in mine] == [lost_world["p1"], lost_world["p4"]]
    assert (total, exact) == (2, True)
    assert [(row.structure, row.reason) for row in mine] == [
        (world.a, LostReason.NO_NEWS),
        (world.a, LostReason.NO_FIRST_CONTACT),
    ]
    # Cut to the shown rows, the count still says how many there are.
    first, total, exact = referent_lost(
        world.session, worker, today=DAY, days=90, contact_days=30, shown=1, limit=100
    )
    assert ([row.person for row in first], total, exact) == ([lost_world["p1"]], 2, True)
    # Past its bound, the count says "more than".
    first, total, exact = referent_lost(
        world.session, worker, today=DAY, days=90, contact_days=30, shown=1, limit=1
    )
    assert ([row.person for row in first], total, exact) == ([lost_world["p1"]], 1, False)
    none = referent_lost(
        world.session, other, today=DAY, days=90, contact_days=30, shown=5, limit=100
    )
    assert none == ([], 0, True)
    # The whole list, a page at a time: the caseload filtered to them (``situation``).
    lost_mine = Filters(mine=True, situation=Situation.LOST)
    page = caseload(world.session, worker, today=DAY, filters=lost_mine, sort=Sort.IDLE)
    assert [row.person for row in page.items] == [lost_world["p1"], lost_world["p4"]]
    assert (page.total, page.exact) == (2, True)
    everyone = caseload(world.session, worker, today=DAY, filters=Filters(situation=Situation.LOST))
    assert {row.person.id for row in everyone.items} == {
        lost_world[name].id for name in ("p1", "p4", "p6")
    }
    assert caseload(world.session, other, today=DAY, filters=lost_mine).items == []
    # Why each one is, from their kept day, as the referent's list says it.
    assert [kept_reason(row.person.last_event_on, DAY, 90) for row in page.items] == [
        row.reason for row in mine
    ]


def test_the_latest_step_up_to_the_day_says_whether_the_pathway_ended(world: World) -> None:
    """Only the latest step up to the as-of day counts: a person back from employment is lost
    from view again, one who reached employment after orientation is not, a final step after
    the day does not end the pathway yet, and a person without any step is not ended."""
    w = world
    back = w.person()  # employment in March, orientation again in May
    w.follow(back, w.a)
    w.step(back, "employment", date(2026, 3, 1), w.a)
    w.step(back, "orientation", date(2026, 5, 1), w.a)
    reached = w.person()  # orientation in February, employment in May
    w.follow(reached, w.a)
    w.step(reached, "orientation", date(2026, 2, 1), w.a)
    w.step(reached, "employment", date(2026, 5, 1), w.a)
    later = w.person()  # orientation in February, employment after the as-of day
    w.follow(later, w.a)
    w.step(later, "orientation", date(2026, 2, 1), w.a)
    w.step(later, "employment", date(2026, 7, 1), w.a)
    stepless = w.person()  # followed since January, nothing else
    w.follow(stepless, w.a)
    w.session.flush()
    day = date(2026, 6, 30)
    found = {
        person: reason
        for person, _day, _structure, reason in w.session.execute(lost_people_query(day, 30, 30))
    }
    assert found == {back.id: 1, later.id: 1, stepless.id: 1}


def _rows(session: Session, query: Any) -> set[tuple[object, ...]]:
    """The rows of a lost-from-view query, days as ISO text (SQLite's unions give text)."""
    return {(person, str(day)[:10], *rest) for person, day, *rest in session.execute(query)}


def test_today_read_from_the_kept_state_is_the_list_computed_from_the_events(
    world: World, lost_world: dict
) -> None:
    """For today, the kept pathway state gives the same people, last days, last structures
    and reasons as the events - with the events dated after today (a job starting later),
    which the kept day counts and today's does not, and ties on the latest day."""
    w = world
    # p9: orientation in June, a job starting after today: lost today (the job has not begun).
    p9 = w.person()
    w.follow(p9, w.a)
    w.step(p9, "orientation", date(2026, 6, 1), w.a)
    w.step(p9, "employment", DAY + timedelta(days=20), w.b)
    # p10: news in December and a job starting after today: not lost.
    p10 = w.person()
    w.follow(p10, w.a)
    w.step(p10, "orientation", date(2026, 12, 1), w.a)
    w.step(p10, "employment", DAY + timedelta(days=3), w.b)
    # p11: a step of C and a barrier closed by nobody on its latest day: C is its structure.
    p11 = w.person()
    w.follow(p11, w.a)
    w.step(p11, "orientation", date(2026, 4, 1), w.c)
    w.barrier(p11, "mobility", BarrierStatus.IDENTIFIED, date(2026, 4, 1), None)
    # p12: in employment since May, back to training after today: ended today.
    p12 = w.person()
    w.follow(p12, w.a)
    w.step(p12, "employment", date(2026, 5, 1), w.a)
    w.step(p12, "training", DAY + timedelta(days=1), w.a)
    w.session.flush()
    assert stale_people(w.session) == []
    for days, contact_days in ((90, 30), (300, 30), (90, 61), (20, 5)):
        computed = _rows(w.session, lost_people_query(DAY, days, contact_days))
        kept = _rows(w.session, lost_query(DAY, days, contact_days, today=DAY))
        assert kept == computed
        assert _rows(
            w.session, lost_query(DAY, days, contact_days, today=DAY, structure=False)
        ) == _rows(w.session, lost_people_query(DAY, days, contact_days, structure=False))
        # Each person's hand-offs looked up (a referent's few people) or the territory's
        # listed once: the same people.
        looked_up = kept_lost_branches(DAY, days, contact_days, few=True)
        assert _rows(w.session, union_all(*looked_up)) == kept
        # And as a condition on each person's row (a caseload's filter): the same people.
        condition = select(Beneficiary.id).where(lost_today(DAY, days, contact_days))
        assert set(w.session.scalars(condition)) == {row[0] for row in kept}
    found = {
        person: (day, structure, reason)
        for person, day, structure, reason in _rows(w.session, lost_query(DAY, 90, 30, today=DAY))
    }
    # From the kept day, the reason is known but for an event dated after today (p9).
    w.session.refresh(p11)
    w.session.refresh(p9)
    assert kept_reason(p11.last_event_on, DAY, 90) is LostReason.NO_NEWS
    assert kept_reason(p9.last_event_on, DAY, 90) is None
    # For a list of them, the reason of p9 is read from its events as of today.
    with count_queries() as queries:
        reasons = lost_reasons(w.session, [p11, p9], today=DAY, days=90, contact_days=30)
    assert reasons == {p11.id: LostReason.NO_NEWS, p9.id: LostReason.NO_NEWS}
    assert len(queries.statements) == 1
    with count_queries() as queries:
        assert lost_reasons(w.session, [p11], today=DAY, days=90, contact_days=30) == {
            p11.id: LostReason.NO_NEWS
        }
    assert queries.statements == []
    assert found[p9.id] == ("2026-06-01", w.a.id, 1)
    assert found[p11.id] == ("2026-04-01", w.c.id, 1)
    assert p10.id not in found
    assert p12.id not in found
    # Kept to a population or to some people, the same again.
    some = [lost_world["p1"].id, lost_world["p4"].id, p9.id, p10.id]
    assert _rows(w.session, lost_query(DAY, 90, 30, some, today=DAY)) == _rows(
        w.session, lost_people_query(DAY, 90, 30, some)
    )
    # An earlier day is computed from the events.
    june = date(2026, 6, 30)
    assert _rows(w.session, lost_query(june, 90, 30, today=DAY)) == _rows(
        w.session, lost_people_query(june, 90, 30)
    )


def test_the_counts_and_the_index_card_for_today(world: World, lost_world: dict) -> None:
    """A period that ends today reads the kept state: the same table as the events give the
    day before the kept state is read (a period ending on the same day, asked the day after)."""
    scope = Scope(start=START, end=DAY)
    kept = lost_from_view_counts(world.session, scope, 1, 90, today=DAY)
    computed = lost_from_view_counts(world.session, scope, 1, 90, today=DAY + timedelta(days=1))
    assert kept.rows == computed.rows == (world.a, world.c)
    assert [kept.cell(r, c) for r in kept.rows for c in kept.columns] == [
        computed.cell(r, c) for r in computed.rows for c in computed.columns
    ]
    figures = steering_figures(world.session, scope, 1, today=DAY, days=90, contact_days=30)
    assert figures.lost == 3
