"""The change history of directory cards.

Every change is kept in ``structure_card_changes`` with each field's old and new value (a
card holds no personal data) and in the audit log with the field names only. A change is an
``edit``, a ``check`` (the card was read again, nothing changed), a ``capacity`` update or an
``import``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import ReferenceItem, Structure, StructureCardChange, User
from app.services.security import audit

ACTIONS = {
    "edit": AuditAction.CARD_UPDATE,
    "check": AuditAction.CARD_CHECK,
    "capacity": AuditAction.CARD_CAPACITY,
    "import": AuditAction.CARD_IMPORT,
}


@dataclass(frozen=True)
class CardHistory:
    """The latest changes of a card, and every reference item by (kind, code) to name the
    codes they hold (items since retired included)."""

    changes: list[StructureCardChange]
    items: dict[tuple[str, str], ReferenceItem]


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def record_change(
    session: Session,
    actor: User | None,
    structure: Structure,
    kind: str,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> StructureCardChange:
    change = StructureCardChange(
        structure_id=structure.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        changes=changes,
        at=now,
    )
    session.add(change)
    action = ACTIONS[kind]
    audit.record(session, actor, action, structure, fields=",".join(sorted(changes)) or None)
    return change


def card_history(
    session: Session, structure: Structure, limit: int = 50
) -> list[StructureCardChange]:
    """The latest changes of a card, newest first."""
    query = (
        select(StructureCardChange)
        .where(StructureCardChange.structure_id == structure.id)
        .order_by(StructureCardChange.at.desc(), StructureCardChange.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def card_history_to_show(session: Session, structure: Structure) -> CardHistory:
    """The latest changes of a card with the reference items their codes name."""
    items = {(item.kind.value, item.code): item for item in session.scalars(select(ReferenceItem))}
    return CardHistory(changes=card_history(session, structure), items=items)
