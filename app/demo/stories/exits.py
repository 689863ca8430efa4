"""Stories of people who leave: lost from view, or moved away while a partner was working
with them."""

from __future__ import annotations

from app.demo.builder import StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import EXIT_ACTION
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus


def exit_lost(b: StoryBuilder, p: DemoPerson) -> None:
    """Worked on by the registering structure alone, then lost from view."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 520)
    category = b.category(p)
    day = b.later(start, 5, 30)
    barrier = b.barrier_step(who, reg, category, day, reg)
    b.move(barrier, BarrierStatus.IN_PROGRESS, reg, b.later(day, 1, 10))
    left = b.later(day, 90, 160)
    b.step(
        who,
        reg,
        "exit_other",
        left,
        ended_on=left,
        action=EXIT_ACTION["lost_contact"],
    )
    b.move(barrier, BarrierStatus.NOT_ADDRESSED, reg, left)
    b.end(who, reg, "lost_contact", left)


def exit_moved(b: StoryBuilder, p: DemoPerson) -> None:
    """The person moves away while a partner is working on a barrier."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 500)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    handoff = b.send(who, reg, acting, day, barrier=barrier)
    contact = b.run(handoff, HandoffStatus.IN_PROGRESS)
    moved = b.later(contact, 30, 100)
    b.step(who, reg, "exit_other", moved, ended_on=moved, action=EXIT_ACTION["moved"])
    b.act(
        handoff,
        HandoffEvent.NOT_COMPLETE,
        acting,
        b.later(moved, 1, 5),
        reason="other",
        message="La personne a déménagé hors du département.",
    )
    b.move(barrier, BarrierStatus.NOT_ADDRESSED, acting, b.later(moved, 1, 5))
    b.end(who, reg, "moved", b.later(moved, 1, 5))
    b.end(who, acting, "moved", b.later(moved, 6, 10))
