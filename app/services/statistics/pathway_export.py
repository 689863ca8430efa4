"""The pseudonymous pathways of a dashboard's scope, one line per event, for coordinators.

Only what a coordinator already sees on a pathway page leaves: the pseudonym, the age band,
cohorts and QPV kept in clear for statistics, and the coded events (stages, barriers,
hand-offs) with their dates and structures. No identity, and no free text (actions, notes and
messages are personal data, encrypted). Each export is an audit event.

Rows are streamed from the database in chunks: the export of 100,000 pathways does not hold
them in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, String, Subquery, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

from app.domain.audit import AuditAction
from app.domain.people import age_band
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    Handoff,
    PathwayStep,
    ReferenceItem,
    Structure,
    User,
    beneficiary_cohorts,
)
from app.services.errors import N_, Forbidden
from app.services.statistics import exports
from app.services.statistics.scope import Scope, barriers_in, handoffs_in, steps_in
from app.services.statistics.sql import joined_codes, utc_date

CHUNK = 2000
TEXT = String()

COLUMNS = (
    "pseudonym",
    "age_band",
    "cohorts",
    "qpv",
    "event",
    "date",
    "end_date",
    "structure",
    "stage",
    "barrier_category",
    "status",
    "to_structure",
    "decline_reason",
    "outcome",
    "barrier_level",
    "closed_by",
    "contract_type",
)


@dataclass(frozen=True)
class ExportLine:
    pseudonym: str
    age_band: str
    cohorts: str
    qpv: str
    event: str  # step, barrier or handoff
    day: date
    end_day: date | None
    structure: str
    stage: str
    barrier_category: str
    status: str
    to_structure: str
    decline_reason: str
    outcome: str
    barrier_level: str = ""  # strong, moderate, no_impact (a barrier; empty: not assessed)
    closed_by: str = ""  # the structure that closed a barrier (lifted it, for instance)
    contract_type: str = ""  # the contract of an employment step

    def as_row(self) -> list[str]:
        return [
            self.pseudonym,
            self.age_band,
            self.cohorts,
            self.qpv,
            self.event,
            self.day.isoformat(),
            self.end_day.isoformat() if self.end_day else "",
            self.structure,
            self.stage,
            self.barrier_category,
            self.status,
            self.to_structure,
            self.decline_reason,
            self.outcome,
            self.barrier_level,
            self.closed_by,
            self.contract_type,
        ]


def record_export(session: Session, actor: User, scope: Scope) -> None:
    """Audit the export before it starts (the scope, never a person)."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden(N_("Only coordinators export pathways."))
    exports.record_export(session, actor, AuditAction.PATHWAYS_EXPORT, scope)


def _events(scope: Scope) -> Subquery:
    """The steps, barriers and hand-offs of the scope, in the same columns (named by the
    first select)."""
    return union_all(_steps(scope), _barriers(scope), _handoffs(scope)).subquery("events")


def _steps(scope: Scope) -> Select[*tuple[Any, ...]]:
    acting = aliased(Structure)
    stage = aliased(ReferenceItem)
    return (
        select(
            PathwayStep.beneficiary_id.label("person"),
            literal("step", TEXT).label("event"),
            PathwayStep.started_on.label("day"),
            PathwayStep.ended_on.label("end_day"),
            acting.code.label("structure"),
            stage.code.label("stage"),
            null().label("category"),
            null().label("status"),
            null().label("to_structure"),
            null().label("reason"),
            null().label("outcome"),
            null().label("level"),
            null().label("closed_by"),
            PathwayStep.contract_type.label("contract_type"),
        )
        .join(acting, acting.id == PathwayStep.structure_id)
        .join(stage, stage.id == PathwayStep.stage_id)
        .where(*steps_in(scope))
    )


def _barriers(scope: Scope) -> Select[*tuple[Any, ...]]:
    acting = aliased(Structure)
    closer = aliased(Structure)
    category = aliased(ReferenceItem)
    return (
        select(
            Barrier.beneficiary_id,
            literal("barrier", TEXT),
            Barrier.identified_on,
            Barrier.closed_on,
            acting.code,
            null(),
            category.code,
            Barrier.status,
            null(),
            null(),
            null(),
            Barrier.level,
            closer.code,
            null(),
        )
        .outerjoin(acting, acting.id == Barrier.acting_structure_id)
        .outerjoin(closer, closer.id == Barrier.closed_by_structure_id)
        .join(category, category.id == Barrier.category_id)
        .where(*barriers_in(scope))
    )


