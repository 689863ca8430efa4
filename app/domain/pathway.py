"""Pathway stages and barrier statuses."""

from __future__ import annotations

from enum import StrEnum

# Codes of the seeded stages, in pathway order. The reference list in the database may hold
# more (an admin can add stages); these are the ones the rules know about.
STAGE_ORDER = ("orientation", "barriers", "training", "employment", "exit_other")


def stage_rank(code: str) -> int:
    """Position of a stage in the pathway; unknown stages sort after the known ones."""
    try:
        return STAGE_ORDER.index(code)
    except ValueError:
        return len(STAGE_ORDER)


class BarrierStatus(StrEnum):
    IDENTIFIED = "identified"
    IN_PROGRESS = "in_progress"
    LIFTED = "lifted"
    PERSISTING = "persisting"
    NOT_ADDRESSED = "not_addressed"

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_BARRIER_STATUSES


CLOSED_BARRIER_STATUSES = frozenset(
    {BarrierStatus.LIFTED, BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED}
)

BARRIER_TRANSITIONS: dict[BarrierStatus, frozenset[BarrierStatus]] = {
    BarrierStatus.IDENTIFIED: frozenset(
        {BarrierStatus.IN_PROGRESS, BarrierStatus.LIFTED, BarrierStatus.NOT_ADDRESSED}
    ),
    BarrierStatus.IN_PROGRESS: frozenset(
        {BarrierStatus.LIFTED, BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED}
    ),
    # A closed barrier can be re-opened: stages are not strictly linear.
    BarrierStatus.LIFTED: frozenset({BarrierStatus.IN_PROGRESS}),
    BarrierStatus.PERSISTING: frozenset({BarrierStatus.IN_PROGRESS}),
    BarrierStatus.NOT_ADDRESSED: frozenset({BarrierStatus.IN_PROGRESS}),
}


def barrier_can_move(current: BarrierStatus, target: BarrierStatus) -> bool:
    return target in BARRIER_TRANSITIONS[current]


class ConsentMethod(StrEnum):
    ORAL = "oral"
    SIGNED = "signed"


class ConsentScope(StrEnum):
    NETWORK_SHARING = "network_sharing"


class BarrierLevel(StrEnum):
    """How much a barrier weighs on the job search: the three-level scale of the national
    common orientation criteria (arrêté of 21 November 2024)."""

    STRONG = "strong"
    MODERATE = "moderate"
    NO_IMPACT = "no_impact"
