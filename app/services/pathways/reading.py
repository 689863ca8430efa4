"""The timeline of one person's pathway across structures: follow-ups, steps, barriers and
hand-off events in date order, without identity; and the texts a structure may read on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.crypto import DataKey
from app.domain.pathway import stage_rank
from app.domain.unmet_needs import UnmetNeedSource
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    OrientationDecision,
    PathwayStep,
    UnmetNeed,
)
from app.services.security.vault import Vault


@dataclass(frozen=True)
class TimelineEntry:
    """One dated line of a timeline; ``kind`` says which record ``item`` is."""

    on: date
    # follow_up_start, follow_up_end, step, barrier, barrier_closed, handoff_event, decision,
    # no_solution
    kind: str
    structure: str
    item: object
    extra: object = None
    # When it was recorded, which orders the events of one day; None for the ends (of a
    # follow-up, of a barrier), whose moment is not kept: they close the day.
    at: datetime | None = None


@dataclass
class Timeline:
    """Everything recorded about one person's pathway, across structures, without identity."""

    person: Beneficiary
    follow_ups: list[FollowUp] = field(default_factory=list)
    steps: list[PathwayStep] = field(default_factory=list)
    barriers: list[Barrier] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    # Orientation decisions, oldest first: the last one is the current pathway type.
    decisions: list[OrientationDecision] = field(default_factory=list)

    @property
    def current_decision(self) -> OrientationDecision | None:
        return self.decisions[-1] if self.decisions else None

    # "No solution found" records (declines and expiries are hand-off events already).
    unmet_needs: list[UnmetNeed] = field(default_factory=list)

    @property
    def current_stage(self) -> PathwayStep | None:
        return self.steps[-1] if self.steps else None

    def entries(self) -> list[TimelineEntry]:
        """Every dated event across structures, oldest first by the day it happened (its
        effective date, not the day it was recorded: a back-dated first contact comes before
        what was recorded between it and its recording); on one day, in the order the events
        were recorded (a barrier identified, the hand-off sent for it, its acceptance, the
        follow-up it opened), the ends of follow-ups and barriers last."""
        found: list[TimelineEntry] = []
        for f in self.follow_ups:
            name = f.structure.name
            found.append(TimelineEntry(f.started_on, "follow_up_start", name, f, at=f.created_at))
            if f.ended_on:
                found.append(TimelineEntry(f.ended_on, "follow_up_end", name, f))
        for s in self.steps:
            found.append(TimelineEntry(s.started_on, "step", s.structure.name, s, at=s.created_at))
        for d in self.decisions:
            found.append(
                TimelineEntry(d.decided_on, "decision", d.structure.name, d, at=d.created_at)
            )
        for b in self.barriers:
            acting = b.acting_structure.name if b.acting_structure else ""
            found.append(TimelineEntry(b.identified_on, "barrier", acting, b, at=b.created_at))
            if b.closed_on:
                found.append(TimelineEntry(b.closed_on, "barrier_closed", acting, b))
        for h in self.handoffs:
            for event in h.events:
                found.append(
                    TimelineEntry(
                        event.effective_on,
                        "handoff_event",
                        h.from_structure.name,
                        event,
                        h,
                        at=event.at,
                    )
                )
        for need in self.unmet_needs:
            name = need.structure.name
            found.append(
                TimelineEntry(need.occurred_on, "no_solution", name, need, at=need.created_at)
            )
        return sorted(found, key=_in_day_order)

    @property
    def structures(self) -> list[str]:
        names = {f.structure.name for f in self.follow_ups}
        names |= {h.to_structure.name for h in self.handoffs}
        return sorted(names)


_KIND_ORDER = (
    "follow_up_start",
    "barrier",
    "step",
    "decision",
    "handoff_event",
    "barrier_closed",
)


