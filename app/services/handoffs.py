"""Hand-offs between structures: sending, and every transition of the state machine.

Which transitions exist is decided by ``app.domain.handoffs`` only; this module finds the
actor's party, applies the table, records an immutable transition event and the audit event,
and applies the side effects (a follow-up on acceptance, a barrier or stage on completion).
Two concurrent answers cannot both win: the hand-off row carries a version checked on update.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.domain.audit import AuditAction
from app.domain.handoffs import (
    EVENTS_NEEDING_REASON,
    HandoffEvent,
    HandoffStatus,
    InvalidTransition,
    Party,
    WithdrawCause,
    allowed_events,
    next_status,
    outcome_fits,
)
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    Handoff,
    HandoffTransition,
    ReferenceKind,
    Structure,
    User,
)
from app.services import audit, notifications
from app.services.access import open_follow_up
from app.services.errors import N_, Conflict, Forbidden, InvalidInput
from app.services.pathways import move_barrier, record_step, start_follow_up
from app.services.people import active_consent
from app.services.structures import reference_item
from app.services.vault import Vault

# What a completed hand-off changes on the barrier it was about.
BARRIER_AFTER_OUTCOME = {"barrier_lifted": BarrierStatus.LIFTED}
# What a completed hand-off adds to the pathway (a stage reached with the receiving structure).
STAGE_AFTER_OUTCOME = {"training_entered": "training", "job_signed": "employment"}


def parties(actor: User | None, handoff: Handoff) -> frozenset[Party]:
    """The actor's relations to the hand-off (none for an outsider)."""
    if actor is None:
        return frozenset({Party.SYSTEM})
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return frozenset()
    found = set()
    if actor.structure_id == handoff.from_structure_id:
        found.add(Party.SENDER)
    if actor.structure_id == handoff.to_structure_id:
        found.add(Party.RECEIVER)
    return frozenset(found)


def available_events(actor: User | None, handoff: Handoff) -> list[HandoffEvent]:
    """What ``actor`` may do with ``handoff`` now: what the page offers.

    Nothing once the person's data is erased: nothing more is recorded about them.
    """
    if handoff.beneficiary.erased_at is not None:
        return []
    return allowed_events(handoff.status, parties(actor, handoff))


