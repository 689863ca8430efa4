"""The audit events of an import, as rows: chained by ``audit.append_many`` and inserted in bulk
with the people, rather than recorded one by one."""

from __future__ import annotations

import uuid
from typing import Any

from app.domain.audit import AuditAction
from app.models import User

# The purpose written on every audit event of an import.
AUDIT_PURPOSE = "import"

AuditRow = dict[str, Any]  # the columns ``audit.record`` fills, by name


def audit_row(
    actor: User,
    action: AuditAction,
    subject_type: str,
    subject_id: str,
    *,
    beneficiary_id: uuid.UUID | None = None,
    **data: str | int | None,
) -> AuditRow:
    """An audit event as ``audit.record`` writes it, as a row for a bulk insert."""
    return {
        "actor_id": actor.id,
        "actor_structure_id": actor.structure_id,
        "action": action.value,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "beneficiary_id": beneficiary_id,
        "purpose": AUDIT_PURPOSE,
        "data": data,
    }
