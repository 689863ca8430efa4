"""The rights of the people followed, as rules on dates and codes: no database, no application.

*Consent withdrawal* is recorded with its date and where it came from (``WithdrawalSource``).

*Erasure* happens at the person's request or by the retention rule (``ErasureCause``).

*Following* a person (``Following``) decides what a structure may do with their file: with an
open follow-up it reads and changes it; during the reading grace period after its follow-up
ended it reads it only (``may_read_identity``, ``may_change_person``); otherwise neither.

*Retention* (see ``docs/rights.md``):

- a follow-up is *idle* when its latest activity is ``months`` calendar months old or older
  (``is_idle``); the retention job ends it, dated at that latest activity;
- a person with no open follow-up is *due for erasure* once ``months`` have passed since their
  last follow-up ended (``erasure_is_due``); the job then gives their last structure a notice
  of ``notice_days`` days (``erasure_date``) before erasing them.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum


class WithdrawalSource(StrEnum):
    """How a withdrawal of consent reached the structure."""

    ORAL = "oral"  # in person or on the phone
    WRITTEN = "written"  # a letter or a signed form
    EMAIL = "email"
    ERASURE = "erasure"  # not chosen by people: recorded when the person's data is erased


# What a caseworker may choose on the form (``ERASURE`` is the system's).
CHOSEN_SOURCES = (WithdrawalSource.ORAL, WithdrawalSource.WRITTEN, WithdrawalSource.EMAIL)


class Following(StrEnum):
    """How a structure follows a person, for what it may do with the person's file."""

    NOW = "now"  # an open follow-up
    GRACE = "grace"  # its follow-up ended less than the grace period ago
    NOT = "not"  # never, or longer ago


def may_read_identity(following: Following) -> bool:
    """Reading the identity (the person's page, the subject-access export): an open follow-up,
    or one in its reading grace period."""
    return following is not Following.NOT


def may_change_person(following: Following) -> bool:
    """Editing the identity, recording a withdrawal of consent, erasing: an open follow-up only.
    The reading grace period lets a structure finish reading a file, not change it."""
    return following is Following.NOW


class ErasureCause(StrEnum):
    REQUEST = "request"  # the person asked (right to erasure)
    RETENTION = "retention"  # the retention time has passed


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (negative: back), clamped to the month's end.

    31 March minus one month is 28 or 29 February.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _check_months(months: int) -> None:
    if months < 1:
        raise ValueError("a retention time is at least one month")


def idle_cutoff(today: date, months: int) -> date:
    """A follow-up whose latest activity is on or before this day is idle."""
    _check_months(months)
    return add_months(today, -months)


def is_idle(last_activity: date, today: date, months: int) -> bool:
    """Whether ``months`` whole months have passed since ``last_activity``."""
    return last_activity <= idle_cutoff(today, months)


def erasure_is_due(last_follow_up_end: date, today: date, months: int) -> bool:
    """Whether a person whose last follow-up ended on ``last_follow_up_end`` is past retention."""
    return last_follow_up_end <= idle_cutoff(today, months)


def erasure_date(notice_from: date, notice_days: int) -> date:
    """The day a person noticed on ``notice_from`` is erased (the notice lasts ``notice_days``)."""
    if notice_days < 0:
        raise ValueError("a notice period cannot be negative")
    return notice_from + timedelta(days=notice_days)
