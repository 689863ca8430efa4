"""Outcomes at 3, 6 and 12 months by entry quarter (cohort analysis).

A person **enters** on the day of their first step (any stage: the first day the funnel
counts them), and belongs to the cohort of that quarter when the day is in the period. For
each entrant, the days from entry to their first training step and to their first employment
step fall in a **band**: within 3 months (91 days), 3 to 6 months (182 days), 6 to 12 months
(365 days), or not reached within 12 months (or not at all). A horizon is **elapsed** for a
quarter when its last entrant (the quarter's last day in the period) has had the whole
horizon before today; a band whose horizon has not elapsed is "not yet", and its people are
counted with those not reached (so far).

One grouped query counts the entrants by (quarter, training band, employment band); the two
tables published from it (quarter × training band, quarter × employment band) share their
row totals (the entrants of each quarter) and are protected together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from app.domain.disclosure import statistic_is_safe
from app.domain.periods import Quarter
from app.models import PathwayStep, ReferenceItem
from app.services.statistics.scope import Scope, population
from app.services.statistics.sql import days_between
from app.services.statistics.tables import Counts, CountTable, Shared, TableSpec, protected_tables

HORIZONS = (3, 6, 12)  # months
HORIZON_DAYS = (91, 182, 365)  # the same horizons, in days: what the query compares
NOT_REACHED = len(HORIZONS)  # the band of the people who did not reach it within 12 months


class OutcomeBand(StrEnum):
    """When an entrant first reached training (or employment): the columns of the tables."""

    WITHIN_3 = "within_3_months"
    WITHIN_6 = "3_to_6_months"
    WITHIN_12 = "6_to_12_months"
    NOT_REACHED = "not_reached"


BANDS = tuple(OutcomeBand)


def cohort_outcomes_query(
    scope: Scope, training: int | None, employment: int | None
) -> Select[int, int, int, int]:
    """Entrants of the period by (entry quarter key, training band, employment band)."""
    person = PathwayStep.beneficiary_id
    firsts = (
        select(
            func.min(PathwayStep.started_on).label("entered"),
            func.min(
                case((PathwayStep.stage_id == (training or -1), PathwayStep.started_on))
            ).label("trained"),
            func.min(
                case((PathwayStep.stage_id == (employment or -1), PathwayStep.started_on))
            ).label("employed"),
        )
        .where(*population(scope, person))
        .group_by(person)
        .subquery("firsts")
    )
    f = firsts.c
    quarter = case(
        *[
            (and_(f.entered >= q.starts_on, f.entered <= q.ends_on), q.year * 10 + q.number)
            for q in scope.quarters()
        ],
        else_=0,
    )
    trained, employed = _band(f.entered, f.trained), _band(f.entered, f.employed)
    return (
        select(quarter, trained, employed, func.count())
        .where(f.entered >= scope.start, f.entered <= scope.end)
        .group_by(quarter, trained, employed)
    )


def _band(entered: ColumnElement[date], reached: ColumnElement[date]) -> ColumnElement[int]:
    days = days_between(entered, reached)
    return case(
        (reached.is_(None), NOT_REACHED),
        *[(days <= limit, band) for band, limit in enumerate(HORIZON_DAYS)],
        else_=NOT_REACHED,
    )


def elapsed_horizons(scope: Scope, quarter: Quarter, today: date) -> int:
    """How many of ``HORIZONS`` have elapsed for the entrants of ``quarter``: the last of
    them has had the whole horizon before today."""
    last = min(quarter.ends_on, scope.end)
    return sum(1 for days in HORIZON_DAYS if last + timedelta(days=days) < today)


@dataclass(frozen=True)
class Reach:
    """How many entrants of a quarter reached a stage within a horizon, and their share."""

    elapsed: bool  # False: "not yet" (no count, no share)
    count: int | None  # None: hidden (a band behind it is hidden)
    share: float | None  # None: hidden, or fewer than k entrants behind it


@dataclass(frozen=True)
class CohortRow:
    quarter: Quarter
    entrants: int | None
    small: bool  # a hidden number of entrants is a small count
    training: tuple[Reach, ...]  # one per horizon
    employment: tuple[Reach, ...]


@dataclass(frozen=True)
class CohortOutcomes:
    """The two protected tables, and what the page reads from them (cumulative reaches)."""

    training: CountTable
    employment: CountTable
    elapsed: dict[Quarter, int]  # horizons elapsed per quarter (the first n of HORIZONS)
    rows: tuple[CohortRow, ...]

    def not_yet(self, quarter: object, band: object) -> bool:
        """A band whose horizon has not elapsed for the quarter's entrants (a row and a
        column of either table)."""
        if not isinstance(quarter, Quarter) or not isinstance(band, OutcomeBand):
            return False
        index = BANDS.index(band)
        return index < NOT_REACHED and index >= self.elapsed.get(quarter, 0)

    @property
    def empty(self) -> bool:
        return self.training.empty


def cohort_outcomes(
    session: Session, scope: Scope, stages: Sequence[ReferenceItem], k: int, today: date
) -> CohortOutcomes:
    by_code = {stage.code: stage.id for stage in stages}
    quarters = tuple(scope.quarters())
    elapsed = {q: elapsed_horizons(scope, q, today) for q in quarters}
    training: Counts = defaultdict(int)
    employment: Counts = defaultdict(int)
    query = cohort_outcomes_query(scope, by_code.get("training"), by_code.get("employment"))
    for key, trained, employed, count in session.execute(query):
        quarter = Quarter.from_key(int(key))
        done = elapsed.get(quarter, 0)
        training[(quarter, BANDS[_folded(int(trained), done)])] += count
        employment[(quarter, BANDS[_folded(int(employed), done)])] += count
    trained_table, employed_table = protected_tables(
        [
            TableSpec("cohort-outcomes-training", quarters, BANDS, training),
            TableSpec("cohort-outcomes-employment", quarters, BANDS, employment),
        ],
        [Shared(0, "rows", 1, "rows")],  # the entrants of each quarter, and of all
        k,
    )
    rows = tuple(
        _row(i, q, trained_table, employed_table, elapsed[q], k) for i, q in enumerate(quarters)
    )
    return CohortOutcomes(trained_table, employed_table, elapsed, rows)


def _folded(band: int, elapsed: int) -> int:
    """A band whose horizon has not elapsed counts with the people not reached (so far)."""
    return band if band < elapsed else NOT_REACHED


def _row(
    i: int, quarter: Quarter, training: CountTable, employment: CountTable, elapsed: int, k: int
) -> CohortRow:
    published = training.published
    entrants = published.row_totals[i] if published.row_totals else None
    small = published.is_small(i, len(BANDS)) if published.row_totals else False
    return CohortRow(
        quarter=quarter,
        entrants=entrants,
        small=small,
        training=_reaches(training, i, entrants, elapsed, k),
        employment=_reaches(employment, i, entrants, elapsed, k),
    )


def _reaches(
    table: CountTable, i: int, entrants: int | None, elapsed: int, k: int
) -> tuple[Reach, ...]:
    """Cumulative counts and shares of a row, horizon by horizon, from published cells only."""
    cells = table.published.cells[i] if table.published.cells else (0,) * len(BANDS)
    found: list[Reach] = []
    for h in range(len(HORIZONS)):
        if h >= elapsed:
            found.append(Reach(elapsed=False, count=None, share=None))
            continue
        parts = cells[: h + 1]
        count = None if None in parts else sum(v for v in parts if v is not None)
        share = None
        # A share only over published entrants, and at least k of them.
        if count is not None and entrants is not None and statistic_is_safe(entrants, k):
            share = count / entrants
        found.append(Reach(elapsed=True, count=count, share=share))
    return tuple(found)
