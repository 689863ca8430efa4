"""Stories of hand-offs that end without the outcome sought: declined by a first partner,
withdrawn by the sender, or stopped before their end."""

from __future__ import annotations

from app.demo.builder import StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import (
    DECLINE_MESSAGE,
    EMPLOYMENT_ACTION,
    NEVER_CAME_MESSAGE,
    STOP_MESSAGE,
    WITHDRAW_MESSAGE,
)
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus


def declined_then_other(b: StoryBuilder, p: DemoPerson) -> None:
    """Declined by a first partner (coded reason and message), taken by a second one."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 400)
    first = b.pick(b.training_targets(p), reg)
    second = b.pick(b.training_targets(p), reg, first)
    day = b.later(start, 5, 20)
    handoff = b.send(who, reg, first, day, stage="training")
    reason = b.next_decline()
    day = b.later(day, 2, 9)
    b.act(handoff, HandoffEvent.DECLINE, first, day, reason=reason, message=DECLINE_MESSAGE[reason])
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(
        b.send(who, reg, second, b.later(day, 3, 10), stage="training"),
        until,
        "training_entered",
        span=(10, 40),
    )


def withdrawn_then_job(b: StoryBuilder, p: DemoPerson) -> None:
    """The sender withdraws a hand-off: the person found a job in the meantime."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 420)
    target = b.pick(b.training_targets(p), reg)
    day = b.later(start, 10, 40)
    handoff = b.send(who, reg, target, day, stage="training")
    day = b.later(day, 2, 9)
    message = WITHDRAW_MESSAGE[0] if b.rng.random() < 0.7 else b.rng.choice(WITHDRAW_MESSAGE)
    b.act(handoff, HandoffEvent.WITHDRAW, reg, day, message=message)
    b.step(who, reg, "employment", day, action=b.rng.choice(EMPLOYMENT_ACTION))
    b.end(who, reg, "goal_reached", b.later(day, 20, 60))


def not_completed(b: StoryBuilder, p: DemoPerson) -> None:
    """Taken by a partner, then stopped before its end (coded reason)."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 450)
    day = b.later(start, 5, 25)
    if b.rng.random() < 0.6:
        category = "motivation" if b.kind(p) == "young" else "mental_health"
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, day, acting)
        stopped = b.run(
            b.send(who, reg, acting, day, barrier=barrier),
            HandoffStatus.NOT_COMPLETED,
            "person_stopped",
            span=(15, 60),
            message=STOP_MESSAGE,
        )
        persists = b.later(stopped, 3, 20)
        b.no_solution(who, reg, barrier, persists, "waiting_too_long")  # an unmet need
        b.move(barrier, BarrierStatus.PERSISTING, reg, persists)
    else:
        target = b.pick(b.training_targets(p), reg)
        handoff = b.send(who, reg, target, day, stage="training")
        accepted = b.run(handoff, HandoffStatus.ACCEPTED)
        b.act(
            handoff,
            HandoffEvent.NOT_COMPLETE,
            target,
            b.later(accepted, 10, 30),
            reason="other",
            message=NEVER_CAME_MESSAGE,
        )
