"""Keyset pagination of the lists: walking a list by cursors, forwards and backwards, gives
every row once, in the order of its numbered pages, ties broken by the id; a cursor that
Relais did not give for that order is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import Beneficiary, Structure, User
from app.services import keyset
from app.services.errors import InvalidInput
from app.services.handoffs import apply_event
from app.services.handoffs.lists import Box, HandoffFilters, list_box
from app.services.keyset import Window, encode_cursor
from app.services.pathways import add_barrier, add_step
from app.services.people.overview import Filters, Page, PathwayRow, Sort, all_pathways, caseload
from app.services.security.vault import Vault
from tests import factories
from tests.factories import TODAY

PEOPLE = 11
PER_PAGE = 4  # pages of 4, 4 and 3
SAME_MOMENT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STAGES = ("orientation", "training", None)  # some without a step (None)


@pytest.fixture
def worker(db_session: Session, vault: Vault) -> User:
    """A caseworker whose structure follows PEOPLE people, most registered at the same moment
    (ties), with steps and barriers on few distinct days (ties on the computed keys too)."""
    actor = factories.user(db_session, email="keyset@relais.example")
    for n in range(PEOPLE):
        person = factories.person(db_session, vault, actor, last_name=f"Person{n}")
        person.created_at = SAME_MOMENT if n % 4 else SAME_MOMENT + timedelta(hours=n)
        stage = STAGES[n % 3]
        if stage is not None:
            day = TODAY - timedelta(days=n % 2)
            add_step(db_session, vault, actor, person, stage_code=stage, started_on=day)
        if n % 5 == 0:
            add_barrier(db_session, actor, person, category_code="mobility", identified_on=TODAY)
    db_session.commit()
    return actor


def _ids(page: Page[PathwayRow]) -> list[object]:
    return [row.person.id for row in page.items]


def _numbered(session: Session, actor: User, sort: Sort) -> list[Page[PathwayRow]]:
    return [
        caseload(
            session, actor, today=TODAY, filters=Filters(), window=Window(page=n),
            per_page=PER_PAGE, sort=sort,
        )
        for n in (1, 2, 3)
    ]  # fmt: skip


@pytest.mark.parametrize("sort", [Sort.RECENT, Sort.LAST_EVENT, Sort.IDLE, Sort.STAGE])
def test_walking_by_cursors_gives_the_numbered_pages(
    db_session: Session, worker: User, sort: Sort
) -> None:
    numbered = _numbered(db_session, worker, sort)
    assert [len(page.items) for page in numbered] == [4, 4, 3]
    every = [pid for page in numbered for pid in _ids(page)]
    assert len(set(every)) == PEOPLE

    def walk(window: Window) -> Page[PathwayRow]:
        return caseload(
            db_session, worker, today=TODAY, filters=Filters(), window=window,
            per_page=PER_PAGE, sort=sort,
        )  # fmt: skip

    page = numbered[0]
    assert page.before is None
    forwards = [page]
    while page.after is not None:
        page = walk(Window(after=page.after))
        forwards.append(page)
    assert [_ids(p) for p in forwards] == [_ids(p) for p in numbered]
    assert [p.page for p in forwards] == [1, 2, 3]
    assert all(p.total == PEOPLE for p in forwards)
    backwards = [page]
    while page.before is not None:
        page = walk(Window(before=page.before))
        backwards.append(page)
    assert [_ids(p) for p in reversed(backwards)] == [_ids(p) for p in numbered]
    assert [p.page for p in backwards] == [3, 2, 1]


def test_the_newest_first_breaks_ties_by_id(db_session: Session, worker: User) -> None:
    pages = _numbered(db_session, worker, Sort.RECENT)
    people = [row.person for page in pages for row in page.items]
    expected = sorted(people, key=lambda p: (p.created_at, p.id), reverse=True)
    assert [p.id for p in people] == [p.id for p in expected]
    assert sum(p.created_at == SAME_MOMENT for p in people) == 9  # ties (all but n = 4, 8)


def test_the_stage_order_puts_people_without_a_step_last(db_session: Session, worker: User) -> None:
    pages = _numbered(db_session, worker, Sort.STAGE)
    stages = [row.current_stage for page in pages for row in page.items]
    positions = [stage.position if stage else 10**6 for stage in stages]
    assert positions == sorted(positions)
    assert stages[-1] is None
    assert stages[0] is not None


def _cursor(values: dict[str, str]) -> str:
    return encode_cursor(values)


def _bad_cursors(db_session: Session, worker: User) -> list[str]:
    first = caseload(db_session, worker, today=TODAY, filters=Filters(), per_page=PER_PAGE)
    assert first.after is not None
    good = json.loads(base64.urlsafe_b64decode(first.after + "=" * (-len(first.after) % 4)))
    return [
        "not a cursor",
        "",
        "x" * 5000,
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        _cursor({**good, "s": "idle"}),  # a cursor of another order
        _cursor({**good, "k0": "yesterday"}),
        _cursor({**good, "k0": "2026-11-02T08:00:00"}),  # a moment without its zone
        _cursor({**good, "k1": "zz"}),
        _cursor({key: value for key, value in good.items() if key != "k1"}),
        _cursor({key: value for key, value in good.items() if key != "n"}),  # no position
        _cursor({**good, "n": "-1"}),
        _cursor({**good, "n": "four"}),
    ]


def test_a_cursor_not_given_by_relais_is_invalid_input(db_session: Session, worker: User) -> None:
    for bad in _bad_cursors(db_session, worker):
        if not bad:
            continue  # an empty cursor is no cursor: the first page
        for window, field in ((Window(after=bad), "after"), (Window(before=bad), "before")):
            with pytest.raises(InvalidInput) as refused:
                caseload(db_session, worker, today=TODAY, filters=Filters(), window=window)
            assert refused.value.field == field


def test_a_cursor_past_the_end_gives_the_last_page(db_session: Session, worker: User) -> None:
    last = _numbered(db_session, worker, Sort.RECENT)[-1]
    oldest = last.items[-1].person
    beyond = _cursor(
        {
            "s": "recent",
            "n": "3",
            "k0": (oldest.created_at - timedelta(days=1)).isoformat(),
            "k1": "0" * 32,
        }
    )
    page = caseload(
        db_session, worker, today=TODAY, filters=Filters(), window=Window(after=beyond),
        per_page=PER_PAGE,
    )  # fmt: skip
    assert (page.page, _ids(page), page.after) == (3, _ids(last), None)


def test_the_coordinators_list_reads_by_cursor_too(db_session: Session, worker: User) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    first = all_pathways(db_session, coordinator, filters=Filters(), per_page=PER_PAGE)
    assert first.after is not None
    second = all_pathways(
        db_session, coordinator, filters=Filters(), window=Window(after=first.after),
        per_page=PER_PAGE,
    )  # fmt: skip
    assert second.page == 2
    assert not set(_ids(first)) & set(_ids(second))


@pytest.mark.parametrize("count_limit", [None, 5])  # counted, and "more than 5"
def test_a_box_reads_by_cursor_waiting_hand_offs_first(
    db_session: Session,
    vault: Vault,
    worker: User,
    count_limit: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if count_limit is not None:
        monkeypatch.setattr(keyset, "COUNT_LIMIT", count_limit)
    partner = factories.user(db_session)
    target = partner.structure
    assert isinstance(target, Structure)
    people = db_session.query(Beneficiary).all()
    for n, person in enumerate(people):
        handoff = factories.handoff(
            db_session, vault, worker, person, target, now=SAME_MOMENT + timedelta(hours=n % 3)
        )
        if n % 3 == 0:
            apply_event(db_session, vault, partner, handoff, HandoffEvent.ACCEPT, now=SAME_MOMENT)
    db_session.commit()

    def box(window: Window) -> list[object]:
        page = list_box(
            db_session, partner, Box.INBOX, filters=HandoffFilters(), now=datetime.now(UTC),
            today=TODAY, overdue_days=10, window=window, per_page=PER_PAGE,
        )  # fmt: skip
        seen.append(page.page)
        if page.after is not None:
            following.append(page.after)
        preceding.append(page.before)
        return [row.handoff for row in page.rows]

    seen: list[int] = []
    following: list[str] = []
    preceding: list[str | None] = []
    walked = box(Window())
    while following:
        walked += box(Window(after=following.pop()))
    # Backwards from the last page, by the "previous" cursors: the same pages, reversed.
    back: list[object] = []
    while (before := preceding[-1]) is not None:
        back = box(Window(before=before)) + back
    assert [h.id for h in back] == [h.id for h in walked[: len(back)]]
    assert len(back) == PEOPLE - 3  # every page but the last (of 3)
    seen.clear()
    numbered = [h for n in (1, 2, 3) for h in box(Window(page=n))]
    assert [h.id for h in walked] == [h.id for h in numbered]
    assert len({h.id for h in walked}) == PEOPLE
    waiting = [h.status.value == "sent" for h in walked]
    assert waiting == sorted(waiting, reverse=True)  # waiting ones first
    assert seen[:3] == [1, 2, 3]
    with pytest.raises(InvalidInput):
        box(Window(after=_cursor({"s": "recent", "n": "0", "k0": "x", "k1": "y"})))


def test_a_day_is_a_day(db_session: Session, worker: User) -> None:
    """The last-event order's key is a day: its cursor holds an ISO date."""
    first = caseload(
        db_session, worker, today=TODAY, filters=Filters(), per_page=PER_PAGE,
        sort=Sort.LAST_EVENT,
    )  # fmt: skip
    assert first.after is not None
    values = json.loads(base64.urlsafe_b64decode(first.after + "=" * (-len(first.after) % 4)))
    assert date.fromisoformat(values["k0"]) <= TODAY


