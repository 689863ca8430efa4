"""Capacity statuses: per service or for the whole structure, dated, stale after some weeks,
kept in the card's history; full partners; pending hand-offs beyond the declared places; the
partners' published track record (one grouped query, hidden below k)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.domain.capacity import CapacityStatus, capacity_is_stale, is_full
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import StructureCardChange
from app.services.directory.capacity import (
    WHOLE,
    capacity_lines,
    confirm_capacity_status,
    over_capacity,
    partner_is_full,
    set_capacity_status,
)
from app.services.directory.card_input import ServiceInput
from app.services.directory.cards import card_for, update_card
from app.services.errors import Forbidden, InvalidInput
from app.services.statistics.track_record import track_records
from tests import factories
from tests.services.directory.test_cards import _input
from tests.sql_count import count_queries
from tests.world import World, at

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def _card_with_two_services(session: Session):  # type: ignore[no-untyped-def]
    structure = factories.structure(session, "CRECHE")
    services = [
        ServiceInput("Garde d'urgence", "", ["accompagnement"], ["gratuit"]),
        ServiceInput("Halte-garderie", "", ["accompagnement"], ["gratuit"]),
    ]
    update_card(session, None, structure, _input(services=services), now=NOW)
    card = card_for(session, structure)
    assert card is not None
    return structure, card


def test_domain_staleness_and_fullness() -> None:
    today = date(2026, 11, 25)
    assert capacity_is_stale(None, today, 4)
    assert capacity_is_stale(today - timedelta(weeks=4), today, 4)
    assert not capacity_is_stale(today - timedelta(weeks=4) + timedelta(days=1), today, 4)
    full, open_ = CapacityStatus.FULL, CapacityStatus.AVAILABLE
    assert is_full(full, [open_])  # the whole structure says so
    assert not is_full(open_, [full])
    assert is_full(None, [full, None, full])
    assert not is_full(None, [full, open_])
    assert not is_full(None, [None])


def test_statuses_are_set_confirmed_and_kept_in_the_history(db_session: Session) -> None:
    structure, card = _card_with_two_services(db_session)
    first, second = card.services
    set_capacity_status(db_session, None, structure, str(first.id), "full", now=NOW)
    set_capacity_status(db_session, None, structure, WHOLE, "waiting_list", now=NOW)
    assert first.capacity_status is CapacityStatus.FULL
    assert card.capacity_status is CapacityStatus.WAITING_LIST
    assert second.capacity_status is None
    later = NOW + timedelta(weeks=5)
    lines = capacity_lines(card, today=later.date(), stale_weeks=4)
    assert [(line.key, line.status, line.stale) for line in lines] == [
        (WHOLE, CapacityStatus.WAITING_LIST, True),
        (str(first.id), CapacityStatus.FULL, True),
        (str(second.id), None, False),
    ]
    confirm_capacity_status(db_session, None, structure, str(first.id), now=later)
    lines = capacity_lines(card, today=later.date(), stale_weeks=4)
    assert lines[1].stale is False
    assert lines[1].confirmed_on == later.date()
    changes = db_session.query(StructureCardChange).filter_by(
        structure_id=structure.id, kind="capacity"
    )
    recorded = [c.changes for c in changes.order_by(StructureCardChange.id)]
    assert recorded == [
        {"capacity_status:Garde d'urgence": [None, "full"]},
        {"capacity_status": [None, "waiting_list"]},
        {"capacity_status:Garde d'urgence": ["full", "full"]},
    ]
    # The status survives an edit of the card that keeps the service.
    update_card(
        db_session, None, structure,
        _input(services=[ServiceInput("Garde d'urgence", "", [], [])]), now=later,
    )  # fmt: skip
    assert card_for(db_session, structure).services[0].capacity_status is CapacityStatus.FULL


def test_bad_input_is_refused(db_session: Session) -> None:
    structure, card = _card_with_two_services(db_session)
    with pytest.raises(InvalidInput) as status:
        set_capacity_status(db_session, None, structure, WHOLE, "overbooked", now=NOW)
    assert status.value.field == "status"
    with pytest.raises(InvalidInput) as service:
        set_capacity_status(db_session, None, structure, "999999", "full", now=NOW)
    assert service.value.field == "service"
    with pytest.raises(InvalidInput):
        confirm_capacity_status(db_session, None, structure, WHOLE, now=NOW)  # none to confirm
    outsider = factories.user(db_session, Role.CASEWORKER)
    with pytest.raises(Forbidden):
        set_capacity_status(db_session, outsider, structure, WHOLE, "full", now=NOW)


def test_full_partners(db_session: Session) -> None:
    structure, card = _card_with_two_services(db_session)
    assert not partner_is_full(db_session, structure)
    first, second = card.services
    set_capacity_status(db_session, None, structure, str(first.id), "full", now=NOW)
    assert partner_is_full(db_session, structure)  # the only status given says full
    set_capacity_status(db_session, None, structure, str(second.id), "available", now=NOW)
    assert not partner_is_full(db_session, structure)
    set_capacity_status(db_session, None, structure, WHOLE, "full", now=NOW)
    assert partner_is_full(db_session, structure)
    assert not partner_is_full(db_session, factories.structure(db_session))  # no card


def test_pending_handoffs_beyond_the_declared_places(world: World) -> None:
    world.b.capacity = 2
    for _ in range(2):
        world.handoff(world.person(), world.a, world.b, HandoffStatus.SENT, at(date(2026, 11, 1)))
    world.handoff(world.person(), world.a, world.b, HandoffStatus.ACCEPTED, at(date(2026, 11, 1)), answered_after=1)  # fmt: skip
    assert over_capacity(world.session, world.b) is None  # 2 pending, 2 places
    world.handoff(world.person(), world.a, world.b, HandoffStatus.SENT, at(date(2026, 11, 2)))
    found = over_capacity(world.session, world.b)
    assert found is not None
    assert (found.pending, found.places) == (3, 2)
    world.b.capacity = None
    assert over_capacity(world.session, world.b) is None  # no places declared


def test_track_records_are_exact_and_protected(world: World) -> None:
    now = datetime(2026, 12, 31, 12, tzinfo=UTC)
    # B answered 11 hand-offs in the year: in 1..11 days, 8 accepted, 2 declined, 1 redirected.
    statuses = (
        [HandoffStatus.ACCEPTED] * 8 + [HandoffStatus.DECLINED] * 2 + [HandoffStatus.REDIRECTED]
    )
    for n, status in enumerate(statuses, start=1):
        world.handoff(
            world.person(), world.a, world.b, status, at(date(2026, 6, 1)), answered_after=n,
            reason="no_capacity" if status is HandoffStatus.DECLINED else None,
        )  # fmt: skip
    # Not counted: unanswered, or sent more than 12 months ago.
    world.handoff(world.person(), world.a, world.b, HandoffStatus.SENT, at(date(2026, 6, 1)))
    world.handoff(world.person(), world.a, world.b, HandoffStatus.ACCEPTED, at(date(2025, 12, 1)), answered_after=90)  # fmt: skip
    # C answered 3: too few to publish.
    for n in range(3):
        world.handoff(world.person(), world.a, world.c, HandoffStatus.ACCEPTED, at(date(2026, 6, 1)), answered_after=n)  # fmt: skip
    ids = [world.b.id, world.c.id, world.a.id]
    world.session.flush()
    with count_queries() as queries:
        records = track_records(world.session, ids, now=now, k=11)
    assert len(queries.statements) == 1
    assert records[world.b.id].median_days_to_answer == 6.0
    assert records[world.b.id].acceptance_rate == pytest.approx(8 / 11)
    assert not records[world.c.id].shown
    assert records[world.c.id].acceptance_rate is None
    assert not records[world.a.id].shown
    exact = track_records(world.session, ids, now=now, k=1)
    assert exact[world.c.id].median_days_to_answer == 1.0
    assert exact[world.c.id].acceptance_rate == 1.0
