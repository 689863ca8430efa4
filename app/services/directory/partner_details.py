"""What the hand-off form shows beside each suggested partner, besides its fit: its capacity
statuses (with their freshness) and its published track record (median time to answer and
acceptance rate over the last 12 months, hidden below k answered hand-offs).

The cards come with the suggestions; the track records of all the partners shown are one
grouped query (``app.services.statistics.track_record``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.domain.capacity import is_full
from app.services.directory.capacity import CapacityLine, capacity_lines
from app.services.directory.suggestions import PartnerSuggestion
from app.services.statistics.track_record import TrackRecord, track_records


@dataclass(frozen=True)
class PartnerDetails:
    capacity: list[CapacityLine]  # the statuses given (whole structure first)
    full: bool
    record: TrackRecord


def partner_details(
    session: Session,
    suggestions: Sequence[PartnerSuggestion],
    *,
    today: date,
    now: datetime,
    stale_weeks: int,
    k: int,
) -> dict[int, PartnerDetails]:
    """The details of each partner of ``suggestions``, by structure id."""
    records = track_records(session, [s.entry.structure.id for s in suggestions], now=now, k=k)
    details = {}
    for suggestion in suggestions:
        card = suggestion.entry.card
        lines = capacity_lines(card, today=today, stale_weeks=stale_weeks)
        details[suggestion.entry.structure.id] = PartnerDetails(
            capacity=[line for line in lines if line.status is not None],
            full=is_full(card.capacity_status, [s.capacity_status for s in card.services]),
            record=records[suggestion.entry.structure.id],
        )
    return details