def _handoffs(scope: Scope) -> Select[*tuple[Any, ...]]:
    sender = aliased(Structure)
    receiver = aliased(Structure)
    purpose_stage = aliased(ReferenceItem)
    purpose_barrier = aliased(Barrier)
    purpose_category = aliased(ReferenceItem)
    reason = aliased(ReferenceItem)
    outcome = aliased(ReferenceItem)
    return (
        select(
            Handoff.beneficiary_id,
            literal("handoff", TEXT),
            utc_date(Handoff.sent_at),
            Handoff.closed_on,  # the day it closed (effective), not its recording
            sender.code,
            purpose_stage.code,
            purpose_category.code,
            Handoff.status,
            receiver.code,
            reason.code,
            outcome.code,
            null(),
            null(),
            null(),
        )
        .join(sender, sender.id == Handoff.from_structure_id)
        .join(receiver, receiver.id == Handoff.to_structure_id)
        .outerjoin(purpose_stage, purpose_stage.id == Handoff.purpose_stage_id)
        .outerjoin(purpose_barrier, purpose_barrier.id == Handoff.purpose_barrier_id)
        .outerjoin(purpose_category, purpose_category.id == purpose_barrier.category_id)
        .outerjoin(reason, reason.id == Handoff.decline_reason_id)
        .outerjoin(outcome, outcome.id == Handoff.outcome_id)
        .where(*handoffs_in(scope))
    )


def _cohorts() -> Subquery:
    """The cohort codes of each person, joined by spaces."""
    cohort = aliased(ReferenceItem)
    return (
        select(
            beneficiary_cohorts.c.beneficiary_id.label("person"),
            joined_codes(cohort.code).label("codes"),
        )
        .join(cohort, cohort.id == beneficiary_cohorts.c.cohort_id)
        .group_by(beneficiary_cohorts.c.beneficiary_id)
        .subquery("cohorts")
    )


def pathway_lines(session: Session, scope: Scope, *, today: date) -> Iterator[ExportLine]:
    """Every event of the scope, by pseudonym then date, streamed in chunks."""
    events = _events(scope)
    cohorts = _cohorts()
    qpv = aliased(ReferenceItem)
    query = (
        select(
            Beneficiary.pseudonym,
            Beneficiary.birth_year,
            cohorts.c.codes,
            qpv.code,
            events.c.event,
            events.c.day,
            events.c.end_day,
            events.c.structure,
            events.c.stage,
            events.c.category,
            events.c.status,
            events.c.to_structure,
            events.c.reason,
            events.c.outcome,
            events.c.level,
            events.c.closed_by,
            events.c.contract_type,
        )
        .join(Beneficiary, Beneficiary.id == events.c.person)
        .outerjoin(cohorts, cohorts.c.person == Beneficiary.id)
        .outerjoin(qpv, qpv.id == Beneficiary.qpv_id)
        .order_by(Beneficiary.pseudonym, events.c.day, events.c.event)
        .execution_options(yield_per=CHUNK)
    )
    for row in session.execute(query):
        yield _line(row, today)


def _line(row: Sequence[Any], today: date) -> ExportLine:
    """An export line from a row of ``pathway_lines``' query: codes, or empty texts."""
    (pseudonym, birth_year, codes, qpv_code, event, day, end_day, *rest) = row
    structure, stage, category, status, to_structure, reason, outcome, *added = rest
    level, closed_by, contract = added
    return ExportLine(
        pseudonym=pseudonym,
        age_band=age_band(birth_year, today) or "",
        cohorts=" ".join(sorted((codes or "").split())),
        qpv=qpv_code or "",
        event=event,
        day=day,
        end_day=end_day,
        structure=structure or "",
        stage=stage or "",
        barrier_category=category or "",
        status=str(getattr(status, "value", status) or ""),
        to_structure=to_structure or "",
        decline_reason=reason or "",
        outcome=outcome or "",
        barrier_level=_code(level),
        closed_by=closed_by or "",
        contract_type=_code(contract),
    )


def _code(value: Any) -> str:
    """An enum column's value as its code (a plain string in a UNION on some databases)."""
    return str(getattr(value, "value", value) or "")
