"""Network events: who records them, what is checked, the quarters, cooperation around them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, Handoff, ReferenceKind
from app.services.directory.network_events import (
    EventInput,
    cooperation_around,
    events_by_quarter,
    get_event,
    list_events,
    record_event,
    update_event,
)
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.security.vault import Vault
from app.services.structures import reference_item
from tests import factories

TODAY = date(2026, 11, 25)


def _event(ids: list[int], **changes: object) -> EventInput:
    values: dict[str, object] = {
        "theme": "Levée des freins : mobilité et garde d'enfants",
        "held_on": date(2026, 3, 12),
        "participants": 65,
        "structure_ids": ids,
        "follow_ups": "Un contact par association\n",
    }
    return EventInput(**(values | changes))  # type: ignore[arg-type]


def test_coordinators_and_administrators_record_caseworkers_read(db_session: Session) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    event = record_event(db_session, coordinator, _event([b.id, a.id, a.id]), today=TODAY)
    assert {s.id for s in event.structures} == {a.id, b.id}
    assert event.follow_ups == "Un contact par association"
    assert event.recorded_by_id == coordinator.id
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "network_event:record"))
    assert audit is not None
    assert audit.subject_id == str(event.id)
    assert audit.data == {}

    caseworker = factories.user(db_session, Role.CASEWORKER, a)
    assert list_events(db_session, caseworker) == [event]
    assert get_event(db_session, caseworker, event.id) is event
    with pytest.raises(Forbidden):
        record_event(db_session, caseworker, _event([a.id]), today=TODAY)
    field_worker = factories.user(db_session, Role.FIELD_WORKER)
    with pytest.raises(Forbidden):
        list_events(db_session, field_worker)
    with pytest.raises(NotFound):
        get_event(db_session, coordinator, event.id + 1000)

    admin = factories.user(db_session, Role.ADMIN)
    now = datetime(2026, 11, 25, 9, tzinfo=UTC)
    update_event(db_session, admin, event, _event([a.id], participants=70), today=TODAY, now=now)
    assert event.participants == 70
    assert [s.id for s in event.structures] == [a.id]
    assert event.updated_at == now


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"theme": "  "}, "theme"),
        ({"held_on": None}, "held_on"),
        ({"held_on": TODAY + timedelta(days=1)}, "held_on"),
        ({"participants": -3}, "participants"),
        ({"participants": None}, "participants"),
        ({"structure_ids": []}, "structures"),
        ({"structure_ids": [999_999]}, "structures"),
        ({"follow_ups": "x" * 4001}, "follow_ups"),
    ],
)
def test_an_event_is_checked(db_session: Session, changes: dict[str, object], field: str) -> None:
    structure = factories.structure(db_session)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(InvalidInput) as raised:
        record_event(db_session, coordinator, _event([structure.id], **changes), today=TODAY)
    assert raised.value.field == field


def test_events_by_quarter_lists_every_quarter_of_the_period(db_session: Session) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    for day, ids in ((date(2026, 2, 3), [a.id]), (date(2026, 3, 30), [a.id, b.id]),
                     (date(2026, 8, 1), [b.id]), (date(2025, 12, 31), [a.id])):  # fmt: skip
        record_event(db_session, coordinator, _event(ids, held_on=day), today=TODAY)
    quarters = events_by_quarter(db_session, start=date(2026, 1, 1), end=date(2026, 9, 30))
    assert [str(q.quarter) for q in quarters] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert [len(q.events) for q in quarters] == [2, 0, 1]
    first, second = quarters[0].events
    assert first.held_on < second.held_on
    assert set(second.structure_ids) == {a.id, b.id}
    assert set(second.structure_codes) == {a.code, b.code}
    assert second.participants == 65


def test_cooperation_around_an_event_hides_small_counts(db_session: Session, vault: Vault) -> None:
    a, b, c = (factories.structure(db_session) for _ in range(3))
    coordinator = factories.user(db_session, Role.COORDINATOR)
    held = date(2026, 6, 1)
    event = record_event(db_session, coordinator, _event([a.id, b.id], held_on=held), today=TODAY)
    sender = factories.user(db_session, Role.CASEWORKER, a)
    person = factories.person(db_session, vault, sender)
    stage = reference_item(db_session, ReferenceKind.STAGE, "training").id
    moments = [datetime(2026, 5, 20, 10, tzinfo=UTC)] * 3 + [
        datetime(2026, 6, 10, 10, tzinfo=UTC)
    ] * 12
    for moment in moments:
        # One person each: a person has one pending hand-off per sender, receiver and purpose.
        someone = factories.person(db_session, vault, sender)
        db_session.add(
            Handoff(
                beneficiary_id=someone.id,
                from_structure_id=a.id,
                to_structure_id=b.id,
                purpose_stage_id=stage,
                consent_confirmed=True,
                status="sent",
                sent_at=moment,
            )  # fmt: skip
        )
    # Towards a structure that was not there: not counted.
    db_session.add(
        Handoff(
            beneficiary_id=person.id,
            from_structure_id=a.id,
            to_structure_id=c.id,
            purpose_stage_id=stage,
            consent_confirmed=True,
            status="sent",
            sent_at=moments[-1],
        )  # fmt: skip
    )
    found = cooperation_around(db_session, event, threshold=11)
    assert found.before is None  # 3 hand-offs: hidden
    assert found.after == 12
    assert cooperation_around(db_session, event, threshold=3).before == 3
