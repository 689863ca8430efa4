"""A known network for a structure's own figures (``app/services/statistics/partner.py``):
IND-B's hand-offs received and sent, and the people it follows, with every figure worked out
by hand below (tests of the service and of the page)."""

from __future__ import annotations

from datetime import date

from app.domain.handoffs import HandoffStatus
from app.models import FollowUp
from tests.world import World, at

PERIOD = "start=2026-01-01&end=2026-11-30"
START, END = date(2026, 1, 1), date(2026, 11, 30)
TODAY = date(2026, 12, 5)  # the hand-off sent on 30 November is not due yet
SENT = at(date(2026, 3, 2))


def fill(world: World) -> None:
    """Hand-offs (days from sending to the answer, to the first contact):

    1. A -> B, outcome recorded (2, 3)     5. B -> A, accepted (1, 3)
    2. A -> B, accepted (4, 6)             6. B -> A, declined "not_eligible" (5)
    3. A -> B, declined "no_capacity" (12) 7. B -> C, withdrawn (not due)
    4. C -> B, never answered (late)       8. B -> C, sent on 30 November (not due yet)

    People followed during the period: by B p1 (training), p2 (training, then a job), p3 (a job
    before the period: neither), p4 and p6 (nothing); by A p5 (training) and p6; by C p7, whose
    follow-up ended before the period (not counted).
    """
    a, b, c = world.a, world.b, world.c
    handoff = world.handoff
    handoff(world.person(), a, b, HandoffStatus.COMPLETED, SENT, answered_after=2, contact_after=3)
    handoff(world.person(), a, b, HandoffStatus.ACCEPTED, SENT, answered_after=4, contact_after=6)
    handoff(
        world.person(), a, b, HandoffStatus.DECLINED, SENT, answered_after=12, reason="no_capacity"
    )
    handoff(world.person(), c, b, HandoffStatus.SENT, SENT)
    handoff(world.person(), b, a, HandoffStatus.ACCEPTED, SENT, answered_after=1, contact_after=3)
    handoff(
        world.person(), b, a, HandoffStatus.DECLINED, SENT, answered_after=5, reason="not_eligible"
    )
    handoff(world.person(), b, c, HandoffStatus.WITHDRAWN, SENT)
    handoff(world.person(), b, c, HandoffStatus.SENT, at(date(2026, 11, 30)))
    people = [world.person() for _ in range(7)]
    p1, p2, p3, p4, p5, p6, p7 = people
    for person in (p1, p2, p3, p4, p6):
        world.follow(person, b)
    for person in (p5, p6):
        world.follow(person, a)
    world.session.add(
        FollowUp(
            beneficiary_id=p7.id,
            structure_id=c.id,
            started_on=date(2025, 1, 1),
            ended_on=date(2025, 6, 1),
        )
    )
    world.step(p1, "training", date(2026, 4, 1), b)
    world.step(p2, "training", date(2026, 4, 1), b)
    world.step(p2, "employment", date(2026, 9, 1), a)
    world.step(p3, "employment", date(2025, 9, 1), b)
    world.step(p5, "training", date(2026, 5, 1), a)
    world.step(p7, "employment", date(2026, 5, 1), c)
    world.session.commit()


# IND-B's figures and the network's, worked out by hand from ``fill`` (k = 1).
MINE = {
    "received": 4,
    "accepted_share": 2 / 3,
    "to_answer": 4.0,  # 2, 4, 12
    "to_first_contact": 4.5,  # 3, 6
    "loop_closure": 1 / 2,
    "answered_in_time": 2 / 4,  # 1 and 2 within; 3 and 4 late
    "sent": 4,
    "sent_accepted_share": 1 / 2,
    "sent_declined": 1,
    "followed": 5,
    "reached_employment": 1 / 5,
    "reached_training_or_employment": 2 / 5,
}
NETWORK = {
    "received": 8,
    "accepted_share": 3 / 5,
    "to_answer": 4.0,  # 1, 2, 4, 5, 12
    "to_first_contact": 3.0,  # 3, 3, 6
    "loop_closure": 1 / 3,
    "answered_in_time": 4 / 6,  # 7 and 8 not due
    "sent": 8,
    "sent_accepted_share": 3 / 5,
    "sent_declined": 2,
    "followed": 6,
    "reached_employment": 1 / 6,
    "reached_training_or_employment": 3 / 6,
}
