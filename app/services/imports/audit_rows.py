"""The audit events of an import, as rows: chained by ``audit.append_many`` and inserted in bulk
with the people, rather than recorded one by one.

An import writes what a page view writes for the people it shows: one event for many people
(``listing_row``, the shape of ``audit.record_many``: ``subject_id`` ``*``, ``data["people"]``
the people's ids, ``data["subjects"]`` the rows' ids when they are not the people), each
listed person findable through ``audit_event_people`` (``audit_people.about_person``). See
docs/security.md, "Audit" (what an import records).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.domain.audit import AuditAction
from app.models import User
from app.services.security import audit, audit_people

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


def listing_row(
    actor: User,
    action: AuditAction,
    subject_type: str,
    people: Sequence[uuid.UUID],
    subjects: Sequence[uuid.UUID] | None = None,
    **data: str | int | None,
) -> AuditRow:
    """One audit event about many people, as ``audit.record_many`` records a page's: the
    people (and the rows, ``subjects``, when they are not the people) listed in its data, the
    person named in ``beneficiary_id`` too when there is only one."""
    if not people:
        raise ValueError("a listing event lists at least one person")
    listing: dict[str, Any] = {audit_people.LIST_KEY: [str(person) for person in people]}
    if subjects is not None:
        if len(subjects) != len(people):
            raise ValueError("one subject per person listed")
        listing["subjects"] = [str(subject) for subject in subjects]
    row = audit_row(
        actor,
        action,
        subject_type,
        audit.LISTED,
        beneficiary_id=people[0] if len(people) == 1 else None,
    )
    row["data"] = {**data, **listing}
    return row
