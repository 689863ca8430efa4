"""The chronology of a pathway: by the day things happened, then in the order they were
recorded that day (not grouped by kind), the ends of the day's follow-ups and barriers last."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, timeline
from app.services.security.vault import Vault
from tests import factories


def _kinds(session: Session, person: object, day: date) -> list[str]:
    session.expire_all()
    return [
        entry.item.event.value if entry.kind == "handoff_event" else entry.kind  # type: ignore[attr-defined]
        for entry in timeline(session, person).entries()  # type: ignore[arg-type]
        if entry.on == day
    ]


def test_one_days_events_read_in_the_order_they_happened(db_session: Session, vault: Vault) -> None:
    sender = factories.user(db_session)
    receiver = factories.user(db_session)
    assert receiver.structure is not None
    today = datetime.now(ZoneInfo("Europe/Paris")).date()  # the day of what is sent now
    person = factories.person(db_session, vault, sender)
    barrier = add_barrier(db_session, sender, person, category_code="mobility", identified_on=today)
    handoff = send_handoff(
        db_session,
        vault,
        sender,
        person,
        to_structure=receiver.structure,
        now=datetime.now(UTC),
        purpose_barrier=barrier,
        consent_confirmed=True,
    )
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=datetime.now(UTC))
    add_step(db_session, vault, sender, person, stage_code="barriers", started_on=today)
    # Grouped by kind, the step came before the barrier and the follow-up before the hand-off.
    assert _kinds(db_session, person, today) == [
        "barrier",
        "send",
        "accept",
        "follow_up_start",  # the receiver's, opened by the acceptance
        "step",
    ]
