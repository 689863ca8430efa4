"""The registration facts kept in clear for the statistics (QPV, cohorts, education level,
sex), corrected later by a caseworker of a structure that follows the person, audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.people import EducationLevel, Sex
from app.models import Beneficiary, ReferenceItem, ReferenceKind, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.people.access import may_change
from app.services.security import audit
from app.services.structures import reference_item


@dataclass(frozen=True)
class Facts:
    """What a person's registration says about them for the statistics."""

    cohort_codes: list[str]
    qpv_code: str | None
    education_level: EducationLevel | None
    sex: Sex | None


def facts_of(person: Beneficiary) -> Facts:
    return Facts(
        cohort_codes=[c.code for c in person.cohorts],
        qpv_code=person.qpv.code if person.qpv else None,
        education_level=person.education_level,
        sex=person.sex,
    )


def _item(
    session: Session, kind: ReferenceKind, code: str, kept: list[ReferenceItem]
) -> ReferenceItem:
    """The item ``code``; one the person already has stays valid after it was deactivated."""
    for item in kept:
        if item.code == code:
            return item
    return reference_item(session, kind, code)


def update_facts(session: Session, actor: User, person: Beneficiary, facts: Facts) -> list[str]:
    """Replace the person's registration facts; returns the names of those that changed.

    The audit event names the fields changed and their new values (codes: statistical facts,
    no identity). ``Forbidden`` unless the actor's structure follows the person now (an open
    follow-up: not the reading grace period after one ended); ``InvalidInput`` for no cohort
    or an unknown code.
    """
    if not may_change(session, actor, person):
        raise Forbidden(N_("Your structure does not follow this person."))
    if not facts.cohort_codes:
        raise InvalidInput(N_("Choose at least one cohort."), field="cohorts")
    kept_qpv = [person.qpv] if person.qpv else []
    cohorts = [
        _item(session, ReferenceKind.COHORT, code, list(person.cohorts))
        for code in dict.fromkeys(facts.cohort_codes)
    ]
    qpv = _item(session, ReferenceKind.QPV, facts.qpv_code, kept_qpv) if facts.qpv_code else None
    before = facts_of(person)
    changed: dict[str, str | None] = {}
    if sorted(before.cohort_codes) != sorted(c.code for c in cohorts):
        person.cohorts = sorted(cohorts, key=lambda c: (c.position, c.code))
        changed["cohorts"] = ",".join(c.code for c in person.cohorts)
    if before.qpv_code != (qpv.code if qpv else None):
        person.qpv = qpv
        person.qpv_id = qpv.id if qpv else None
        changed["qpv"] = qpv.code if qpv else None
    if before.education_level is not facts.education_level:
        person.education_level = facts.education_level
        changed["education_level"] = _value(facts.education_level)
    if before.sex is not facts.sex:
        person.sex = facts.sex
        changed["sex"] = _value(facts.sex)
    if changed:
        session.flush()
        audit.record(
            session,
            actor,
            AuditAction.BENEFICIARY_FACTS,
            person,
            beneficiary_id=person.id,
            fields=",".join(changed),
            **changed,
        )
    return list(changed)


def _value(member: EducationLevel | Sex | None) -> str | None:
    return member.value if member is not None else None