def send_handoff(
    session: Session,
    vault: Vault,
    actor: User,
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
    """
    from_id = actor.structure_id
    if actor.role is not Role.CASEWORKER or from_id is None:
        raise Forbidden(N_("Only caseworkers hand people off."))
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
        key = vault.person_key(session, person.id)
        handoff.note = vault.seal(key, "handoffs", "note", handoff.id, person.id, note.strip())
    session.add(handoff)
    session.flush()
    _record_transition(session, vault, actor, handoff, HandoffEvent.SEND, None, now, None, None)
    audit.record(
        session,
        actor,
        AuditAction.HANDOFF_SEND,
        handoff,
        beneficiary_id=person.id,
        to_structure=to_structure.id,
    )
    notifications.notify_handoff(session, handoff, HandoffEvent.SEND)
    return handoff


def apply_event(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    event: HandoffEvent,
    *,
    now: datetime,
    reason_code: str | None = None,
    message: str | None = None,
    redirect_to: Structure | None = None,
) -> Handoff:
    """Apply ``event`` to ``handoff`` as ``actor`` (``None`` for the deadline rule).

    Raises ``Forbidden`` for an outsider, ``InvalidInput`` for a transition the table does not
    allow or a missing reason, ``Conflict`` when someone else answered first. Returns the new
    hand-off created by a redirect, or ``handoff`` itself.
    """
    acting = parties(actor, handoff)
    if not acting:
        raise Forbidden(N_("Your structure is not a party to this hand-off."))
    return _apply(
        session,
        vault,
        actor,
        handoff,
        event,
        acting,
        now=now,
        reason_code=reason_code,
        message=message,
        redirect_to=redirect_to,
    )


def withdraw_for_person(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    *,
    now: datetime,
    cause: WithdrawCause,
) -> None:
    """Withdraw a pending hand-off on the person's side (``Party.PERSON`` in the table).

    Used when the person withdraws their consent or has their data erased: ``actor`` is the
    caseworker who records it (``None`` for the retention rule), who need not be the sender.
    The transition carries ``cause`` instead of a message. Raises ``InvalidInput`` if the
    hand-off is no longer pending, ``Conflict`` if someone answered it at the same moment.
    """
    _apply(
        session,
        vault,
        actor,
        handoff,
        HandoffEvent.WITHDRAW,
        frozenset({Party.PERSON}),
        now=now,
        cause=cause,
    )


def withdraw_pending(
    session: Session,
    vault: Vault,
    actor: User | None,
    person_id: uuid.UUID,
    *,
    now: datetime,
    cause: WithdrawCause,
) -> list[Handoff]:
    """Withdraw, on the person's side, every hand-off of theirs still waiting for an answer."""
    pending = list(
        session.scalars(
            select(Handoff)
            .where(Handoff.beneficiary_id == person_id, Handoff.status == HandoffStatus.SENT)
            .order_by(Handoff.sent_at, Handoff.id)
        )
    )
    for handoff in pending:
        withdraw_for_person(session, vault, actor, handoff, now=now, cause=cause)
    return pending


def _apply(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    event: HandoffEvent,
    acting: frozenset[Party],
    *,
    now: datetime,
    reason_code: str | None = None,
    message: str | None = None,
    redirect_to: Structure | None = None,
    cause: WithdrawCause | None = None,
) -> Handoff:
    if handoff.beneficiary.erased_at is not None:
        raise InvalidInput(N_("This person's data has been erased: nothing more is recorded."))
    if event is HandoffEvent.REDIRECT and (redirect_to is None or actor is None):
        raise InvalidInput(N_("Choose the partner to redirect to."), field="redirect_to")
    source = handoff.status
    target = _target(source, event, acting)
    if event is HandoffEvent.WITHDRAW and cause is None and not (message and message.strip()):
        raise InvalidInput(N_("Say why the hand-off is withdrawn."), field="message")
    reason_id = _reason_id(session, event, reason_code)
    handoff.status = target
    _stamp(handoff, event, now, reason_id)
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(N_("Someone else answered this hand-off first.")) from exc
    _record_transition(
        session, vault, actor, handoff, event, source, now, reason_id, message, cause
    )
    audit.record(
        session,
        actor,
        AuditAction.HANDOFF_TRANSITION,
        handoff,
        beneficiary_id=handoff.beneficiary_id,
        event=event.value,
        status=target.value,
        **({"cause": cause.value} if cause is not None else {}),
    )
    notifications.notify_handoff(session, handoff, event)
    return _side_effects(
        session, vault, actor, handoff, event, now, reason_code, message, redirect_to
    )


def _target(source: HandoffStatus, event: HandoffEvent, acting: frozenset[Party]) -> HandoffStatus:
    for party in sorted(acting):
        try:
            return next_status(source, event, party)
        except InvalidTransition:
            continue
    raise InvalidInput(N_("This action is not possible on this hand-off now."))


def _reason_id(session: Session, event: HandoffEvent, reason_code: str | None) -> int | None:
    if event not in EVENTS_NEEDING_REASON:
        return None
    if not reason_code:
        raise InvalidInput(N_("Choose a reason."), field="reason")
    if event is HandoffEvent.DECLINE:
        return reference_item(session, ReferenceKind.DECLINE_REASON, reason_code).id
    if not outcome_fits(event, reason_code):
        raise InvalidInput(N_("This outcome does not fit this way of closing."), field="reason")
    return reference_item(session, ReferenceKind.OUTCOME, reason_code).id


def _stamp(handoff: Handoff, event: HandoffEvent, now: datetime, reason_id: int | None) -> None:
    if event in {HandoffEvent.ACCEPT, HandoffEvent.DECLINE, HandoffEvent.REDIRECT}:
        handoff.answered_at = now
    if event is HandoffEvent.FIRST_CONTACT:
        handoff.first_contact_at = now
    if event is HandoffEvent.DECLINE:
        handoff.decline_reason_id = reason_id
    if event in {HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE}:
        handoff.outcome_id = reason_id
    if handoff.status.is_final:
        handoff.closed_at = now


def _record_transition(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    event: HandoffEvent,
    source: HandoffStatus | None,
    now: datetime,
    reason_id: int | None,
    message: str | None,
    cause: WithdrawCause | None = None,
) -> None:
    row = HandoffTransition(
        id=uuid.uuid4(),
        handoff_id=handoff.id,
        event=event,
        from_status=source,
        to_status=handoff.status,
        actor_id=actor.id if actor else None,
        actor_structure_id=actor.structure_id if actor else None,
        reason_id=reason_id,
        cause=cause,
        at=now,
    )
    if message and message.strip():
        key = vault.person_key(session, handoff.beneficiary_id)
        row.message = vault.seal(
            key, "handoff_transitions", "message", row.id, handoff.beneficiary_id, message.strip()
        )
    session.add(row)


def _side_effects(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    event: HandoffEvent,
    now: datetime,
    reason_code: str | None,
    message: str | None,
    redirect_to: Structure | None,
) -> Handoff:
    if event is HandoffEvent.ACCEPT:
        start_follow_up(
            session,
            actor,
            handoff.beneficiary_id,
            handoff.to_structure_id,
            on=now.date(),
            referent_id=actor.id if actor else None,
        )
    if event is HandoffEvent.COMPLETE:
        _apply_outcome(session, vault, actor, handoff, now, reason_code or "")
    if event is HandoffEvent.REDIRECT and redirect_to is not None and actor is not None:
        person = session.get(Beneficiary, handoff.beneficiary_id)
        assert person is not None
        return send_handoff(
            session,
            vault,
            actor,
            person,
            to_structure=redirect_to,
            now=now,
            purpose_stage_code=handoff.purpose_stage.code if handoff.purpose_stage else None,
            purpose_barrier=handoff.purpose_barrier,
            note=message,
            consent_confirmed=True,
            parent=handoff,
        )
    return handoff


def _apply_outcome(
    session: Session,
    vault: Vault,
    actor: User | None,
    handoff: Handoff,
    now: datetime,
    outcome_code: str,
) -> None:
    """A completed hand-off lifts the barrier it was about, or records the stage reached."""
    barrier_status = BARRIER_AFTER_OUTCOME.get(outcome_code)
    if barrier_status is not None and handoff.purpose_barrier is not None:
        move_barrier(session, actor, handoff.purpose_barrier, barrier_status, on=now.date())
    stage_code = STAGE_AFTER_OUTCOME.get(outcome_code)
    person = session.get(Beneficiary, handoff.beneficiary_id)
    if stage_code is not None and person is not None:
        record_step(
            session,
            vault,
            actor,
            person,
            structure_id=handoff.to_structure_id,
            stage_code=stage_code,
            started_on=now.date(),
        )
