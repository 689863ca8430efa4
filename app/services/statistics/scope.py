"""The scope of the statistics: a period and an optional population.

- the period selects the events counted: steps started, barriers identified and hand-offs
  sent between its first and last day (inclusive);
- the population keeps the people of a cohort, of a QPV, or whose pathway went through a
  structure (a follow-up there, at any time).

``resolve_scope`` checks what a coordinator typed; ``steps_in``, ``barriers_in`` and
``handoffs_in`` are the SQL conditions that every query of the scope applies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, SQLColumnExpression, select
from sqlalchemy.orm import Session

from app.domain.periods import Quarter, quarters_between
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    beneficiary_cohorts,
)
from app.services.errors import N_, InvalidInput

# The longest period a dashboard covers: ten years of quarters is already a wide chart.
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class DashboardFilters:
    """What a coordinator asked for, as typed in the form (codes, dates)."""

    start: date | None = None
    end: date | None = None
    cohort: str | None = None
    qpv: str | None = None
    structure: str | None = None


@dataclass(frozen=True)
class Scope:
    """The resolved filters: dates checked, codes turned into the records they name."""

    start: date
    end: date
    cohort: ReferenceItem | None = None
    qpv: ReferenceItem | None = None
    structure: Structure | None = None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def codes(self) -> dict[str, str | None]:
        """The scope as filters (ISO dates, codes, None when unset): for links and audit events.

        ``url_for`` leaves the None values out of a link.
        """
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "cohort": self.cohort.code if self.cohort else None,
            "qpv": self.qpv.code if self.qpv else None,
            "structure": self.structure.code if self.structure else None,
        }

    def quarters(self) -> list[Quarter]:
        """The quarters the period touches, in order."""
        return quarters_between(self.start, self.end)


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months, by whole quarters: from the start of the quarter a year ago."""
    first_month = ((today.month - 1) // 3) * 3 + 1
    start = date(today.year - 1, first_month, 1)
    return start, today


def resolve_scope(session: Session, filters: DashboardFilters, *, today: date) -> Scope:
    """Check the filters and find the records they name (``InvalidInput`` otherwise)."""
    default_start, default_end = default_period(today)
    start = filters.start or default_start
    end = filters.end or default_end
    if start > end:
        raise InvalidInput(N_("The start of the period must come before its end."), field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(N_("The period cannot be longer than ten years."), field="start")
    cohort = _reference(session, ReferenceKind.COHORT, filters.cohort, "cohort")
    qpv = _reference(session, ReferenceKind.QPV, filters.qpv, "qpv")
    structure = None
    if filters.structure:
        structure = session.scalar(select(Structure).where(Structure.code == filters.structure))
        if structure is None:
            raise InvalidInput(N_("Unknown structure."), field="structure")
    return Scope(start=start, end=end, cohort=cohort, qpv=qpv, structure=structure)


def _reference(
    session: Session, kind: ReferenceKind, code: str | None, field_name: str
) -> ReferenceItem | None:
    if not code:
        return None
    item = session.scalar(
        select(ReferenceItem).where(ReferenceItem.kind == kind, ReferenceItem.code == code)
    )
    if item is None:
        raise InvalidInput(N_("Unknown value in the filters."), field=field_name)
    return item


# --- SQL conditions ---------------------------------------------------------------------------


def population(scope: Scope, person: SQLColumnExpression[uuid.UUID]) -> list[ColumnElement[bool]]:
    """Conditions keeping the events of the people in the scope's population."""
    conditions: list[ColumnElement[bool]] = []
    if scope.cohort is not None:
        conditions.append(
            person.in_(
                select(beneficiary_cohorts.c.beneficiary_id).where(
                    beneficiary_cohorts.c.cohort_id == scope.cohort.id
                )
            )
        )
    if scope.qpv is not None:
        conditions.append(
            person.in_(select(Beneficiary.id).where(Beneficiary.qpv_id == scope.qpv.id))
        )
    if scope.structure is not None:
        conditions.append(
            person.in_(
                select(FollowUp.beneficiary_id).where(FollowUp.structure_id == scope.structure.id)
            )
        )
    return conditions


def steps_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        PathwayStep.started_on >= scope.start,
        PathwayStep.started_on <= scope.end,
        *population(scope, PathwayStep.beneficiary_id),
    ]


def barriers_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        Barrier.identified_on >= scope.start,
        Barrier.identified_on <= scope.end,
        *population(scope, Barrier.beneficiary_id),
    ]


def handoffs_in(scope: Scope) -> list[ColumnElement[bool]]:
    return [
        Handoff.sent_at >= scope.start_at,
        Handoff.sent_at < scope.end_before,
        *population(scope, Handoff.beneficiary_id),
    ]
