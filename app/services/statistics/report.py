"""The CDE report (issue 15, item 6): a quarter of the territory, in the publication view only.

The report of the departmental employment committee (comité départemental pour l'emploi,
art. L.5411-5-1 of the Code du travail) gathers, for one calendar quarter and the whole
territory, the indicators of the steering pages: orientation decisions by pathway type (and
criteria used), delays against the targets, unmet needs, people lost from view, what became
of the hand-offs, and the network events of the quarter.

**Protection across the report.** Each family of tables is the one its own page publishes,
built by the same service with the same scope, so that every hidden value is hidden the same
way in the report and on the page's publication view (two different suppressions of one table
would give each other away). The families share no total with one another, but the hand-offs:
their receiving structures are a margin of the outcomes (receiver × state) and of the delays
of the three hand-off legs (receiver × band), and these are related by more than a shared
total (a leg's items are some of the states, split by the time taken). So the report
publishes the receiving-structure margin of the hand-offs **once**, as counts, in the
outcomes table, and gives the hand-off legs by receiving structure as shares and medians
only, without their counts, and only for a receiver whose whole outcome row is published
(``_only_published_receivers``). See docs/statistics.md, "The CDE report".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.periods import Quarter
from app.models import ReferenceItem, ReferenceKind, Structure
from app.services.directory.network_events import EventMark, events_by_quarter
from app.services.errors import N_, InvalidInput
from app.services.statistics.decisions import DecisionTables, decisions_by_type
from app.services.statistics.delay_queries import Breakdown, DelayLeg
from app.services.statistics.delays import DelayLine, DelayTargets, delay_targets
from app.services.statistics.handoffs import count_handoffs, handoff_tables
from app.services.statistics.lost import lost_from_view_counts
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountList, CountTable
from app.services.statistics.unmet_needs import UnmetNeeds, unmet_needs

# The legs measured on hand-offs: by receiving structure, the report gives their shares only.
HANDOFF_LEGS = (
    DelayLeg.SENT_TO_ANSWER,
    DelayLeg.ANSWER_TO_FIRST_CONTACT,
    DelayLeg.SENT_TO_FIRST_CONTACT,
)
_QUARTER = re.compile(r"^\s*(\d{4})\s*-\s*[Qq]?([1-4])\s*$")
# The years a quarter may be of (the report, the publications).
QUARTER_YEARS = range(2000, 2101)


def read_quarter(text: str) -> Quarter | None:
    """The quarter ``text`` writes (``2026-3``, ``2026-Q3``), whatever its year, or None."""
    found = _QUARTER.match(text or "")
    return Quarter(int(found.group(1)), int(found.group(2))) if found else None


def parse_quarter(text: str) -> Quarter:
    """``2026-3`` or ``2026-Q3`` of a year in ``QUARTER_YEARS``; anything else is
    ``InvalidInput`` (a form error)."""
    found = read_quarter(text)
    if found is None or found.year not in QUARTER_YEARS:
        raise InvalidInput(N_("Give a quarter as 2026-Q3."), field="quarter")
    return found


def last_full_quarter(today: date) -> Quarter:
    """The last calendar quarter that has ended before ``today``."""
    current = Quarter.of(today)
    if current.number == 1:
        return Quarter(current.year - 1, 4)
    return Quarter(current.year, current.number - 1)


@dataclass(frozen=True)
class Settings:
    """The values the report is computed with (printed in its method annex)."""

    k: int  # RELAIS_SMALL_COUNT_THRESHOLD
    target: int  # RELAIS_DELAY_TARGET_DAYS
    contract: int  # RELAIS_DELAY_CONTRACT_DAYS
    lost_days: int  # RELAIS_LOST_FROM_VIEW_DAYS
    contact_days: int  # RELAIS_LOST_FIRST_CONTACT_DAYS


@dataclass(frozen=True)
class LegLines:
    """One delay leg of the report: the territory's line and one line per structure."""

    leg: DelayLeg
    overall: DelayLine
    lines: list[DelayLine]


