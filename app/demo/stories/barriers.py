"""Stories of barriers: one being lifted while another is worked on, one the person does not
want to work on, one that persists, and barriers worked on without consent to share."""

from __future__ import annotations

from app.demo.builder import StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import DECLINE_MESSAGE
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus


def childcare_in_progress(b: StoryBuilder, p: DemoPerson) -> None:
    """A single parent: childcare being arranged, a financial barrier lifted by the CCAS."""
    reg = p.registered_by
    who, start = b.begin(p, 90, 260)
    day = b.later(start, 3, 15)
    childcare = b.barrier_step(who, reg, "childcare", day, "GARDE90")
    b.run(b.send(who, reg, "GARDE90", day, barrier=childcare), HandoffStatus.IN_PROGRESS)
    acting = b.acting("financial", reg)
    money = b.barrier(who, reg, "financial", b.later(day, 0, 5), acting)
    b.run(
        b.send(who, reg, acting, b.later(day, 5, 10), barrier=money),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(10, 30),
    )


def barrier_not_addressed(b: StoryBuilder, p: DemoPerson) -> None:
    """One barrier the person does not want to work on; another lifted, then training."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 450)
    day = b.later(start, 5, 20)
    addiction = b.barrier_step(who, reg, "addiction", day, "ADDI90")
    handoff = b.send(who, reg, "ADDI90", day, barrier=addiction)
    refused = b.later(day, 3, 10)
    b.act(
        handoff,
        HandoffEvent.DECLINE,
        "ADDI90",
        refused,
        reason="not_interested",
        message=DECLINE_MESSAGE["not_interested"],
    )
    # No other partner for it: an unmet need, recorded the day the barrier is left aside.
    left = b.later(refused, 1, 10)
    b.no_solution(who, reg, addiction, left, "no_partner_on_territory")
    b.move(addiction, BarrierStatus.NOT_ADDRESSED, reg, left)
    childcare = b.barrier(who, reg, "childcare", b.later(day, 1, 10), "GARDE90")
    lifted = b.run(
        b.send(who, reg, "GARDE90", b.later(day, 12, 20), barrier=childcare),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(15, 40),
    )
    target = b.pick(b.training_targets(p), reg)
    b.run(
        b.send(who, reg, target, b.later(lifted, 5, 20), stage="training"),
        HandoffStatus.IN_PROGRESS,
    )


def barrier_persisting(b: StoryBuilder, p: DemoPerson) -> None:
    """A health barrier worked on by a partner, which remains after its action."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 500)
    category = b.rng.choice(("health", "mental_health"))
    day = b.later(start, 5, 25)
    barrier = b.barrier_step(who, reg, category, day, "SANTE90")
    done = b.run(
        b.send(who, reg, "SANTE90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "other",
        span=(30, 90),
        message="Suivi médical engagé ; le frein reste présent pour l'instant.",
    )
    b.move(barrier, BarrierStatus.PERSISTING, "SANTE90", done)
    if b.rng.random() < 0.5:
        b.step(
            who,
            reg,
            "training",
            b.later(done, 10, 40),
            action="Atelier de remobilisation à temps partiel, adapté à la santé",
        )


def no_consent(b: StoryBuilder, p: DemoPerson) -> None:
    """No consent recorded: the registering structure works alone, nothing is shared."""
    reg = p.registered_by
    who, start = b.begin(p, 15, 300)
    if b.rng.random() < 0.7:
        category = b.category(p)
        day = b.later(start, 0, 10)
        barrier = b.barrier_step(who, reg, category, day, b.acting(category, reg))
        if b.rng.random() < 0.5:
            b.move(barrier, BarrierStatus.IN_PROGRESS, reg, b.later(day, 1, 4))
