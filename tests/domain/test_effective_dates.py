"""The rule of effective dates: between what a fact follows and today, in French days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.domain.effective_dates import (
    Bound,
    Floor,
    InTheFuture,
    TooEarly,
    barrier_floor,
    check_effective,
    field_day,
)
from app.domain.handoffs import HandoffEvent, event_floor

SENT, ACCEPTED, CONTACT, TODAY = (date(2026, 3, d) for d in (2, 3, 5, 9))


def test_a_day_between_its_floor_and_today_is_kept() -> None:
    floor = Floor(Bound.SENT, SENT)
    assert check_effective(SENT, today=TODAY, floor=floor) == SENT
    assert check_effective(TODAY, today=TODAY, floor=floor) == TODAY
    with pytest.raises(TooEarly) as early:
        check_effective(date(2026, 3, 1), today=TODAY, floor=floor)
    assert early.value.floor == floor
    with pytest.raises(InTheFuture):
        check_effective(date(2026, 3, 10), today=TODAY, floor=floor)


def test_the_field_day_is_the_french_one() -> None:
    assert field_day(datetime(2026, 3, 2, 23, 30, tzinfo=UTC)) == date(2026, 3, 3)  # CET
    assert field_day(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == date(2026, 7, 1)  # CEST
    assert field_day(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == date(2026, 7, 2)


@pytest.mark.parametrize(
    ("event", "accepted", "contact", "expected"),
    [
        (HandoffEvent.ACCEPT, None, None, Floor(Bound.SENT, SENT)),
        (HandoffEvent.FIRST_CONTACT, ACCEPTED, None, Floor(Bound.ACCEPTED, ACCEPTED)),
        (HandoffEvent.COMPLETE, ACCEPTED, CONTACT, Floor(Bound.FIRST_CONTACT, CONTACT)),
        (HandoffEvent.NOT_COMPLETE, ACCEPTED, CONTACT, Floor(Bound.FIRST_CONTACT, CONTACT)),
        (HandoffEvent.NOT_COMPLETE, ACCEPTED, None, Floor(Bound.ACCEPTED, ACCEPTED)),
    ],
)
def test_each_event_follows_the_one_before(
    event: HandoffEvent, accepted: date | None, contact: date | None, expected: Floor
) -> None:
    floor = event_floor(event, sent_on=SENT, accepted_on=accepted, first_contact_on=contact)
    assert floor == expected


def test_a_barrier_change_follows_its_last_change_or_its_identification() -> None:
    assert barrier_floor(SENT, None) == Floor(Bound.IDENTIFIED, SENT)
    assert barrier_floor(SENT, SENT) == Floor(Bound.IDENTIFIED, SENT)
    assert barrier_floor(SENT, CONTACT) == Floor(Bound.LAST_CHANGE, CONTACT)