def _in_day_order(entry: TimelineEntry) -> tuple[date, int, datetime, int]:
    """The day, then the moment recorded (the ends, which have none, after the day's other
    events), then the kind (two events recorded at the same moment)."""
    rank = _KIND_ORDER.index(entry.kind) if entry.kind in _KIND_ORDER else len(_KIND_ORDER)
    if entry.at is None:
        return (entry.on, 1, datetime.min.replace(tzinfo=UTC), rank)
    moment = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return (entry.on, 0, moment, rank)


def timeline(session: Session, person: Beneficiary) -> Timeline:
    """Load the whole pathway of ``person`` in a fixed number of queries."""
    pid = person.id
    steps = list(
        session.scalars(
            select(PathwayStep)
            .where(PathwayStep.beneficiary_id == pid)
            .order_by(PathwayStep.started_on, PathwayStep.created_at)
        )
    )
    steps.sort(key=lambda s: (s.started_on, stage_rank(s.stage.code)))
    return Timeline(
        person=person,
        follow_ups=list(
            session.scalars(
                select(FollowUp).where(FollowUp.beneficiary_id == pid).order_by(FollowUp.started_on)
            )
        ),
        steps=steps,
        barriers=list(
            session.scalars(
                select(Barrier).where(Barrier.beneficiary_id == pid).order_by(Barrier.identified_on)
            )
        ),
        handoffs=list(
            session.scalars(
                select(Handoff)
                .where(Handoff.beneficiary_id == pid)
                .options(
                    selectinload(Handoff.events),
                    selectinload(Handoff.decline_reason),
                    selectinload(Handoff.outcome),
                    selectinload(Handoff.purpose_stage),
                    selectinload(Handoff.purpose_barrier),
                )
                .order_by(Handoff.sent_at)
            )
        ),
        decisions=list(
            session.scalars(
                select(OrientationDecision)
                .where(OrientationDecision.beneficiary_id == pid)
                .order_by(OrientationDecision.decided_on, OrientationDecision.created_at)
            )
        ),
        unmet_needs=list(
            session.scalars(
                select(UnmetNeed)
                .where(
                    UnmetNeed.beneficiary_id == pid,
                    UnmetNeed.source == UnmetNeedSource.NO_SOLUTION,
                )
                .order_by(UnmetNeed.occurred_on, UnmetNeed.created_at)
            )
        ),
    )


def readable_texts(
    session: Session, vault: Vault, tl: Timeline, structure_id: int, key: DataKey | None = None
) -> dict[uuid.UUID, str]:
    """Decrypt the free texts of a timeline that ``structure_id`` may read.

    For a caseworker whose structure follows the person (checked by the caller): every step
    action and barrier detail, and the notes and messages of the hand-offs their structure
    sent or received - not those exchanged between two other partners. (Employers are read
    by ``readable_employers``: their step's id already keys its action.) ``key``: the
    person's data key, when the page read it already.
    """
    mine = [h for h in tl.handoffs if structure_id in (h.from_structure_id, h.to_structure_id)]
    sealed: list[tuple[str, str, uuid.UUID, bytes | None]] = []
    sealed += [("pathway_steps", "action", s.id, s.action) for s in tl.steps]
    sealed += [("barriers", "detail", b.id, b.detail) for b in tl.barriers]
    sealed += [("handoffs", "note", h.id, h.note) for h in mine]
    sealed += [("handoff_transitions", "message", e.id, e.message) for h in mine for e in h.events]
    return vault.open_many(session, tl.person.id, sealed, key)


def readable_employers(
    session: Session, vault: Vault, tl: Timeline, key: DataKey | None = None
) -> dict[uuid.UUID, str]:
    """The employers of the timeline's employment steps, by step id, for a caseworker whose
    structure follows the person (checked by the caller). No query when there is none (nor
    with ``key``, the person's data key read already)."""
    sealed = [("pathway_steps", "employer", s.id, s.employer) for s in tl.steps]
    return vault.open_many(session, tl.person.id, sealed, key)
