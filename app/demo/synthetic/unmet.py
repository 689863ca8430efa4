"""The unmet needs of a played pathway, as the application records them
(``app.services.unmet_needs``): one per hand-off declined for capacity, eligibility or no such
service and per expired hand-off, on the day it ended; and a "no solution found" by the acting
structure for every barrier that persists or was never addressed, on its last change.

No random draw: the ids come from the records' own (``uuid5``), so the rest of the pathway's
draws are unchanged.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from app.demo.synthetic.network import Network
from app.demo.synthetic.pathway import Pathway
from app.domain.effective_dates import field_day
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.unmet_needs import UNMET_DECLINE_REASONS, UnmetNeedSource
from app.models import ReferenceKind

NAMESPACE = uuid.UUID("6f1c2a8e-5b0d-4c3e-9a7f-15e3d0c4b2a1")
# The precisions a caseworker gives, in turn (by the barrier's id).
PRECISIONS = ("no_partner_on_territory", "partners_full", "too_far", "waiting_too_long")
UNSOLVED = {BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED}


def unmet_rows(
    network: Network, person: Pathway, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``unmet_needs`` rows of ``person`` and their ``unmet_need_cohorts`` rows."""
    refs = network.refs
    needs: list[dict[str, Any]] = []

    def add(source: UnmetNeedSource, key: uuid.UUID, day: date, **row: Any) -> None:
        needs.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"{source.value}:{key}"),
                "beneficiary_id": person.id,
                "source": source,
                "qpv_id": person.qpv_id,
                "occurred_on": day,
                "created_at": now,
                "handoff_id": None,
                "stage_id": None,
                "precision_id": None,
                "referred_by_structure_id": None,
                **row,
            }
        )

    for h in person.handoffs:
        source = _source(h.status, h.decline_reason)
        if source is None or h.closed_at is None:
            continue
        add(
            source,
            h.id,
            field_day(h.closed_at),
            handoff_id=h.id,
            barrier_id=h.barrier.id if h.barrier is not None else None,
            category_id=refs[ReferenceKind.BARRIER_CATEGORY][h.barrier.category]
            if h.barrier is not None
            else None,
            stage_id=refs[ReferenceKind.STAGE][h.purpose] if h.barrier is None else None,
            structure_id=network.ids[h.receiver],
            referred_by_structure_id=network.ids[h.sender],
            recorded_by_id=network.caseworkers[h.receiver] if source.value != "expired" else None,
        )
    for b in person.barriers:
        if b.status not in UNSOLVED:
            continue
        add(
            UnmetNeedSource.NO_SOLUTION,
            b.id,
            b.status_on or b.identified_on,
            barrier_id=b.id,
            category_id=refs[ReferenceKind.BARRIER_CATEGORY][b.category],
            precision_id=refs[ReferenceKind.UNMET_NEED_PRECISION][
                PRECISIONS[b.id.int % len(PRECISIONS)]
            ],
            structure_id=network.ids[b.acting],
            recorded_by_id=network.caseworkers[b.acting],
        )
    cohorts = refs[ReferenceKind.COHORT]
    links = [
        {"unmet_need_id": need["id"], "cohort_id": cohorts[code]}
        for need in needs
        for code in person.cohorts
    ]
    return needs, links


def _source(status: HandoffStatus, reason: str | None) -> UnmetNeedSource | None:
    if status is HandoffStatus.EXPIRED:
        return UnmetNeedSource.EXPIRED
    if status is HandoffStatus.DECLINED:
        return UNMET_DECLINE_REASONS.get(reason or "")
    return None
