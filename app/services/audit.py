"""Writing the audit log, in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent, User


def record(
    session: Session,
    actor: User | None,
    action: AuditAction,
    subject: Any,
    *,
    beneficiary_id: uuid.UUID | None = None,
    purpose: str | None = None,
    **data: str | int | None,
) -> AuditEvent:
    """Append one audit event about ``subject`` (a model with an ``id``). Ids only in ``data``."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_structure_id=actor.structure_id if actor else None,
        action=action.value,
        subject_type=type(subject).__tablename__,
        subject_id=str(subject.id),
        beneficiary_id=beneficiary_id,
        purpose=purpose,
        data=data,
    )
    session.add(event)
    return event
