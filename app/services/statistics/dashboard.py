"""The coordinators' dashboard: every indicator of a scope, in one of two views.

Every figure comes from a grouped query (``queries``) and goes through the small-count
protection of ``app/domain/disclosure.py`` in its section's builder; a ``Dashboard`` holds
nothing else. Two views of the same indicators (issue 14):

- the **exact** view (``View.EXACT``) is what the coordination itself reads: the coordinators
  may open every pseudonymous pathway one by one, so hiding counts from them protects no one.
  It is the protection with a threshold of 1, which hides nothing;
- the **publication** view (``View.PUBLICATION``, the default) hides the small counts (1 to
  k-1) and whatever would give them away. It is the only view that leaves the coordination:
  every export, print and page shown to partner structures uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.disclosure import DEFAULT_THRESHOLD, protect_value
from app.models import ReferenceItem, ReferenceKind, Structure
from app.services.statistics.barriers import barrier_tables
from app.services.statistics.chains import redirect_chains
from app.services.statistics.cohorts import CohortOutcomes, cohort_outcomes
from app.services.statistics.flows import LOST_AFTER_DAYS, stage_flows
from app.services.statistics.funnel import stage_funnel, stage_medians
from app.services.statistics.handoffs import (
    ReceiverTimes,
    count_handoffs,
    handoff_tables,
    receiver_times,
)
from app.services.statistics.network import CooperationNetwork, cooperation_network
from app.services.statistics.overdue import OverdueList, overdue_handoffs
from app.services.statistics.queries import people_query
from app.services.statistics.scope import Scope
from app.services.statistics.tables import CountList, CountTable, Median
from app.services.statistics.trends import (
    Trends,
    count_answers,
    quarterly_trends,
    trend_day_counts,
)


class View(StrEnum):
    """Which figures a dashboard holds: exact ones, or the ones that may be published."""

    EXACT = "exact"
    PUBLICATION = "publication"


@dataclass
class Dashboard:
    """Every indicator of a scope, in one view: what the page, its charts and exports show."""

    scope: Scope
    k: int  # the threshold of the publication view (hidden from 1 to k-1 there)
    view: View
    people: int | None
    funnel: CountList
    stage_medians: list[Median]
    barriers_by_category: CountTable
    barriers_by_structure: CountTable
    handoff_matrix: CountTable
    handoffs_by_receiver: CountTable
    receiver_times: list[ReceiverTimes]
    decline_reasons: CountTable
    chains: CountTable
    quarters: CountTable
    structures: list[Structure]  # every structure that sent or received in the scope
    stage_flows: CountTable  # transitions between stages and where people stop (Sankey)
    cohort_outcomes: CohortOutcomes  # training and employment at 3, 6, 12 months by quarter
    network: CooperationNetwork  # the hand-off matrix as the network's heatmap
    trends: Trends  # quarter by quarter
    overdue: OverdueList | None  # exact view only: it names pseudonyms

    def tables(self) -> dict[str, CountTable | CountList]:
        """The exportable tables, by the name used in their CSV file."""
        found: list[CountTable | CountList] = [
            self.funnel,
            self.barriers_by_category,
            self.barriers_by_structure,
            self.handoff_matrix,
            self.handoffs_by_receiver,
            self.decline_reasons,
            self.chains,
            self.quarters,
            self.stage_flows,
            self.cohort_outcomes.training,
            self.cohort_outcomes.employment,
            self.trends.people,
        ]
        return {table.name: table for table in found}


TABLE_NAMES = (
    "funnel",
    "barriers-by-category",
    "barriers-by-structure",
    "handoff-matrix",
    "handoffs-by-receiver",
    "decline-reasons",
    "redirect-chains",
    "handoffs-by-quarter",
    "stage-flows",
    "cohort-outcomes-training",
    "cohort-outcomes-employment",
    "quarterly-trends",
)


def dashboard(
    session: Session,
    scope: Scope,
    *,
    k: int = DEFAULT_THRESHOLD,
    view: View = View.PUBLICATION,
    today: date | None = None,
    now: datetime | None = None,
    overdue_days: int = 10,
    lost_after_days: int = LOST_AFTER_DAYS,
) -> Dashboard:
    """Every indicator of the scope: exact, or protected with the threshold ``k``.

    ``today`` (by default the end of the period) dates the ends of the stage flows and the
    horizons elapsed of the cohort outcomes; ``now`` decides which hand-offs are past their
    answer deadline (``overdue_days``); a person of the stage flows is lost from view after
    ``lost_after_days`` days without an event (the setting ``RELAIS_LOST_FROM_VIEW_DAYS``).
    """
    day = today or scope.end
    now = now or datetime.now(UTC)
    threshold = k
    if view is View.EXACT:
        k = 1  # the protection hides values from 1 to k-1: nothing
    stages = _items(session, ReferenceKind.STAGE)
    categories = _items(session, ReferenceKind.BARRIER_CATEGORY)
    reasons = _items(session, ReferenceKind.DECLINE_REASON)
    structures = {s.id: s for s in session.scalars(select(Structure))}

    people = session.scalar(people_query(scope)) or 0
    funnel = stage_funnel(session, scope, stages, k)
    day_counts = trend_day_counts(session, scope, stages)  # the trends' and stage medians'
    medians = stage_medians(day_counts, k)
    barriers = barrier_tables(session, scope, categories, structures, k)
    counted = count_handoffs(session, scope, structures, reasons)
    answers = count_answers(session, scope, now)
    handoffs = handoff_tables(counted, scope, reasons, k)
    times = receiver_times(session, scope, handoffs.by_receiver, k)
    chains = redirect_chains(session, scope, k)
    network = cooperation_network(counted, handoffs.matrix, handoffs.by_receiver, scope, k)
    trends = quarterly_trends(session, scope, stages, answers, k, day_counts)
    overdue = None
    if view is View.EXACT:
        overdue = overdue_handoffs(session, scope, structures, now=now, days=overdue_days)
    return Dashboard(
        scope=scope,
        k=threshold,
        view=view,
        people=protect_value(people, k),
        funnel=funnel,
        stage_medians=medians,
        barriers_by_category=barriers.by_category,
        barriers_by_structure=barriers.by_structure,
        handoff_matrix=handoffs.matrix,
        handoffs_by_receiver=handoffs.by_receiver,
        receiver_times=times,
        decline_reasons=handoffs.decline_reasons,
        chains=chains,
        quarters=handoffs.by_quarter,
        structures=counted.structures,
        stage_flows=stage_flows(session, scope, stages, k, day, lost_after_days),
        cohort_outcomes=cohort_outcomes(session, scope, stages, k, day),
        network=network,
        trends=trends,
        overdue=overdue,
    )


def _items(session: Session, kind: ReferenceKind) -> list[ReferenceItem]:
    return list(
        session.scalars(
            select(ReferenceItem)
            .where(ReferenceItem.kind == kind)
            .order_by(ReferenceItem.position, ReferenceItem.code)
        )
    )
