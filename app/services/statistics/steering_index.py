"""The headline figures of the steering index (``/steering/``): one count per steering page,
each one cheap query, for the coordinators' exact view (``protect_value`` with their ``k``).

- ``decisions``: orientation decisions dated in the period (first ones and changes);
- ``unmet_needs``: needs that went unmet in the period (``unmet_needs.needs_in``);
- ``lost``: people lost from view today (``lost.lost_query``: the kept pathway state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.disclosure import protect_value
from app.models import OrientationDecision, UnmetNeed
from app.services.statistics.lost import lost_query
from app.services.statistics.scope import Scope
from app.services.statistics.unmet_needs import needs_in


@dataclass(frozen=True)
class SteeringFigures:
    scope: Scope
    decisions: int | None  # None: hidden (from 1 to k-1)
    unmet_needs: int | None
    lost: int | None


def steering_figures(
    session: Session, scope: Scope, k: int, *, today: date, days: int, contact_days: int
) -> SteeringFigures:
    """The three headline counts of the steering pages over ``scope``'s period (people lost
    from view: today), protected for ``k``."""
    decisions = session.scalar(
        select(func.count()).where(
            OrientationDecision.decided_on >= scope.start,
            OrientationDecision.decided_on <= scope.end,
        )
    )
    needs = session.scalar(select(func.count()).select_from(UnmetNeed).where(*needs_in(scope)))
    found = lost_query(today, days, contact_days, today=today, structure=False).subquery()
    lost = session.scalar(select(func.count()).select_from(found))
    return SteeringFigures(
        scope=scope,
        decisions=protect_value(decisions or 0, k),
        unmet_needs=protect_value(needs or 0, k),
        lost=protect_value(lost or 0, k),
    )
