"""Every model, imported here so that the metadata is complete for Alembic."""

from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.beneficiary import IDENTITY_FIELDS, Beneficiary, PersonKey, beneficiary_cohorts
from app.models.consent import Consent
from app.models.handoff import Handoff, HandoffTransition
from app.models.mail import MailKind, MailMessage
from app.models.pathway import Barrier, FollowUp, PathwayStep
from app.models.reference import ReferenceItem, ReferenceKind
from app.models.structure import Structure
from app.models.user import User

__all__ = [
    "IDENTITY_FIELDS",
    "AuditEvent",
    "Barrier",
    "Base",
    "Beneficiary",
    "Consent",
    "FollowUp",
    "Handoff",
    "HandoffTransition",
    "MailKind",
    "MailMessage",
    "PathwayStep",
    "PersonKey",
    "ReferenceItem",
    "ReferenceKind",
    "Structure",
    "User",
    "beneficiary_cohorts",
]
