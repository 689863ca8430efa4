"""Withdrawing hand-offs on the person's side (consent withdrawn, erasure): through the
transition table, as the ``person`` party."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import (
    HandoffEvent,
    HandoffStatus,
    Party,
    WithdrawCause,
)
from app.models import (
    Handoff,
    User,
)
from app.services.handoffs.transitions import apply_transition
from app.services.security.vault import Vault


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
    apply_transition(
        session,
        vault,
        actor,
        handoff,
        HandoffEvent.WITHDRAW,
        frozenset({Party.PERSON}),
        now=now,
        cause=cause,
    )


def pending_for_person(session: Session, person_id: uuid.UUID) -> list[Handoff]:
    """The person's hand-offs still waiting for an answer, oldest first."""
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.beneficiary_id == person_id, Handoff.status == HandoffStatus.SENT)
            .order_by(Handoff.sent_at, Handoff.id)
        )
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
    pending = pending_for_person(session, person_id)
    for handoff in pending:
        withdraw_for_person(session, vault, actor, handoff, now=now, cause=cause)
    return pending
