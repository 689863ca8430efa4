"""Withdrawing a consent: recorded with its date and source, it stops every hand-off.

Consents are given with ``app.services.people.registration.record_consent``. A withdrawal is recorded by a
caseworker whose structure follows the person; from then on ``send_handoff`` refuses (it needs
an active consent), and the hand-offs still waiting for an answer are withdrawn on the
person's side (``Party.PERSON`` in the transition table, cause ``consent_withdrawn``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import WithdrawCause
from app.domain.rights import WithdrawalSource
from app.domain.roles import Role
from app.models import Beneficiary, Consent, Handoff, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.handoffs import withdraw_pending
from app.services.people.access import open_follow_up
from app.services.security import audit
from app.services.security.vault import Vault


def active_consents(session: Session, person_id: uuid.UUID) -> list[Consent]:
    """Every consent of the person not withdrawn, newest first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.beneficiary_id == person_id, Consent.withdrawn_on.is_(None))
            .order_by(Consent.given_on.desc(), Consent.created_at.desc())
        )
    )


def last_withdrawn_consent(session: Session, person_id: uuid.UUID) -> Consent | None:
    """The consent the person withdrew last, if any (what the person's page recalls)."""
    return session.scalar(
        select(Consent)
        .where(Consent.beneficiary_id == person_id, Consent.withdrawn_on.is_not(None))
        .order_by(Consent.withdrawn_on.desc(), Consent.created_at.desc())
        .limit(1)
    )


def withdraw_consent(
    session: Session,
    vault: Vault,
    actor: User,
    person: Beneficiary,
    *,
    on: date,
    source: WithdrawalSource,
    today: date,
    now: datetime,
) -> list[Handoff]:
    """Record that the person withdrew their consent to share with the network.

    For a caseworker whose structure follows the person now. Every active consent is marked
    withdrawn ``on`` that day, from ``source``; the hand-offs still waiting for an answer are
    withdrawn with that cause, and returned. Raises ``Forbidden`` for anyone else,
    ``InvalidInput`` when nothing is left to withdraw, for a source people do not choose, or a
    date in the future or before the consent was given.
    """
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers record a withdrawal of consent."))
    if open_follow_up(session, person.id, actor.structure_id) is None:
        raise Forbidden(N_("Your structure does not follow this person."))
    if source is WithdrawalSource.ERASURE:
        raise InvalidInput(N_("Choose how the withdrawal reached you."), field="source")
    consents = active_consents(session, person.id)
    if not consents:
        raise InvalidInput(N_("This person has no consent to withdraw."), field="consent")
    if on > today:
        raise InvalidInput(N_("A withdrawal cannot be dated in the future."), field="withdrawn_on")
    if on < max(c.given_on for c in consents):
        raise InvalidInput(
            N_("A withdrawal cannot be dated before the consent was given."), field="withdrawn_on"
        )
    end_consents(session, actor, consents, on=on, source=source, now=now)
    return withdraw_pending(
        session, vault, actor, person.id, now=now, cause=WithdrawCause.CONSENT_WITHDRAWN
    )


def end_consents(
    session: Session,
    actor: User | None,
    consents: Sequence[Consent],
    *,
    on: date,
    source: WithdrawalSource,
    now: datetime,
) -> None:
    """Mark ``consents`` withdrawn ``on`` that day (the caller has checked), each audited."""
    for consent in consents:
        consent.withdrawn_on = on
        consent.withdrawal_source = source
        consent.withdrawn_at = now
        audit.record(
            session,
            actor,
            AuditAction.CONSENT_WITHDRAW,
            consent,
            beneficiary_id=consent.beneficiary_id,
            source=source.value,
        )
