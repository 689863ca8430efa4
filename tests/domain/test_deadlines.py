"""The deadline rule on dates alone: overdue after 10 days, expired after 30 (by default)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.deadlines import days_waiting, deadline_cutoff, is_past_deadline

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Hypothesis takes naive bounds and adds the time zone itself.
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def test_a_deadline_is_passed_only_after_the_full_delay() -> None:
    assert not is_past_deadline(NOW - timedelta(days=29, hours=23), NOW, 30)
    assert not is_past_deadline(NOW - timedelta(days=30), NOW, 30)
    assert is_past_deadline(NOW - timedelta(days=30, microseconds=1), NOW, 30)
    assert is_past_deadline(NOW - timedelta(days=45), NOW, 30)


def test_overdue_comes_before_expiry() -> None:
    sent = NOW - timedelta(days=15)
    assert is_past_deadline(sent, NOW, 10)
    assert not is_past_deadline(sent, NOW, 30)


def test_time_zones_do_not_change_the_answer() -> None:
    paris = (NOW - timedelta(days=10, minutes=1)).astimezone(ZoneInfo("Europe/Paris"))
    assert is_past_deadline(paris, NOW, 10)


def test_days_waiting() -> None:
    assert days_waiting(NOW, NOW) == 0
    assert days_waiting(NOW - timedelta(days=9, hours=23), NOW) == 9
    assert days_waiting(NOW - timedelta(days=10), NOW) == 10
    assert days_waiting(NOW + timedelta(hours=1), NOW) == 0  # a clock slightly ahead


@pytest.mark.parametrize("days", [0, -3])
def test_a_deadline_is_at_least_one_day(days: int) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        is_past_deadline(NOW, NOW, days)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        is_past_deadline(datetime(2026, 1, 1), NOW, 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone"):
        deadline_cutoff(datetime(2026, 1, 1), 10)  # noqa: DTZ001


@given(sent=MOMENTS, now=MOMENTS, days=st.integers(min_value=1, max_value=365))
def test_the_rule_and_the_cutoff_agree(sent: datetime, now: datetime, days: int) -> None:
    """The query (sent_at < cutoff) and the flag (is_past_deadline) never disagree."""
    assert is_past_deadline(sent, now, days) == (sent < deadline_cutoff(now, days))
    if is_past_deadline(sent, now, days + 1):
        assert is_past_deadline(sent, now, days)  # a longer delay is passed later
    assert is_past_deadline(sent, now, days) == (now - sent > timedelta(days=days))
