"""Effective dates: the day a fact happened, which may be earlier than the day it is recorded.

A caseworker catches up on Friday with what happened on Tuesday: an acceptance, a first
contact, an outcome, a step, a barrier change. Each takes the day it happened (by default
the day of recording), within bounds:

- never after today (a fact is recorded once it happened);
- never before what it follows: an acceptance not before the hand-off was sent, a first
  contact not before the acceptance, an outcome not before the first contact (or the
  acceptance, for a hand-off closed without one); a barrier change not before the barrier
  was identified, nor before its last change.

The field thinks in days (an appointment "on Tuesday"), so an effective date is a calendar
day in France (``FIELD_ZONE``); the moment of recording stays a UTC timestamp beside it, and
deadlines (overdue, expiry) keep counting from the moment of sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

# The days of the field: a fact recorded at 00:30 in Belfort happened on that French day.
FIELD_ZONE = ZoneInfo("Europe/Paris")


def field_day(moment: datetime) -> date:
    """The calendar day in France of a (timezone-aware) moment."""
    return moment.astimezone(FIELD_ZONE).date()


class Bound(StrEnum):
    """What an effective date may not precede (each names it in its error)."""

    SENT = "sent"  # the sending of the hand-off
    ACCEPTED = "accepted"  # its acceptance
    FIRST_CONTACT = "first_contact"  # its first contact
    IDENTIFIED = "identified"  # the identification of the barrier
    LAST_CHANGE = "last_change"  # the barrier's last change of status


@dataclass(frozen=True, slots=True)
class Floor:
    """The earliest day an effective date may take, and what happened that day."""

    bound: Bound
    day: date


class EffectiveDateError(ValueError):
    """An effective date outside its bounds."""


class InTheFuture(EffectiveDateError):
    def __init__(self, on: date, today: date) -> None:
        super().__init__(f"{on} is after today ({today})")
        self.on, self.today = on, today


class TooEarly(EffectiveDateError):
    def __init__(self, on: date, floor: Floor) -> None:
        super().__init__(f"{on} is before the {floor.bound.value} on {floor.day}")
        self.on, self.floor = on, floor


def check_effective(on: date, *, today: date, floor: Floor | None = None) -> date:
    """``on`` if it lies between ``floor`` and ``today`` (both included); else ``InTheFuture``
    or ``TooEarly``."""
    if on > today:
        raise InTheFuture(on, today)
    if floor is not None and on < floor.day:
        raise TooEarly(on, floor)
    return on


def barrier_floor(identified_on: date, status_on: date | None) -> Floor:
    """What a change of a barrier's status may not precede: its last change, or else its
    identification."""
    if status_on is not None and status_on > identified_on:
        return Floor(Bound.LAST_CHANGE, status_on)
    return Floor(Bound.IDENTIFIED, identified_on)