@pytest.mark.parametrize("sort", [Sort.RECENT, Sort.STAGE])
def test_a_list_longer_than_the_count_limit_is_walked_by_its_cursors(
    db_session: Session, worker: User, sort: Sort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``COUNT_LIMIT`` rows a list is "more than" that many, and its pages are numbered
    by the cursors walked to them: the same rows, pages and links as a counted list."""
    counted = _numbered(db_session, worker, sort)
    monkeypatch.setattr(keyset, "COUNT_LIMIT", 5)

    def walk(window: Window) -> Page[PathwayRow]:
        return caseload(
            db_session, worker, today=TODAY, filters=Filters(), window=window,
            per_page=PER_PAGE, sort=sort,
        )  # fmt: skip

    page = walk(Window())
    assert (page.total, page.exact, page.before) == (5, False, None)
    forwards = [page]
    while page.after is not None:
        page = walk(Window(after=page.after))
        forwards.append(page)
    assert [_ids(p) for p in forwards] == [_ids(p) for p in counted]
    assert [p.page for p in forwards] == [1, 2, 3]
    assert all((p.total, p.exact) == (5, False) for p in forwards)
    backwards = [page]
    while page.before is not None:
        page = walk(Window(before=page.before))
        backwards.append(page)
    assert [_ids(p) for p in reversed(backwards)] == [_ids(p) for p in counted]
    assert [p.page for p in backwards] == [3, 2, 1]
    # A page asked by number counts the rows its OFFSET reads anyway: the last one, all.
    assert (walk(Window(page=2)).exact, walk(Window(page=3)).total) == (False, PEOPLE)
    assert walk(Window(page=3)).exact


def test_a_counted_list_keeps_its_exact_count_and_position(
    db_session: Session, worker: User
) -> None:
    """Within ``COUNT_LIMIT`` the cursor's position is not trusted: the list is counted."""
    first = caseload(db_session, worker, today=TODAY, filters=Filters(), per_page=PER_PAGE)
    assert first.after is not None
    good = json.loads(base64.urlsafe_b64decode(first.after + "=" * (-len(first.after) % 4)))
    moved = _cursor({**good, "n": "40"})  # a position the list does not have
    page = caseload(
        db_session, worker, today=TODAY, filters=Filters(), window=Window(after=moved),
        per_page=PER_PAGE,
    )  # fmt: skip
    assert (page.page, page.total, page.exact) == (2, PEOPLE, True)
