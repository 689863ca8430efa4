"""Stories of hand-offs and their deadlines: sent and not answered yet, overdue, accepted and
waiting for the first contact, expired and sent again."""

from __future__ import annotations

from datetime import timedelta

from app.demo.builder import EMPLOYMENT_TARGETS, StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import RESEND_NOTE
from app.domain.handoffs import HandoffEvent, HandoffStatus

# Hand-off deadlines the demo illustrates (``Config.HANDOFF_OVERDUE_DAYS`` / ``_EXPIRY_DAYS``).
OVERDUE_DAYS = 10
EXPIRY_DAYS = 30


def sent_recent(b: StoryBuilder, p: DemoPerson) -> None:
    """A hand-off sent a few days ago, not answered yet."""
    reg = p.registered_by
    who, start = b.begin(p, 25, 220)
    sent = b.ago(1, 6)
    if b.rng.random() < 0.7:
        category = b.category(p)
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, max(start, sent - timedelta(days=3)), acting)
        b.send(who, reg, acting, sent, barrier=barrier)
    else:
        b.send(who, reg, b.pick(EMPLOYMENT_TARGETS[b.kind(p)], reg), sent, stage="employment")


def sent_overdue(b: StoryBuilder, p: DemoPerson) -> None:
    """A hand-off unanswered for more than the reminder delay (but not yet expired)."""
    reg = p.registered_by
    who, start = b.begin(p, 45, 300)
    sent = b.ago(OVERDUE_DAYS + 2, EXPIRY_DAYS - 4)
    if b.rng.random() < 0.5:
        category = b.category(p)
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, max(start, sent - timedelta(days=5)), acting)
        b.send(who, reg, acting, sent, barrier=barrier)
    else:
        b.send(who, reg, b.pick(b.training_targets(p), reg), sent, stage="training")


def accepted_waiting(b: StoryBuilder, p: DemoPerson) -> None:
    """Accepted by the receiver, first contact not made yet."""
    reg = p.registered_by
    who, _start = b.begin(p, 40, 250)
    sent = b.ago(8, 20)
    if b.kind(p) == "adult":
        handoff = b.send(
            who, reg, b.pick(EMPLOYMENT_TARGETS["adult"], reg), sent, stage="employment"
        )
    else:
        handoff = b.send(who, reg, b.pick(b.training_targets(p), reg), sent, stage="training")
    b.run(handoff, HandoffStatus.ACCEPTED)


def expired_then_resent(b: StoryBuilder, p: DemoPerson) -> None:
    """No answer within the deadline: the hand-off expires and is sent again."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 450)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    handoff = b.send(who, reg, acting, day, barrier=barrier)
    expired = b.later(day, EXPIRY_DAYS, EXPIRY_DAYS + 2)
    b.act(handoff, HandoffEvent.EXPIRE, None, expired)
    again = b.send(
        who,
        reg,
        acting,
        b.later(expired, 1, 7),
        barrier=barrier,
        note=RESEND_NOTE,
    )
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(again, until, "barrier_lifted", span=(15, 40))
