"""What the rows and columns of the statistics are: groups of states, chain ends, durations.

A table's heading is a structure, a reference item, one of the enums below or of the domain
(a barrier status), a quarter, or the length of a chain of redirects.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.periods import Quarter
from app.models import ReferenceItem, Structure


class HandoffGroup(StrEnum):
    """Hand-off states as the indicators group them (columns of the hand-off tables)."""

    PENDING = "pending"  # sent, no answer yet
    ACCEPTED = "accepted"  # accepted or in progress: the loop is still open
    OUTCOME = "outcome"  # closed with an outcome: the loop is closed
    DECLINED = "declined"
    REDIRECTED = "redirected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


GROUP_OF_STATUS: dict[HandoffStatus, HandoffGroup] = {
    HandoffStatus.SENT: HandoffGroup.PENDING,
    HandoffStatus.ACCEPTED: HandoffGroup.ACCEPTED,
    HandoffStatus.IN_PROGRESS: HandoffGroup.ACCEPTED,
    HandoffStatus.COMPLETED: HandoffGroup.OUTCOME,
    HandoffStatus.NOT_COMPLETED: HandoffGroup.OUTCOME,
    HandoffStatus.DECLINED: HandoffGroup.DECLINED,
    HandoffStatus.REDIRECTED: HandoffGroup.REDIRECTED,
    HandoffStatus.WITHDRAWN: HandoffGroup.WITHDRAWN,
    HandoffStatus.EXPIRED: HandoffGroup.EXPIRED,
}


# The queries return states as their stored text: each code is mapped once, not row by row.
GROUP_OF_CODE = {status.value: group for status, group in GROUP_OF_STATUS.items()}
BARRIER_STATUS_OF_CODE = {status.value: status for status in BarrierStatus}


class ChainEnd(StrEnum):
    """How a chain of redirects ended: with its last hand-off."""

    TAKEN_IN = "taken_in"  # the last partner accepted the person
    PENDING = "pending"  # the last hand-off waits for an answer
    NOT_TAKEN_IN = "not_taken_in"  # declined, withdrawn or expired


class Metric(StrEnum):
    """The durations whose medians the dashboard shows."""

    TO_TRAINING = "to_training"  # first orientation -> first training
    TO_EMPLOYMENT = "to_employment"  # first orientation -> first employment
    TO_ANSWER = "to_answer"  # hand-off sent -> answered
    TO_FIRST_CONTACT = "to_first_contact"  # hand-off sent -> first contact


class Heading(StrEnum):
    """Headings that are neither a structure nor a reference item."""

    NO_STRUCTURE = "no_structure"
    ALL_STRUCTURES = "all_structures"


# A row or column of a table: a structure, a reference item, a status, a quarter, or the
# length of a chain of redirects (4 standing for 4 or more).
Label = Structure | ReferenceItem | StrEnum | Quarter | int
