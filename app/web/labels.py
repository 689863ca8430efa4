"""What people read for the domain's enums, in the current language."""

from __future__ import annotations

from enum import Enum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus, ConsentMethod
from app.domain.people import EducationLevel, Sex
from app.domain.roles import Role
from app.models.reference import ReferenceKind
from app.services.indicators import ChainEnd, HandoffGroup, Heading, Metric

_PAIRS: tuple[tuple[Enum, LazyString], ...] = (
    (HandoffStatus.SENT, _l("Sent, awaiting answer")),
    (HandoffStatus.ACCEPTED, _l("Accepted")),
    (HandoffStatus.DECLINED, _l("Declined")),
    (HandoffStatus.WITHDRAWN, _l("Withdrawn")),
    (HandoffStatus.EXPIRED, _l("Expired")),
    (HandoffStatus.REDIRECTED, _l("Redirected")),
    (HandoffStatus.IN_PROGRESS, _l("In progress")),
    (HandoffStatus.COMPLETED, _l("Completed")),
    (HandoffStatus.NOT_COMPLETED, _l("Not completed")),
    (HandoffEvent.SEND, _l("Hand-off sent")),
    (HandoffEvent.ACCEPT, _l("Hand-off accepted")),
    (HandoffEvent.DECLINE, _l("Hand-off declined")),
    (HandoffEvent.REDIRECT, _l("Hand-off redirected")),
    (HandoffEvent.WITHDRAW, _l("Hand-off withdrawn")),
    (HandoffEvent.EXPIRE, _l("Hand-off expired without answer")),
    (HandoffEvent.FIRST_CONTACT, _l("First contact made")),
    (HandoffEvent.COMPLETE, _l("Hand-off completed")),
    (HandoffEvent.NOT_COMPLETE, _l("Hand-off closed without completion")),
    (BarrierStatus.IDENTIFIED, _l("Identified")),
    (BarrierStatus.IN_PROGRESS, _l("Being lifted")),
    (BarrierStatus.LIFTED, _l("Lifted")),
    (BarrierStatus.PERSISTING, _l("Persisting")),
    (BarrierStatus.NOT_ADDRESSED, _l("Not addressed")),
    (ConsentMethod.ORAL, _l("oral")),
    (ConsentMethod.SIGNED, _l("signed")),
    (EducationLevel.NONE, _l("No diploma")),
    (EducationLevel.LEVEL_3, _l("Level 3 (CAP, BEP)")),
    (EducationLevel.LEVEL_4, _l("Level 4 (baccalauréat)")),
    (EducationLevel.LEVEL_5, _l("Level 5 (bac+2)")),
    (EducationLevel.LEVEL_6_PLUS, _l("Level 6 and above")),
    (Sex.FEMALE, _l("Woman")),
    (Sex.MALE, _l("Man")),
    (Sex.OTHER, _l("Other")),
    (Role.CASEWORKER, _l("Caseworker")),
    (Role.COORDINATOR, _l("Coordinator")),
    (Role.ADMIN, _l("Administrator")),
    (ReferenceKind.STRUCTURE_TYPE, _l("Structure types")),
    (ReferenceKind.COHORT, _l("Cohorts")),
    (ReferenceKind.BARRIER_CATEGORY, _l("Barrier categories")),
    (ReferenceKind.STAGE, _l("Pathway stages")),
    (ReferenceKind.DECLINE_REASON, _l("Reasons for declining a hand-off")),
    (ReferenceKind.OUTCOME, _l("Hand-off outcomes")),
    (ReferenceKind.END_REASON, _l("Reasons for ending a follow-up")),
    (ReferenceKind.QPV, _l("Priority neighbourhoods (QPV)")),
    (HandoffGroup.PENDING, _l("Awaiting answer")),
    (HandoffGroup.ACCEPTED, _l("Accepted, no outcome yet")),
    (HandoffGroup.OUTCOME, _l("Outcome recorded")),
    (HandoffGroup.DECLINED, _l("Declined")),
    (HandoffGroup.REDIRECTED, _l("Redirected")),
    (HandoffGroup.WITHDRAWN, _l("Withdrawn")),
    (HandoffGroup.EXPIRED, _l("Expired")),
    (ChainEnd.TAKEN_IN, _l("Taken in by the last partner")),
    (ChainEnd.PENDING, _l("Still awaiting an answer")),
    (ChainEnd.NOT_TAKEN_IN, _l("Not taken in")),
    (Metric.TO_TRAINING, _l("From orientation to training")),
    (Metric.TO_EMPLOYMENT, _l("From orientation to employment")),
    (Metric.TO_ANSWER, _l("From sending to the answer")),
    (Metric.TO_FIRST_CONTACT, _l("From sending to the first contact")),
    (Heading.NO_STRUCTURE, _l("No acting structure")),
    (Heading.ALL_STRUCTURES, _l("All partners")),
)


# Keyed by (enum class, member): members of two enums may share a value (``in_progress``),
# and StrEnum members with equal values would collapse into one key of a plain dict.
LABELS: dict[tuple[type[Enum], Enum], LazyString] = {(type(m), m): text for m, text in _PAIRS}


def enum_label(value: Enum | None) -> str:
    """The translated label of an enum member (an em dash for None)."""
    if value is None:
        return "—"
    return str(LABELS.get((type(value), value), value.value))


# What the button of each answer says (an action, where ``LABELS`` names what happened).
ACTION_LABELS: dict[HandoffEvent, LazyString] = {
    HandoffEvent.ACCEPT: _l("Accept"),
    HandoffEvent.DECLINE: _l("Decline"),
    HandoffEvent.REDIRECT: _l("Redirect to another partner"),
    HandoffEvent.WITHDRAW: _l("Withdraw the hand-off"),
    HandoffEvent.FIRST_CONTACT: _l("Record the first contact"),
    HandoffEvent.COMPLETE: _l("Close with an outcome"),
    HandoffEvent.NOT_COMPLETE: _l("Close without completion"),
}


def action_label(event: HandoffEvent) -> str:
    return str(ACTION_LABELS.get(event, event.value))
