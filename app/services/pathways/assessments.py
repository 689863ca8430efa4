"""What a barrier is made of: its level on the national scale and its (encrypted) detail,
corrected by a caseworker of a structure that follows the person, audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.pathway import BarrierLevel
from app.models import Barrier, Beneficiary, User
from app.services.pathways.recording import _acting_structure as acting_structure
from app.services.security import audit
from app.services.security.vault import Vault

DETAIL_LIMIT = 300


def assess_barrier(
    session: Session,
    vault: Vault,
    actor: User,
    barrier: Barrier,
    *,
    level: BarrierLevel | None,
    detail: str | None,
) -> list[str]:
    """Set the barrier's ``level`` (``None``: not assessed) and ``detail`` (blank: none).

    Returns the names of what changed (``level``, ``detail``), recorded in the audit event
    (the names only: the detail is personal data). ``Forbidden`` unless the actor's structure
    follows the person.
    """
    person = session.get(Beneficiary, barrier.beneficiary_id)
    assert person is not None
    acting_structure(actor, person, session)
    detail = (detail or "").strip() or None
    key = vault.sealing_key(session, person.id)
    before = vault.open(key, "barriers", "detail", barrier.id, person.id, barrier.detail)
    changed = []
    if barrier.level is not level:
        barrier.level = level
        changed.append("level")
    if before != detail:
        barrier.detail = vault.seal(key, "barriers", "detail", barrier.id, person.id, detail)
        changed.append("detail")
    if changed:
        audit.record(
            session,
            actor,
            AuditAction.BARRIER_ASSESS,
            barrier,
            beneficiary_id=person.id,
            fields=",".join(changed),
            level=level.value if level is not None else None,
        )
    return changed
