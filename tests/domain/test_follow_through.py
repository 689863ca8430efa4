"""What follows a hand-off through without changing its status: reminders, the receiving
structure's answer about its follow-up; and when the next reminder may be sent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.deadlines import next_reminder_at
from app.domain.handoffs import (
    FOLLOW_THROUGH,
    HandoffEvent,
    HandoffStatus,
    InvalidTransition,
    Party,
    allowed_events,
    may_follow_through,
    next_status,
)

EXPECTED = {
    ("remind", "sent", "sender"),
    ("follow_up_ended", "completed", "receiver"),
    ("follow_up_kept", "completed", "receiver"),
}


@pytest.mark.parametrize(
    ("event", "status", "party"),
    list(itertools.product(FOLLOW_THROUGH, HandoffStatus, Party)),
)
def test_who_may_follow_through(event: HandoffEvent, status: HandoffStatus, party: Party) -> None:
    allowed = (event.value, status.value, party.value) in EXPECTED
    assert may_follow_through(event, status, frozenset({party})) is allowed
    # Never a transition, never offered among the answers.
    with pytest.raises(InvalidTransition):
        next_status(status, event, party)
    assert event not in allowed_events(status, frozenset(Party))


def test_other_events_are_not_follow_through() -> None:
    assert not may_follow_through(HandoffEvent.ACCEPT, HandoffStatus.SENT, frozenset(Party))


SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_the_first_reminder_waits_the_interval_after_sending() -> None:
    assert next_reminder_at(SENT, [], 3) == SENT + timedelta(days=3)


def test_later_reminders_count_from_the_last_one() -> None:
    reminders = [SENT + timedelta(days=4), SENT + timedelta(days=9, hours=2)]
    assert next_reminder_at(SENT, reversed(reminders), 3) == SENT + timedelta(days=12, hours=2)


def test_the_interval_is_a_day_at_least_and_moments_are_aware() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        next_reminder_at(SENT, [], 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_reminder_at(datetime(2026, 11, 2, 9, 0), [], 3)  # noqa: DTZ001 - the case refused
