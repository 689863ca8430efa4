"""A partner's capacity status: whether it can take someone on now, as it last said.

Each service of a directory card (or the whole structure) holds one status and the moment it
was last confirmed; a status not confirmed for ``stale_weeks`` weeks is shown as such. Sending
a hand-off to a partner that is full asks the sender to confirm.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

# The most free places a structure may declare (card form, import, command line): more is a
# typing slip, and would not fit the database's integer.
MAX_FREE_PLACES = 100_000


class CapacityStatus(StrEnum):
    AVAILABLE = "available"  # places available
    WAITING_LIST = "waiting_list"
    FULL = "full"
    ASSESSMENT = "assessment"  # an assessment is required before taking someone on


def capacity_is_stale(confirmed_on: date | None, today: date, weeks: int) -> bool:
    """A status never confirmed, or last confirmed ``weeks`` weeks ago or more, is stale."""
    return confirmed_on is None or confirmed_on <= today - timedelta(weeks=weeks)


def is_full(whole: CapacityStatus | None, services: Iterable[CapacityStatus | None]) -> bool:
    """Whether a partner is full for a hand-off that names no service: the structure says it
    is full, or every service that gives a status (one at least) says so."""
    if whole is not None:
        return whole is CapacityStatus.FULL
    given = [status for status in services if status is not None]
    return bool(given) and all(status is CapacityStatus.FULL for status in given)
