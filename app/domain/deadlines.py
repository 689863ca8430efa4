"""Hand-off deadlines as a rule on dates: no database, no application.

A hand-off still waiting for an answer is *overdue* once more than ``HANDOFF_OVERDUE_DAYS``
have passed since it was sent, and *expires* once more than ``HANDOFF_EXPIRY_DAYS`` have
passed. "Days" are periods of 24 hours counted from the moment it was sent (``sent_at``), so
the rule is the same whatever the time zone of the reader or of the scheduled job.

Its sender may remind the receiving structure of a hand-off still waiting, once every
``HANDOFF_REMINDER_DAYS``: counted from the sending, then from the last reminder.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def _check(days: int, *moments: datetime) -> None:
    if days < 1:
        raise ValueError("a deadline is at least one day")
    if any(moment.tzinfo is None for moment in moments):
        raise ValueError("deadlines compare timezone-aware datetimes")


def deadline_cutoff(now: datetime, days: int) -> datetime:
    """Hand-offs sent before this moment are past a ``days`` deadline at ``now``."""
    _check(days, now)
    return now - timedelta(days=days)


def is_past_deadline(sent_at: datetime, now: datetime, days: int) -> bool:
    """Whether more than ``days`` days have passed between ``sent_at`` and ``now``."""
    _check(days, sent_at, now)
    return sent_at < deadline_cutoff(now, days)


def days_waiting(sent_at: datetime, now: datetime) -> int:
    """Whole days passed since ``sent_at`` (0 on the first day, never negative)."""
    _check(1, sent_at, now)
    return max((now - sent_at).days, 0)


def next_reminder_at(sent_at: datetime, reminders: Iterable[datetime], days: int) -> datetime:
    """The first moment a new reminder of a hand-off sent at ``sent_at`` may be sent, given the
    moments of its earlier ``reminders``: ``days`` days after the latest of them all."""
    latest = max([sent_at, *reminders])
    _check(days, latest)
    return latest + timedelta(days=days)
