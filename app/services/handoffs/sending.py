"""Sending a person to a partner structure: checks (consent, an active partner, a purpose), the
hand-off row, its first transition, the audit event and the mail to the receiver."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.audit import AuditAction
from app.domain.handoffs import (
    HandoffEvent,
    HandoffStatus,
)
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    Handoff,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
)
from app.services.errors import N_, Conflict, Forbidden, InvalidInput
from app.services.handoffs.history import record_transition
from app.services.handoffs.link_offers import offer_answer_link
from app.services.mail.queue import notify_handoff
from app.services.people.access import open_follow_up
from app.services.people.registration import active_consent
from app.services.security import audit
from app.services.security.vault import Vault
from app.services.structures import reference_item
from app.services.webhooks.queue import notify_webhooks


def send_handoff(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink,
    person: Beneficiary,
    *,
    to_structure: Structure,
    now: datetime,
    purpose_stage_code: str | None = None,
    purpose_barrier: Barrier | None = None,
    note: str | None = None,
    consent_confirmed: bool,
    parent: Handoff | None = None,
) -> Handoff:
    """Hand ``person`` from the actor's structure to ``to_structure`` for a stage or a barrier.

    Needs an open follow-up by the actor's structure (or a redirect), the person's recorded
    consent to share with the network and the actor's confirmation that they agree to this one.
    ``Conflict`` when the same hand-off (sender, receiver, purpose) already waits for an
    answer - sent earlier, or at the same moment by another request. A structure acting from
    a mailed link (``StructureByLink``) only redirects a hand-off it received (``parent``).
    """
    from_id = _sending_structure(actor, parent)
    if parent is None and open_follow_up(session, person.id, from_id) is None:
        raise Forbidden(N_("Your structure does not follow this person."))
    if active_consent(session, person.id) is None:
        raise InvalidInput(
            N_("This person's consent to share with the network is not recorded."), field="consent"
        )
    if not consent_confirmed:
        raise InvalidInput(N_("Confirm that the person agrees to this hand-off."), field="consent")
    if to_structure.id == from_id or not to_structure.active:
        raise InvalidInput(N_("Choose another active partner structure."), field="to_structure")
    if (purpose_stage_code is None) == (purpose_barrier is None):
        raise InvalidInput(N_("Choose one purpose: a stage or a barrier."), field="purpose")
    if purpose_barrier is not None and purpose_barrier.beneficiary_id != person.id:
        raise InvalidInput(N_("This barrier is not this person's."), field="purpose")
    stage = (
        reference_item(session, ReferenceKind.STAGE, purpose_stage_code)
        if purpose_stage_code
        else None
    )
    if _waiting_repeat(session, person.id, from_id, to_structure.id, stage, purpose_barrier):
        raise _already_waiting()
    handoff = Handoff(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        from_structure_id=from_id,
        from_user_id=actor.id,
        to_structure_id=to_structure.id,
        purpose_stage_id=stage.id if stage else None,
        purpose_barrier_id=purpose_barrier.id if purpose_barrier else None,
        consent_confirmed=True,
        status=HandoffStatus.SENT,
        sent_at=now,
        parent_id=parent.id if parent else None,
    )
    if note and note.strip():
        key = vault.sealing_key(session, person.id)
        handoff.note = vault.seal(key, "handoffs", "note", handoff.id, person.id, note.strip())
    _insert_once(session, handoff, stage, purpose_barrier)
    record_transition(session, vault, actor, handoff, HandoffEvent.SEND, None, now, None, None)
    audit.record(
        session,
        actor,
        AuditAction.HANDOFF_SEND,
        handoff,
        beneficiary_id=person.id,
        to_structure=to_structure.id,
    )
    notify_handoff(session, handoff, HandoffEvent.SEND)
    notify_webhooks(session, handoff, HandoffEvent.SEND, now=now)
    offer_answer_link(session, handoff, now=now)
    return handoff


def _sending_structure(actor: User | StructureByLink, parent: Handoff | None) -> int:
    """The structure that sends: a caseworker's, or the receiver of ``parent`` redirecting it
    from a mailed link; else ``Forbidden``."""
    if isinstance(actor, StructureByLink):
        if parent is None or parent.to_structure_id != actor.structure_id:
            raise Forbidden(N_("Only caseworkers hand people off."))
        return actor.structure_id
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers hand people off."))
    return actor.structure_id


def _waiting_repeat(
    session: Session,
    person_id: uuid.UUID,
    from_id: int,
    to_id: int,
    stage: ReferenceItem | None,
    barrier: Barrier | None,
) -> bool:
    """Whether the same hand-off (person, sender, receiver, purpose) waits for an answer."""
    query = select(Handoff.id).where(
        Handoff.beneficiary_id == person_id,
        Handoff.from_structure_id == from_id,
        Handoff.to_structure_id == to_id,
        Handoff.status == HandoffStatus.SENT,
    )
    if stage is not None:
        query = query.where(Handoff.purpose_stage_id == stage.id)
    else:
        query = query.where(Handoff.purpose_barrier_id == (barrier.id if barrier else None))
    return session.scalar(query.limit(1)) is not None


def _already_waiting() -> Conflict:
    return Conflict(
        N_(
            "This person's hand-off to this structure for this purpose is already waiting for "
            "an answer."
        ),
        field="to_structure",
    )


def _insert_once(
    session: Session, handoff: Handoff, stage: ReferenceItem | None, barrier: Barrier | None
) -> None:
    """Insert ``handoff``; the same one sent at the same moment by another request (the
    unique index ``uq_handoffs_pending_*`` made this insert wait for it) gives ``Conflict``."""
    try:
        with session.begin_nested():
            session.add(handoff)
            session.flush()
    except IntegrityError:
        ids = handoff.beneficiary_id, handoff.from_structure_id, handoff.to_structure_id
        if not _waiting_repeat(session, *ids, stage, barrier):
            raise
        raise _already_waiting() from None
