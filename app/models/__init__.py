"""Every model, imported here so that the metadata is complete for Alembic."""

from app.models.api import ApiIdempotencyKey, ApiToken
from app.models.audit import AuditChainHead, AuditEvent, AuditEventPerson, AuditSeal
from app.models.base import Base
from app.models.beneficiary import (
    IDENTITY_FIELDS,
    Beneficiary,
    NameSearchToken,
    PersonKey,
    beneficiary_cohorts,
)
from app.models.consent import Consent
from app.models.directory import (
    StructureCard,
    StructureCardChange,
    StructureService,
    structure_card_items,
)
from app.models.erasure import ErasureRecord
from app.models.handoff import Handoff, HandoffTransition
from app.models.handoff_link import HandoffLink, LinkScope
from app.models.invitation import Invitation
from app.models.mail import MailKind, MailMessage
from app.models.network_event import NetworkEvent, network_event_structures
from app.models.orientation import OrientationCriterion, OrientationDecision
from app.models.pathway import Barrier, FollowUp, PathwayStep
from app.models.reference import ReferenceItem, ReferenceKind
from app.models.sign_in import LoginThrottle, OidcSignIn, UserIdentity, UserSession
from app.models.structure import Structure
from app.models.submission import SubmissionToken
from app.models.unmet_need import UnmetNeed, unmet_need_cohorts
from app.models.user import PasswordResetToken, RecoveryCode, User
from app.models.webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "IDENTITY_FIELDS",
    "ApiIdempotencyKey",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventPerson",
    "AuditSeal",
    "Barrier",
    "Base",
    "Beneficiary",
    "Consent",
    "ErasureRecord",
    "FollowUp",
    "Handoff",
    "HandoffLink",
    "HandoffTransition",
    "Invitation",
    "LinkScope",
    "LoginThrottle",
    "MailKind",
    "MailMessage",
    "NameSearchToken",
    "NetworkEvent",
    "OidcSignIn",
    "OrientationCriterion",
    "OrientationDecision",
    "PathwayStep",
    "PersonKey",
    "PasswordResetToken",
    "RecoveryCode",
    "ReferenceItem",
    "ReferenceKind",
    "Structure",
    "StructureCard",
    "StructureCardChange",
    "StructureService",
    "SubmissionToken",
    "UnmetNeed",
    "User",
    "UserIdentity",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "beneficiary_cohorts",
    "network_event_structures",
    "structure_card_items",
    "unmet_need_cohorts",
]
