"""Every answer to a hand-off after it was sent: the state machine applied.

Which transitions exist is decided by ``app.domain.handoffs`` only; this module finds the
actor's party, applies the table, records an immutable transition event and the audit event,
and applies the side effects (a follow-up on acceptance, a barrier or stage on completion).
Two concurrent answers cannot both win: the hand-off row carries a version checked on update.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.audit import AuditAction
from app.domain.effective_dates import Floor, barrier_floor, field_day
from app.domain.employment import Employment, job_start_fits
from app.domain.handoffs import (
    BACKDATED_EVENTS,
    EVENTS_NEEDING_REASON,
    HandoffEvent,
    HandoffStatus,
    InvalidTransition,
    Party,
    WithdrawCause,
    event_floor,
    next_status,
    outcome_fits,
)
from app.domain.pathway import BarrierStatus
from app.models import (
    Beneficiary,
    Handoff,
    ReferenceKind,
    Structure,
    User,
)
from app.services.core_writes import written
from app.services.effective_dates import effective_day, not_before
from app.services.errors import N_, Conflict, Forbidden, InvalidInput
from app.services.handoffs.history import record_transition
from app.services.handoffs.link_tokens import revoke_after_transition
from app.services.handoffs.parties import parties
from app.services.handoffs.repeats import refuse_repeat
from app.services.handoffs.sending import send_handoff
from app.services.mail.queue import notify_handoff
from app.services.pathways import move_barrier, note_event, record_step, start_follow_up
from app.services.security import audit
from app.services.security.vault import Vault
from app.services.structures import reference_item
from app.services.unmet_needs import record_for_handoff
from app.services.webhooks.queue import notify_webhooks

# What a completed hand-off changes on the barrier it was about.
BARRIER_AFTER_OUTCOME = {"barrier_lifted": BarrierStatus.LIFTED}


# What a completed hand-off adds to the pathway (a stage reached with the receiving structure).
JOB_SIGNED = "job_signed"
STAGE_AFTER_OUTCOME = {"training_entered": "training", JOB_SIGNED: "employment"}


def apply_event(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    *,
    now: datetime,
    on: date | None = None,
    reason_code: str | None = None,
    message: str | None = None,
    redirect_to: Structure | None = None,
    employment: Employment | None = None,
) -> Handoff:
    """Apply ``event`` to ``handoff`` as ``actor`` (``None`` for the deadline rule), recorded
    at ``now``; ``on`` is the day it happened, for the events that may be back-dated (today
    if not given; ``app.domain.handoffs.BACKDATED_EVENTS``): a day out of bounds is an
    ``InvalidInput`` on the field ``on``, naming the bound.

    ``employment`` describes the job of a "job signed" outcome (contract, first day,
    employer): the employment step it records carries it.
    Raises ``Forbidden`` for an outsider, ``InvalidInput`` for a transition the table does not
    allow or a missing reason, ``Conflict`` when someone else answered first,
    ``AlreadyRecorded`` when the actor's structure gave this same answer already. Returns the new
    hand-off created by a redirect, or ``handoff`` itself.
    """
    acting = parties(actor, handoff)
    if not acting:
        raise Forbidden(N_("Your structure is not a party to this hand-off."))
    return apply_transition(
        session,
        vault,
        actor,
        handoff,
        event,
        acting,
        now=now,
        on=on,
        reason_code=reason_code,
        message=message,
        redirect_to=redirect_to,
        employment=employment,
    )


def event_day(handoff: Handoff, event: HandoffEvent, on: date | None, now: datetime) -> date:
    """The day ``event`` happened: ``on`` for an event that may be back-dated, checked against
    what it follows (``app.domain.handoffs.event_floor``) and today; else the day of ``now``."""
    today = field_day(now)
    if event not in BACKDATED_EVENTS:
        return today
    return effective_day(on, today=today, floor=floor_of(handoff, event))


def _check_outcome_day(
    handoff: Handoff, event: HandoffEvent, reason_code: str | None, day: date
) -> None:
    """An outcome that moves the hand-off's barrier may not precede the barrier's last
    change: checked before anything is written."""
    barrier = handoff.purpose_barrier
    if event is not HandoffEvent.COMPLETE or barrier is None:
        return
    if BARRIER_AFTER_OUTCOME.get(reason_code or "") not in (None, barrier.status):
        not_before(day, barrier_floor(barrier.identified_on, barrier.status_on))


def floor_of(handoff: Handoff, event: HandoffEvent) -> Floor:
    """The earliest day ``event`` may take on ``handoff`` now, and what happened that day."""
    accepted = handoff.answered_on if handoff.status is not HandoffStatus.SENT else None
    return event_floor(
        event,
        sent_on=field_day(handoff.sent_at),
        accepted_on=accepted,
        first_contact_on=handoff.first_contact_on,
    )


def apply_transition(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    acting: frozenset[Party],
    *,
    now: datetime,
    on: date | None = None,
    reason_code: str | None = None,
    message: str | None = None,
    redirect_to: Structure | None = None,
    cause: WithdrawCause | None = None,
    employment: Employment | None = None,
) -> Handoff:
    """Apply ``event`` as the parties in ``acting`` (found by the caller: ``apply_event`` for a
    user or the deadline rule, ``withdrawal`` for the person's side). Same errors and result
    as ``apply_event``."""
    if handoff.beneficiary.erased_at is not None:
        raise InvalidInput(N_("This person's data has been erased: nothing more is recorded."))
    if event is HandoffEvent.REDIRECT and (redirect_to is None or actor is None):
        raise InvalidInput(N_("Choose the partner to redirect to."), field="redirect_to")
    source = handoff.status
    refuse_repeat(actor, handoff, event, reason_code, acting)  # the same answer again
    target = _target(source, event, acting)
    if event is HandoffEvent.WITHDRAW and cause is None and not (message and message.strip()):
        raise InvalidInput(N_("Say why the hand-off is withdrawn."), field="message")
    if event is HandoffEvent.DECLINE and reason_code == OTHER and not (message and message.strip()):
        # "Other reason" alone tells the sender nothing to act on.
        raise InvalidInput(N_("Say why in the message: the sender reads it."), field="message")
    reason_id = _reason_id(session, event, reason_code)
    _check_employment(handoff, event, reason_code, employment, now)
    day = event_day(handoff, event, on, now)
    _check_outcome_day(handoff, event, reason_code, day)
    _move(session, handoff, _stamp(target, event, now, day, reason_id))
    record_transition(
        session, vault, actor, handoff, event, source, now, reason_id, message, cause, day
    )
    # Declined for capacity, eligibility or no such service, or expired: an unmet need.
    record_for_handoff(session, actor, handoff, event, reason_code, day)
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
    revoke_after_transition(session, handoff, source, now=now)
    notify_handoff(session, handoff, event)
    notify_webhooks(session, handoff, event, now=now)
    return _side_effects(
        session,
        vault,
        actor,
        handoff,
        event,
        now,
        day,
        reason_code,
        message,
        redirect_to,
        employment,
    )


def _check_employment(
    handoff: Handoff,
    event: HandoffEvent,
    reason_code: str | None,
    employment: Employment | None,
    now: datetime,
) -> None:
    if employment is None:
        return
    if (event, reason_code) != (HandoffEvent.COMPLETE, JOB_SIGNED):
        raise InvalidInput(
            N_("A contract goes with the outcome “job signed” only."), field="outcome"
        )
    if not job_start_fits(employment.started_on, sent_on=handoff.sent_at.date(), today=now.date()):
        raise InvalidInput(
            N_("The job must start after the hand-off was sent, and within six months."),
            field="job_started_on",
        )


def _target(source: HandoffStatus, event: HandoffEvent, acting: frozenset[Party]) -> HandoffStatus:
    for party in sorted(acting):
        try:
            return next_status(source, event, party)
        except InvalidTransition:
            continue
    raise InvalidInput(N_("This action is not possible on this hand-off now."))


OTHER = "other"  # the decline reason that needs its message


def _reason_id(session: Session, event: HandoffEvent, reason_code: str | None) -> int | None:
    if event not in EVENTS_NEEDING_REASON:
        return None
    if not reason_code:
        if event is HandoffEvent.DECLINE:
            raise InvalidInput(N_("Choose a reason."), field="reason")
        raise InvalidInput(N_("Choose the outcome."), field="reason")
    if event is HandoffEvent.DECLINE:
        return reference_item(session, ReferenceKind.DECLINE_REASON, reason_code).id
    if not outcome_fits(event, reason_code):
        raise InvalidInput(N_("This outcome does not fit this way of closing."), field="reason")
    return reference_item(session, ReferenceKind.OUTCOME, reason_code).id


def _stamp(
    target: HandoffStatus, event: HandoffEvent, now: datetime, day: date, reason_id: int | None
) -> dict[str, Any]:
    """The hand-off's new status and when (``now``) and on which day (``day``) it was
    answered, contacted, closed."""
    changes: dict[str, Any] = {"status": target}
    if event in {HandoffEvent.ACCEPT, HandoffEvent.DECLINE, HandoffEvent.REDIRECT}:
        changes["answered_at"], changes["answered_on"] = now, day
    if event is HandoffEvent.FIRST_CONTACT:
        changes["first_contact_at"], changes["first_contact_on"] = now, day
    if event is HandoffEvent.DECLINE:
        changes["decline_reason_id"] = reason_id
    if event in {HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE}:
        changes["outcome_id"] = reason_id
    if target.is_final:
        changes["closed_at"], changes["closed_on"] = now, day
    return changes


# The columns a transition may change, written by one UPDATE built once, checked against the
# version read with the hand-off: of two concurrent answers, the second changes no row.
_HANDOFFS = cast(Table, Handoff.__table__)
_MOVED = (
    "status",
    "answered_at",
    "answered_on",
    "first_contact_at",
    "first_contact_on",
    "decline_reason_id",
    "outcome_id",
    "closed_at",
    "closed_on",
    "version",
)
_MOVE = (
    update(_HANDOFFS)
    .where(
        _HANDOFFS.c.id == bindparam("handoff_id", type_=_HANDOFFS.c.id.type),
        _HANDOFFS.c.version == bindparam("old_version", type_=_HANDOFFS.c.version.type),
    )
    .values({name: bindparam(f"new_{name}", type_=_HANDOFFS.c[name].type) for name in _MOVED})
)


def _move(session: Session, handoff: Handoff, changes: dict[str, Any]) -> None:
    """Write ``changes`` to the hand-off's row if its version is still the one read, else
    ``Conflict`` (nothing written); the object then holds the new values."""
    session.flush()  # changes made before, through the ORM (nothing to do otherwise)
    old = handoff.version
    values = {name: getattr(handoff, name) for name in _MOVED}
    values.update(changes, version=old + 1)
    moved = session.connection().execute(
        _MOVE,
        {"handoff_id": handoff.id, "old_version": old}
        | {f"new_{name}": value for name, value in values.items()},
    )
    if moved.rowcount != 1:
        raise Conflict(N_("Someone else answered this hand-off first."))
    written(session, handoff, values)


def _side_effects(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    now: datetime,
    day: date,
    reason_code: str | None,
    message: str | None,
    redirect_to: Structure | None,
    employment: Employment | None,
) -> Handoff:
    if event is HandoffEvent.ACCEPT:
        opened = start_follow_up(
            session,
            actor,
            handoff.beneficiary_id,
            handoff.to_structure_id,
            on=day,
            referent_id=actor.id if actor else None,
            keep_state=False,
        )
        # The follow-up's start is an event of the pathway state, written by Core: the
        # transition already counted an event of this day by this structure, so the state
        # changes only when the transition named no structure or another one.
        if opened is not None and (actor is None or actor.structure_id != handoff.to_structure_id):
            note_event(session, handoff.beneficiary_id, day, handoff.to_structure_id)
    if event is HandoffEvent.COMPLETE:
        _apply_outcome(session, vault, actor, handoff, day, reason_code or "", employment)
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
    actor: User | StructureByLink | None,
    handoff: Handoff,
    day: date,
    outcome_code: str,
    employment: Employment | None,
) -> None:
    """A completed hand-off lifts the barrier it was about (the receiver is then the
    structure that lifted it), or records the stage reached (a job with its contract), on the
    day of the outcome."""
    barrier_status = BARRIER_AFTER_OUTCOME.get(outcome_code)
    if barrier_status is not None and handoff.purpose_barrier is not None:
        move_barrier(session, actor, handoff.purpose_barrier, barrier_status, on=day)
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
            started_on=employment.started_on if employment else day,
            contract_type=employment.contract_type if employment else None,
            employer=employment.employer if employment else None,
        )
