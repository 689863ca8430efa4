"""What a played pathway is made of, in memory, before it is written: follow-ups, steps,
barriers, hand-offs and their transitions, with structures named by their code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus, barrier_can_move


@dataclass(slots=True, eq=False)
class FollowUpRecord:
    id: uuid.UUID
    structure: str
    started_on: date
    last_active: date  # the last day the structure did something for the person
    ended_on: date | None = None
    end_reason: str | None = None


@dataclass(slots=True, eq=False)
class StepRecord:
    id: uuid.UUID
    structure: str
    stage: str
    started_on: date
    recorded_by: str
    action: str | None
    ended_on: date | None = None


@dataclass(slots=True, eq=False)
class BarrierRecord:
    id: uuid.UUID
    category: str
    acting: str
    identified_on: date
    recorded_by: str
    status: BarrierStatus = BarrierStatus.IDENTIFIED
    closed_on: date | None = None
    status_on: date | None = None  # the day of the last change (None: never changed)

    def move(self, status: BarrierStatus, on: date) -> None:
        """Move as ``move_barrier`` does: through ``in_progress`` when the rules need it."""
        if self.status is status:
            return
        if not barrier_can_move(self.status, status):
            self.status = BarrierStatus.IN_PROGRESS
        if not barrier_can_move(self.status, status):  # pragma: no cover - a bug in this package
            raise ValueError(f"barrier cannot move from {self.status} to {status}")
        self.status = status
        self.status_on = on
        self.closed_on = on if status.is_closed else None


@dataclass(slots=True, eq=False)
class TransitionRecord:
    id: uuid.UUID
    event: HandoffEvent
    source: HandoffStatus | None
    target: HandoffStatus
    actor: str | None  # structure code (its caseworker acts); None for the deadline rule
    at: datetime
    reason: str | None = None  # decline reason or outcome code
    message: str | None = None


@dataclass(slots=True, eq=False)
class HandoffRecord:
    id: uuid.UUID
    sender: str
    receiver: str
    purpose: str  # "barrier", "training" or "employment"
    barrier: BarrierRecord | None
    sent_at: datetime
    note: str | None
    parent: HandoffRecord | None = None
    length: int = 1  # place in its redirect chain
    status: HandoffStatus = HandoffStatus.SENT
    answered_at: datetime | None = None
    first_contact_at: datetime | None = None
    closed_at: datetime | None = None
    decline_reason: str | None = None
    outcome: str | None = None
    events: list[TransitionRecord] = field(default_factory=list)
    step: StepRecord | None = None  # the stage its completion recorded

    @property
    def last_day(self) -> date:
        return self.events[-1].at.date()