@dataclass(frozen=True)
class CdeReport:
    quarter: Quarter
    scope: Scope
    settings: Settings
    decisions: DecisionTables
    registration: CountTable  # registration → first decision, by registering structure × band
    delays: list[LegLines]
    unmet: UnmetNeeds
    lost: CountTable
    outcomes: CountTable  # hand-offs by receiving partner × state
    decline_reasons: CountTable
    events: tuple[EventMark, ...]
    structures: dict[int, Structure]  # the structures named by the events, by id

    @property
    def k(self) -> int:
        return self.settings.k

    def tables(self) -> dict[str, CountTable | CountList]:
        """Every count table the report publishes, by the name of its CSV file."""
        found: list[CountTable | CountList] = [
            self.decisions.by_type,
            self.decisions.criteria,
            self.registration,
            self.unmet.by_qpv,
            self.unmet.by_source,
            self.unmet.by_public,
            self.lost,
            self.outcomes,
            self.decline_reasons,
        ]
        return {table.name: table for table in found}


def cde_report(session: Session, quarter: Quarter, settings: Settings, *, today: date) -> CdeReport:
    """The report of ``quarter`` for the whole territory, protected with ``settings.k``."""
    k = settings.k
    scope = Scope(start=quarter.starts_on, end=quarter.ends_on)
    decisions = decisions_by_type(session, scope, k)
    targets = delay_targets(session, scope, k, settings.target, settings.contract, today=today)
    structures = {s.id: s for s in session.scalars(select(Structure))}
    reasons = _items(session, ReferenceKind.DECLINE_REASON)
    handoffs = handoff_tables(
        count_handoffs(session, scope, structures, reasons), scope, reasons, k
    )
    lost = lost_from_view_counts(
        session,
        scope,
        k,
        settings.lost_days,
        today=today,
        contact_days=settings.contact_days,
    )
    events = events_by_quarter(session, start=scope.start, end=scope.end)
    return CdeReport(
        quarter=quarter,
        scope=scope,
        settings=settings,
        decisions=decisions,
        registration=_registration(targets),
        delays=_delay_lines(targets, handoffs.by_receiver),
        unmet=unmet_needs(session, scope, k),
        lost=lost,
        outcomes=handoffs.by_receiver,
        decline_reasons=handoffs.decline_reasons,
        events=tuple(event for q in events for event in q.events),
        structures=structures,
    )


def _registration(targets: DelayTargets) -> CountTable:
    (leg,) = [leg for leg in targets.legs if leg.leg is DelayLeg.REGISTRATION_TO_DECISION]
    return leg.tables[Breakdown.STRUCTURE]


def _delay_lines(targets: DelayTargets, outcomes: CountTable) -> list[LegLines]:
    found = []
    for leg in targets.legs:
        lines, overall = leg.lines[Breakdown.STRUCTURE], leg.overall
        if leg.leg in HANDOFF_LEGS:
            lines = _only_published_receivers(lines, outcomes)
            overall = replace(overall, settled=None)
        found.append(LegLines(leg.leg, overall, lines))
    return found


def _only_published_receivers(lines: list[DelayLine], outcomes: CountTable) -> list[DelayLine]:
    """The lines of a hand-off leg without their counts (``settled``), with shares only for
    the receivers whose whole row of the outcomes table is published."""
    shown = []
    for line in lines:
        published = isinstance(line.heading, Structure) and _row_published(outcomes, line.heading)
        if published:
            shown.append(replace(line, settled=None))
        else:
            shown.append(replace(line, within_target=None, within_contract=None, settled=None))
    return shown


def _row_published(table: CountTable, row: Structure) -> bool:
    if row not in table.rows:
        return False
    i = table.rows.index(row)
    return None not in table.published.cells[i] and table.published.row_totals[i] is not None


def _items(session: Session, kind: ReferenceKind) -> list[ReferenceItem]:
    return list(
        session.scalars(
            select(ReferenceItem)
            .where(ReferenceItem.kind == kind)
            .order_by(ReferenceItem.position, ReferenceItem.code)
        )
    )
