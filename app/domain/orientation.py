"""Orientation decisions (common orientation criteria, arrêté of 21 November 2024).

A structure decides a person's pathway type - professional (towards a job), socio-professional
or social - from the weight of their barriers on the job search. The decision keeps the criteria
it was taken on: the levels of the person's barriers on its day, a snapshot that a later change
of a barrier never rewrites. A change of pathway type is a new decision; the latest is current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.pathway import BarrierLevel

# The pathway types every territory starts with (a reference list the admin may extend).
PROFESSIONAL = "professional"
SOCIO_PROFESSIONAL = "socio_professional"
SOCIAL = "social"
PATHWAY_TYPES = (PROFESSIONAL, SOCIO_PROFESSIONAL, SOCIAL)


class DecisionReason(StrEnum):
    """Why the decision is taken (optional, coded: free text could identify the person)."""

    FIRST_ORIENTATION = "first_orientation"  # the first decision after registration
    BARRIERS_LIFTED = "barriers_lifted"  # barriers eased: towards a job
    NEW_BARRIER = "new_barrier"  # a barrier appeared or grew heavier
    PERSON_REQUEST = "person_request"  # asked by the person
    REVIEW = "review"  # the periodic review of the pathway


class StrongestLevel(StrEnum):
    """The heaviest barrier level among a decision's criteria (a column of the statistics)."""

    STRONG = "strong"
    MODERATE = "moderate"
    NO_IMPACT = "no_impact"
    NONE_ASSESSED = "none_assessed"


LEVEL_RANK = {BarrierLevel.NO_IMPACT: 1, BarrierLevel.MODERATE: 2, BarrierLevel.STRONG: 3}
STRONGEST_OF_RANK = {
    3: StrongestLevel.STRONG,
    2: StrongestLevel.MODERATE,
    1: StrongestLevel.NO_IMPACT,
    0: StrongestLevel.NONE_ASSESSED,
}


@dataclass(frozen=True, slots=True)
class BarrierAtDate:
    """What the snapshot needs of a barrier: its category, level and dates."""

    category_id: int
    level: BarrierLevel | None
    identified_on: date
    closed_on: date | None


def criteria_on(barriers: Iterable[BarrierAtDate], day: date) -> dict[int, BarrierLevel]:
    """The assessed level of each barrier category open on ``day`` (identified on or before
    it, not closed before it), by category id; the heaviest when a category appears twice.

    A barrier's level has no history: the snapshot reads its level as it stands, which is
    why it is taken when the decision is recorded and kept with it.
    """
    found: dict[int, BarrierLevel] = {}
    for barrier in barriers:
        if barrier.level is None or barrier.identified_on > day:
            continue
        if barrier.closed_on is not None and barrier.closed_on < day:
            continue
        known = found.get(barrier.category_id)
        if known is None or LEVEL_RANK[barrier.level] > LEVEL_RANK[known]:
            found[barrier.category_id] = barrier.level
    return found
