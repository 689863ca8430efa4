"""What people read for the domain's enums, in the current language."""

from __future__ import annotations

from enum import Enum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.domain.audit import AuditAction
from app.domain.capacity import CapacityStatus
from app.domain.employment import ContractType
from app.domain.handoffs import HandoffEvent, HandoffStatus, WithdrawCause
from app.domain.lost_from_view import LostReason
from app.domain.orientation import DecisionReason, StrongestLevel
from app.domain.pathway import BarrierLevel, BarrierStatus, ConsentMethod
from app.domain.people import EducationLevel, Sex
from app.domain.rights import ErasureCause, WithdrawalSource
from app.domain.roles import Role
from app.domain.unmet_needs import UnmetNeedSource
from app.models.reference import ReferenceKind
from app.services.statistics.cohorts import OutcomeBand
from app.services.statistics.decisions import DecisionKind
from app.services.statistics.delay_queries import DelayBand, DelayLeg
from app.services.statistics.delays import DelayHeading
from app.services.statistics.flows import FlowEnd
from app.services.statistics.headings import ChainEnd, HandoffGroup, Heading, Metric
from app.services.statistics.trend_queries import AnswerTime, TrendSeries
from app.services.statistics.unmet_needs import NeedHeading

_PAIRS: tuple[tuple[Enum, LazyString], ...] = (
    (CapacityStatus.AVAILABLE, _l("Places available")),
    (CapacityStatus.WAITING_LIST, _l("Waiting list")),
    (CapacityStatus.FULL, _l("Full")),
    (CapacityStatus.ASSESSMENT, _l("Assessment required")),
    (LostReason.NO_NEWS, _l("No news")),
    (LostReason.NO_FIRST_CONTACT, _l("Accepted, no first contact")),
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
    (HandoffEvent.REMIND, _l("Reminder sent to the partner")),
    (HandoffEvent.FOLLOW_UP_ENDED, _l("Follow-up ended by the receiving structure")),
    (HandoffEvent.FOLLOW_UP_KEPT, _l("Follow-up kept by the receiving structure")),
    (BarrierStatus.IDENTIFIED, _l("Identified")),
    (BarrierStatus.IN_PROGRESS, _l("Being lifted")),
    (BarrierStatus.LIFTED, _l("Lifted")),
    (BarrierStatus.PERSISTING, _l("Persisting")),
    (BarrierStatus.NOT_ADDRESSED, _l("Not addressed")),
    (BarrierLevel.STRONG, _l("Strong impact on the job search")),
    (BarrierLevel.MODERATE, _l("Moderate impact on the job search")),
    (BarrierLevel.NO_IMPACT, _l("No impact on the job search")),
    (ContractType.CDI, _l("Permanent contract (CDI)")),
    (ContractType.CDD_LONG, _l("Fixed-term contract of 6 months or more (CDD)")),
    (ContractType.CDD_SHORT, _l("Fixed-term contract under 6 months (CDD)")),
    (ContractType.INTERIM, _l("Temporary agency work (interim)")),
    (ContractType.APPRENTICESHIP, _l("Apprenticeship or work-study (alternance)")),
    (ContractType.SUBSIDISED, _l("Subsidised contract (contrat aidé, PEC)")),
    (ContractType.IAE, _l("Work integration contract (IAE)")),
    (ContractType.BUSINESS_CREATION, _l("Business creation")),
    (ContractType.PAID_TRAINING, _l("Paid training")),
    (DecisionReason.FIRST_ORIENTATION, _l("First orientation")),
    (DecisionReason.BARRIERS_LIFTED, _l("Barriers eased")),
    (DecisionReason.NEW_BARRIER, _l("New or heavier barrier")),
    (DecisionReason.PERSON_REQUEST, _l("At the person's request")),
    (DecisionReason.REVIEW, _l("Pathway review")),
    (StrongestLevel.STRONG, _l("At least one strong barrier")),
    (StrongestLevel.MODERATE, _l("Moderate barriers at most")),
    (StrongestLevel.NO_IMPACT, _l("Barriers without impact only")),
    (StrongestLevel.NONE_ASSESSED, _l("No barrier assessed")),
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
    (Role.FIELD_WORKER, _l("Field worker")),
    (ReferenceKind.STRUCTURE_TYPE, _l("Structure types")),
    (ReferenceKind.COHORT, _l("Cohorts")),
    (ReferenceKind.BARRIER_CATEGORY, _l("Barrier categories")),
    (ReferenceKind.STAGE, _l("Pathway stages")),
    (ReferenceKind.DECLINE_REASON, _l("Reasons for declining a hand-off")),
    (ReferenceKind.OUTCOME, _l("Hand-off outcomes")),
    (ReferenceKind.END_REASON, _l("Reasons for ending a follow-up")),
    (ReferenceKind.QPV, _l("Priority neighbourhoods (QPV)")),
    (ReferenceKind.PATHWAY_TYPE, _l("Pathway types (orientation)")),
    (ReferenceKind.UNMET_NEED_PRECISION, _l("Why no partner was found (unmet needs)")),
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
    (FlowEnd.STAYED, _l("Still there (no further step)")),
    (FlowEnd.LOST, _l("Lost from view")),
    (OutcomeBand.WITHIN_3, _l("Within 3 months")),
    (OutcomeBand.WITHIN_6, _l("3 to 6 months")),
    (OutcomeBand.WITHIN_12, _l("6 to 12 months")),
    (OutcomeBand.NOT_REACHED, _l("Not reached within 12 months (or not yet)")),
    (DecisionKind.FIRST, _l("First decision")),
    (DecisionKind.CHANGE, _l("Later decision (change or review)")),
    (DelayLeg.REGISTRATION_TO_DECISION, _l("From registration to the first orientation decision")),
    (DelayLeg.SENT_TO_ANSWER, _l("From sending a hand-off to its answer")),
    (DelayLeg.ANSWER_TO_FIRST_CONTACT, _l("From accepting a hand-off to the first contact")),
    (DelayLeg.SENT_TO_FIRST_CONTACT, _l("From sending a hand-off to the first contact")),
    (DelayBand.WITHIN_TARGET, _l("Within the target")),
    (DelayBand.WITHIN_CONTRACT, _l("Within the contracted delay")),
    (DelayBand.LATER, _l("Later")),
    (DelayBand.OVERDUE, _l("Not reached, overdue")),
    (DelayBand.OPEN, _l("Not reached yet, still in time")),
    (DelayHeading.ALL, _l("All")),
    (DelayHeading.NO_QPV, _l("Not in a QPV (or unknown)")),
    (Metric.TO_TRAINING, _l("From orientation to training")),
    (Metric.TO_EMPLOYMENT, _l("From orientation to employment")),
    (Metric.TO_ANSWER, _l("From sending to the answer")),
    (Metric.TO_FIRST_CONTACT, _l("From sending to the first contact")),
    (UnmetNeedSource.NO_CAPACITY, _l("Declined: no place")),
    (UnmetNeedSource.NOT_ELIGIBLE, _l("Declined: not eligible")),
    (UnmetNeedSource.NO_SUCH_SERVICE, _l("Declined: no such service")),
    (UnmetNeedSource.EXPIRED, _l("Expired without an answer")),
    (UnmetNeedSource.NO_SOLUTION, _l("No solution found")),
    (NeedHeading.STAGE, _l("A pathway stage (no barrier)")),
    (NeedHeading.OUTSIDE_QPV, _l("Outside any QPV")),
    (Heading.NO_STRUCTURE, _l("No acting structure")),
    (Heading.ALL_STRUCTURES, _l("All partners")),
    (TrendSeries.ENTRIES, _l("People entering the network")),
    (TrendSeries.TRAINING, _l("People reaching training")),
    (TrendSeries.EMPLOYMENT, _l("People reaching employment")),
    (AnswerTime.WITHIN, _l("Answered within 10 days")),
    (AnswerTime.LATE, _l("Answered after 10 days")),
    (AnswerTime.UNANSWERED, _l("No answer after 10 days")),
    (AnswerTime.WAITING, _l("Awaiting an answer (under 10 days)")),
    (WithdrawCause.CONSENT_WITHDRAWN, _l("the person withdrew their consent")),
    (WithdrawCause.ERASURE, _l("the person's data was erased")),
    (WithdrawalSource.ORAL, _l("Orally (in person or on the phone)")),
    (WithdrawalSource.WRITTEN, _l("In writing (letter or signed form)")),
    (WithdrawalSource.EMAIL, _l("By e-mail")),
    (WithdrawalSource.ERASURE, _l("Erasure of the person's data")),
    (ErasureCause.REQUEST, _l("At the person's request")),
    (ErasureCause.RETENTION, _l("Retention time passed")),
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


# What the access record of a person (subject access) says each audit event was.
AUDIT_LABELS: dict[str, LazyString] = {
    AuditAction.BENEFICIARY_CREATE: _l("Registration"),
    AuditAction.BENEFICIARY_REVEAL: _l("Identity consulted"),
    AuditAction.BENEFICIARY_UPDATE: _l("Identity changed"),
    AuditAction.BENEFICIARY_FACTS: _l("Registration facts corrected"),
    AuditAction.IMPORT: _l("Registration by import"),
    AuditAction.PATHWAY_VIEW: _l("Pseudonymous pathway consulted"),
    AuditAction.FOLLOW_UP_START: _l("Follow-up started"),
    AuditAction.FOLLOW_UP_END: _l("Follow-up ended"),
    AuditAction.STEP_ADD: _l("Step recorded"),
    AuditAction.BARRIER_ADD: _l("Barrier recorded"),
    AuditAction.BARRIER_STATUS: _l("Barrier status changed"),
    AuditAction.BARRIER_ASSESS: _l("Barrier level or detail changed"),
    AuditAction.ORIENTATION_DECIDE: _l("Pathway type decided"),
    AuditAction.UNMET_NEED_RECORD: _l("No solution found recorded"),
    AuditAction.CONSENT_RECORD: _l("Consent recorded"),
    AuditAction.CONSENT_WITHDRAW: _l("Consent withdrawn"),
    AuditAction.HANDOFF_SEND: _l("Hand-off sent"),
    AuditAction.HANDOFF_TRANSITION: _l("Hand-off answered or closed"),
    AuditAction.SUBJECT_ACCESS_EXPORT: _l("Whole file exported (subject access)"),
    AuditAction.BENEFICIARY_ERASE: _l("Data erased"),
    AuditAction.ERASURE_REAPPLY: _l("Erasure applied again after a restore"),
    AuditAction.ERASURE_NOTICE: _l("Erasure notice (retention time passed)"),
    AuditAction.ERASURE_NOTICE_CANCEL: _l("Erasure notice cancelled"),
    AuditAction.DATA_KEY_ROTATE: _l("Encryption key of the file renewed"),
}

# Why an identity was consulted (the ``purpose`` of an audit event).
PURPOSE_LABELS: dict[str, LazyString] = {
    "person_page": _l("Reading the person's page"),
    "caseload": _l("List of the people followed"),
    "edit_identity": _l("Correcting the identity"),
    "subject_access": _l("Request of the person to access their data"),
    "erasure": _l("Erasure of the person's data"),
    "statistics": _l("Statistics"),
}


def audit_label(action: str) -> str:
    """What an audit tag means, in the current language (the tag itself when unknown)."""
    return str(AUDIT_LABELS.get(action, action))


def purpose_label(purpose: str | None) -> str:
    """Why it was done, in the current language (an em dash when not given)."""
    if not purpose:
        return "—"
    return str(PURPOSE_LABELS.get(purpose, purpose))
