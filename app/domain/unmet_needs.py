"""Unmet needs: what makes a need of a person one that the network did not meet.

A need goes unmet when

- a hand-off is **declined** for one of the reasons in ``UNMET_DECLINE_REASONS`` - no place
  (capacity), the person not eligible, no such service at the partner. Any other reason
  (unreachable, not interested, duplicate...) says something about the person or the
  referral, not about the offer of the territory, and records nothing. The set is explicit
  here, by reason code: a reason an administrator adds to the list counts only once it is
  added here;
- a hand-off **expires** (nobody answered it within the deadline);
- a caseworker records that **no solution was found**: no partner could be found for a
  barrier (``UnmetNeedSource.NO_SOLUTION``).

Each becomes one pseudonymous unmet-need record (``app.models.UnmetNeed``).
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.handoffs import HandoffEvent


class UnmetNeedSource(StrEnum):
    """What made the need one the network did not meet."""

    NO_CAPACITY = "no_capacity"  # declined: no place available
    NOT_ELIGIBLE = "not_eligible"  # declined: the person is not eligible
    NO_SUCH_SERVICE = "no_such_service"  # declined: the partner offers no such service
    EXPIRED = "expired"  # nobody answered the hand-off in time
    NO_SOLUTION = "no_solution"  # a caseworker found no partner for the barrier


# The decline reasons (``ReferenceKind.DECLINE_REASON`` codes) that make a need unmet.
UNMET_DECLINE_REASONS: dict[str, UnmetNeedSource] = {
    "no_capacity": UnmetNeedSource.NO_CAPACITY,
    "not_eligible": UnmetNeedSource.NOT_ELIGIBLE,
    "no_such_service": UnmetNeedSource.NO_SUCH_SERVICE,
}


def source_of(event: HandoffEvent, reason_code: str | None) -> UnmetNeedSource | None:
    """The source of the unmet need a hand-off event makes, or ``None`` when it makes none."""
    if event is HandoffEvent.EXPIRE:
        return UnmetNeedSource.EXPIRED
    if event is HandoffEvent.DECLINE:
        return UNMET_DECLINE_REASONS.get(reason_code or "")
    return None
