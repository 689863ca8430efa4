"""The right of access: a person's whole file, and who consulted or changed it, when and why.

A caseworker whose structure follows the person exports, for the person, everything Relais
holds about them: the identity, the statistical fields, every follow-up, step, barrier and
hand-off (with each transition) of every structure, every orientation decision (with the
criteria it was taken on), every "no solution found" record, every consent, and the access record - the
audit events about the person: when, which structure (or which role, for coordinators and the
system), what (the action tag) and for what purpose. Caseworkers are not named: the person
learns which organisation acted, not which employee (CJEU C-579/21).

The free texts are all given, including the notes exchanged between two other partners that
the exporting caseworker cannot read on the person's page: the person has a right to all of
it. The export is itself an audit event (``beneficiary:subject_access``), recorded before the
access record is read, so that it lists itself.

``report_as_json`` gives the machine-readable copy (codes and structure codes), the web page
the printable one (labels and names).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.domain.unmet_needs import UnmetNeedSource
from app.models import (
    AuditEvent,
    Beneficiary,
    Consent,
    FollowUp,
    OrientationDecision,
    Structure,
    UnmetNeed,
    User,
)
from app.services.errors import N_, Forbidden, NotFound
from app.services.pathways import Timeline, readable_employers, timeline
from app.services.pathways.orientation import decisions_of
from app.services.people.access import followed_ids
from app.services.people.identity import Identity, open_identity
from app.services.security import audit, audit_people
from app.services.security.vault import Vault

FORMAT_NAME = "relais-subject-access"
FORMAT_VERSION = 1
PURPOSE = "subject_access"


@dataclass(frozen=True)
class AccessLogLine:
    """One audit event about the person, as the person may read it."""

    at: datetime
    action: str  # the audit tag, e.g. ``beneficiary:reveal``
    structure: Structure | None  # the actor's structure (caseworkers)
    actor_role: Role | None  # None: done by Relais itself (a scheduled rule, the command line)
    purpose: str | None

    @property
    def is_consultation(self) -> bool:
        return self.action in CONSULTATIONS


# Audit tags that read the person's data without changing it.
CONSULTATIONS = frozenset(
    {
        AuditAction.BENEFICIARY_REVEAL.value,
        AuditAction.PATHWAY_VIEW.value,
        AuditAction.SUBJECT_ACCESS_EXPORT.value,
    }
)


@dataclass
class SubjectAccessReport:
    person: Beneficiary
    identity: Identity
    generated_at: datetime
    generated_by: Structure
    timeline: Timeline
    texts: dict[uuid.UUID, str]  # every free text, by the id of its row
    employers: dict[uuid.UUID, str]  # the employer of each employment step, by step id
    consents: list[Consent]
    access_log: list[AccessLogLine]
    decisions: list[OrientationDecision]  # oldest first: the last one is current
    no_solutions: list[UnmetNeed]  # "no solution found" records, oldest first

    @property
    def consultations(self) -> list[AccessLogLine]:
        return [line for line in self.access_log if line.is_consultation]


def subject_access_report(
    session: Session,
    vault: Vault,
    actor: User,
    person: Beneficiary,
    *,
    output: str,
    today: date,
    now: datetime,
) -> SubjectAccessReport:
    """Build the export of ``person``'s file for ``actor``, and audit it (``output``: "page"
    or "json").

    Raises ``NotFound`` unless ``actor`` is a caseworker of a structure that follows the
    person (the same answer as for an unknown pseudonym), ``Forbidden`` for an erased person.
    """
    if actor.role is not Role.CASEWORKER or actor.structure is None:
        raise NotFound(N_("No person with this pseudonym is followed by your structure."))
    follows = session.scalar(
        select(followed_ids(actor, today).where(FollowUp.beneficiary_id == person.id).exists())
    )
    if not follows:
        raise NotFound(N_("No person with this pseudonym is followed by your structure."))
    if person.erased_at is not None:
        raise Forbidden(N_("This person's data has already been erased."))
    audit.record(
        session,
        actor,
        AuditAction.SUBJECT_ACCESS_EXPORT,
        person,
        beneficiary_id=person.id,
        purpose=PURPOSE,
        output=output,
    )
    session.flush()
    tl = timeline(session, person)
    sealed: list[tuple[str, str, uuid.UUID, bytes | None]] = []
    sealed += [("pathway_steps", "action", s.id, s.action) for s in tl.steps]
    sealed += [("barriers", "detail", b.id, b.detail) for b in tl.barriers]
    sealed += [("handoffs", "note", h.id, h.note) for h in tl.handoffs]
    sealed += [
        ("handoff_transitions", "message", e.id, e.message) for h in tl.handoffs for e in h.events
    ]
    return SubjectAccessReport(
        person=person,
        identity=open_identity(vault, session, person),
        generated_at=now,
        generated_by=actor.structure,
        timeline=tl,
        texts=vault.open_many(session, person.id, sealed),
        employers=readable_employers(session, vault, tl),
        consents=list(
            session.scalars(
                select(Consent)
                .where(Consent.beneficiary_id == person.id)
                .order_by(Consent.given_on, Consent.created_at)
            )
        ),
        access_log=access_log(session, person.id),
        decisions=decisions_of(session, person.id),
        no_solutions=list(
            session.scalars(
                select(UnmetNeed)
                .where(
                    UnmetNeed.beneficiary_id == person.id,
                    UnmetNeed.source == UnmetNeedSource.NO_SOLUTION,
                )
                .order_by(UnmetNeed.occurred_on, UnmetNeed.created_at)
            )
        ),
    )


def access_log(session: Session, person_id: uuid.UUID) -> list[AccessLogLine]:
    """Every audit event about the person, oldest first: its own events and the pages that
    listed it (``audit_people.about_person``)."""
    structure = aliased(Structure)
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.purpose, User.role, structure)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(structure, structure.id == AuditEvent.actor_structure_id)
        .where(AuditEvent.seq.in_(audit_people.about_person(person_id)))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        AccessLogLine(at=at, action=action, structure=where, actor_role=role, purpose=purpose)
        for at, action, purpose, role, where in rows
    ]


# -- the machine-readable copy ---------------------------------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _code(item: Any) -> str | None:
    """The code of a reference item or structure, the value of an enum member, or None."""
    if item is None:
        return None
    if hasattr(item, "code"):
        return str(item.code)
    return str(getattr(item, "value", item))


def report_as_json(report: SubjectAccessReport) -> dict[str, Any]:
    """The export as plain JSON values: codes for every list, structure codes, ISO dates."""
    person, who, tl, texts = report.person, report.identity, report.timeline, report.texts
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "generated_at": report.generated_at.isoformat(),
        "generated_by_structure": report.generated_by.code,
        "person": {
            "pseudonym": person.pseudonym,
            "identity": {
                "last_name": who.last_name,
                "first_name": who.first_name,
                "birth_date": _day(who.birth_date),
                "phone": who.phone,
                "email": who.email,
                "address": who.address,
                "france_travail_id": who.france_travail_id,
                "ine": who.ine,
                "notes": who.notes,
            },
            "statistics": {
                "birth_year": person.birth_year,
                "sex": _code(person.sex),
                "qpv": _code(person.qpv),
                "cohorts": [c.code for c in person.cohorts],
                "education_level": _code(person.education_level),
                "registered_month": person.created_month.strftime("%Y-%m"),
            },
        },
        "follow_ups": [
            {
                "structure": f.structure.code,
                "started_on": _day(f.started_on),
                "ended_on": _day(f.ended_on),
                "end_reason": _code(f.end_reason),
            }
            for f in tl.follow_ups
        ],
        "steps": [
            {
                "structure": s.structure.code,
                "stage": s.stage.code,
                "started_on": _day(s.started_on),
                "ended_on": _day(s.ended_on),
                "action": texts.get(s.id),
                "contract_type": _code(s.contract_type),
                "employer": report.employers.get(s.id),
            }
            for s in tl.steps
        ],
        "barriers": [
            {
                "category": b.category.code,
                "status": b.status.value,
                "level": _code(b.level),
                "detail": texts.get(b.id),
                "acting_structure": _code(b.acting_structure),
                "identified_on": _day(b.identified_on),
                "closed_on": _day(b.closed_on),
                "closed_by_structure": _code(b.closed_by_structure),
            }
            for b in tl.barriers
        ],
        "handoffs": [
            {
                "from_structure": h.from_structure.code,
                "to_structure": h.to_structure.code,
                "purpose_stage": _code(h.purpose_stage),
                "purpose_barrier": _code(h.purpose_barrier.category) if h.purpose_barrier else None,
                "status": h.status.value,
                "follows_a_redirect": h.parent_id is not None,
                "sent_at": h.sent_at.isoformat(),
                "answered_at": h.answered_at.isoformat() if h.answered_at else None,
                "first_contact_at": h.first_contact_at.isoformat() if h.first_contact_at else None,
                "closed_at": h.closed_at.isoformat() if h.closed_at else None,
                "answered_on": _day(h.answered_on),
                "first_contact_on": _day(h.first_contact_on),
                "closed_on": _day(h.closed_on),
                "decline_reason": _code(h.decline_reason),
                "outcome": _code(h.outcome),
                "note": texts.get(h.id),
                "transitions": [
                    {
                        "at": e.at.isoformat(),
                        "effective_on": e.effective_on.isoformat(),
                        "event": e.event.value,
                        "from_status": _code(e.from_status),
                        "to_status": e.to_status.value,
                        "reason": _code(e.reason),
                        "cause": _code(e.cause),
                        "message": texts.get(e.id),
                    }
                    for e in h.events
                ],
            }
            for h in tl.handoffs
        ],
        "orientation_decisions": [
            {
                "structure": d.structure.code,
                "pathway_type": d.pathway_type.code,
                "decided_on": _day(d.decided_on),
                "reason": _code(d.reason),
                "criteria": [
                    {"category": c.category.code, "level": c.level.value} for c in d.criteria
                ],
            }
            for d in report.decisions
        ],
        "no_solution_found": [
            {
                "structure": n.structure.code,
                "occurred_on": _day(n.occurred_on),
                "category": _code(n.category),
                "stage": _code(n.stage),
                "precision": _code(n.precision),
            }
            for n in report.no_solutions
        ],
        "consents": [
            {
                "scope": c.scope.value,
                "method": c.method.value,
                "given_on": _day(c.given_on),
                "withdrawn_on": _day(c.withdrawn_on),
                "withdrawal_source": _code(c.withdrawal_source),
            }
            for c in report.consents
        ],
        "access_log": [
            {
                "at": line.at.isoformat(),
                "action": line.action,
                "consultation": line.is_consultation,
                "structure": line.structure.code if line.structure else None,
                "actor_role": line.actor_role.value if line.actor_role else None,
                "purpose": line.purpose,
            }
            for line in report.access_log
        ],
    }
