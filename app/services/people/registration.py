"""Registering a person, with a data key, an encrypted identity, a follow-up and consent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.pathway import ConsentMethod, ConsentScope
from app.domain.people import EducationLevel, Sex, new_pseudonym
from app.domain.roles import Role
from app.models import Beneficiary, Consent, FollowUp, ReferenceKind, User
from app.services.errors import N_, Conflict, Forbidden, InvalidInput
from app.services.people.identity import Identity, clean_identity, seal_identity
from app.services.people.registration_lock import lock_registration
from app.services.security import audit
from app.services.security.vault import Vault
from app.services.structures import reference_item


@dataclass(frozen=True)
class ConsentInput:
    method: ConsentMethod
    given_on: date
    scope: ConsentScope = ConsentScope.NETWORK_SHARING


@dataclass(frozen=True)
class NewPerson:
    identity: Identity
    cohort_codes: Sequence[str]
    qpv_code: str | None = None
    sex: Sex | None = None
    education_level: EducationLevel | None = None
    consent: ConsentInput | None = None


def _unique_pseudonym(session: Session) -> str:
    for _ in range(20):
        candidate = new_pseudonym()
        if session.scalar(select(Beneficiary.id).where(Beneficiary.pseudonym == candidate)) is None:
            return candidate
    raise RuntimeError("could not draw a free pseudonym")  # 20 collisions in ~39 bits: never


def register_person(
    session: Session, vault: Vault, actor: User, new: NewPerson, *, today: date
) -> Beneficiary:
    """Register a person followed by ``actor``'s structure from ``today``.

    Raises ``Forbidden`` unless the actor is a caseworker, ``InvalidInput`` naming the field
    for bad identity values, an unknown cohort or QPV, or no cohort at all.
    """
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers register people."))
    identity = clean_identity(new.identity, today)
    # Held until the commit: a duplicate check running now waits, then sees this person.
    lock_registration(session, vault.indexer, identity)
    if not new.cohort_codes:
        raise InvalidInput(N_("Choose at least one cohort."), field="cohorts")
    cohorts = [reference_item(session, ReferenceKind.COHORT, code) for code in new.cohort_codes]
    qpv = reference_item(session, ReferenceKind.QPV, new.qpv_code) if new.qpv_code else None
    if new.consent and new.consent.given_on > today:
        raise InvalidInput(N_("Consent cannot be dated in the future."), field="consent_on")
    born = identity.birth_date
    if new.consent and born is not None and new.consent.given_on < born:
        raise InvalidInput(N_("Consent cannot be dated before the birth date."), field="consent_on")
    person = Beneficiary(
        id=uuid.uuid4(),
        pseudonym=_unique_pseudonym(session),
        sex=new.sex,
        qpv_id=qpv.id if qpv else None,
        education_level=new.education_level,
        created_month=today.replace(day=1),
        created_by_structure_id=actor.structure_id,
    )
    person.cohorts = cohorts
    session.add(person)
    session.flush()
    vault.new_person_key(session, person.id)
    seal_identity(vault, session, person, identity)
    session.add(
        FollowUp(
            beneficiary_id=person.id,
            structure_id=actor.structure_id,
            referent_id=actor.id,
            started_on=today,
        )
    )
    if new.consent:
        record_consent(session, actor, person, new.consent)
    session.flush()
    audit.record(session, actor, AuditAction.BENEFICIARY_CREATE, person, beneficiary_id=person.id)
    return person


def record_consent(
    session: Session, actor: User, person: Beneficiary, given: ConsentInput
) -> Consent:
    """Record the consent the person gave; ``Conflict`` if one is in force already (the form
    sent from two tabs), so that a person has one consent in force at a time."""
    if given.scope is ConsentScope.NETWORK_SHARING and active_consent(session, person.id):
        raise Conflict(N_("Consent is already recorded."))
    consent = Consent(
        beneficiary_id=person.id,
        scope=given.scope,
        method=given.method,
        given_on=given.given_on,
        recorded_by_id=actor.id,
        recorded_by_structure_id=actor.structure_id,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.CONSENT_RECORD,
        consent,
        beneficiary_id=person.id,
        method=given.method.value,
    )
    return consent


def active_consent(session: Session, person_id: uuid.UUID) -> Consent | None:
    """The person's current consent to share with the network, if any."""
    return session.scalar(
        select(Consent)
        .where(
            Consent.beneficiary_id == person_id,
            Consent.scope == ConsentScope.NETWORK_SHARING,
            Consent.withdrawn_on.is_(None),
        )
        .order_by(Consent.given_on.desc())
        .limit(1)
    )
