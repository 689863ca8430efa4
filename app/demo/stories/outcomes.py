"""Stories of hand-offs that reach their outcome: barriers lifted, training entered, jobs signed."""

from __future__ import annotations

from app.demo.builder import EMPLOYMENT_TARGETS, TRAINING_TARGETS, StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import DECLINE_MESSAGE, EMPLOYMENT_ACTION, TRAINING_ACTION
from app.domain.handoffs import HandoffEvent, HandoffStatus


def barrier_then_training(b: StoryBuilder, p: DemoPerson) -> None:
    """A barrier lifted by an association, then training entered with a partner."""
    reg = p.registered_by
    who, start = b.begin(p, 330, 520)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    lifted = b.run(
        b.send(who, reg, acting, b.later(day, 0, 3), barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(30, 70),
    )
    target = b.pick(b.training_targets(p), reg)
    entered = b.run(
        b.send(who, reg, target, b.later(lifted, 5, 15), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(7, 25),
    )
    if reg == "MLDS90":
        b.end(who, reg, "handed_off", b.later(entered, 2, 10))


def training_then_job(b: StoryBuilder, p: DemoPerson) -> None:
    """Training with a partner, which then hands the person to an employer who hires."""
    reg = p.registered_by
    who, start = b.begin(p, 400, 530)
    target = b.pick(b.training_targets(p), reg)
    entered = b.run(
        b.send(who, reg, target, b.later(start, 7, 25), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(10, 30),
    )
    employer = b.pick(EMPLOYMENT_TARGETS[b.kind(p)], reg, target)
    signed = b.run(
        b.send(who, target, employer, b.later(entered, 120, 180), stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(5, 20),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 3, 15))
    b.end(who, target, "goal_reached", b.later(signed, 3, 15))


def graduate_barrier_job(b: StoryBuilder, p: DemoPerson) -> None:
    """A young graduate: mobility lifted, then hired through a partner employer."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 450)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, "mobility", day, "MOB90")
    lifted = b.run(
        b.send(who, reg, "MOB90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(40, 90),
    )
    employer = b.pick(EMPLOYMENT_TARGETS["graduate"], reg)
    signed = b.run(
        b.send(who, reg, employer, b.later(lifted, 3, 15), stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(5, 25),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 5, 20))


def job_via_partner(b: StoryBuilder, p: DemoPerson) -> None:
    """Hired through an employment partner, sometimes after a first partner had no place."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 500)
    day = b.later(start, 10, 40)
    targets = EMPLOYMENT_TARGETS[b.kind(p)]
    first = b.pick(targets, reg)
    if b.rng.random() < 0.5:
        handoff = b.send(who, reg, first, day, stage="employment")
        day = b.later(day, 2, 8)
        b.act(
            handoff,
            HandoffEvent.DECLINE,
            first,
            day,
            reason="no_capacity",
            message=DECLINE_MESSAGE["no_capacity"],
        )
        first = b.pick(targets, reg, first)
        day = b.later(day, 2, 10)
    signed = b.run(
        b.send(who, reg, first, day, stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(10, 45),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 10, 40))


def language_then_training(b: StoryBuilder, p: DemoPerson) -> None:
    """French language workshops, then training, sometimes then a job."""
    reg = p.registered_by
    who, start = b.begin(p, 380, 530)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, "language", day, "LANG90")
    lifted = b.run(
        b.send(who, reg, "LANG90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(60, 150),
    )
    target = b.pick(TRAINING_TARGETS["adult"], reg)
    entered = b.run(
        b.send(who, reg, target, b.later(lifted, 5, 20), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(10, 30),
    )
    if b.rng.random() < 0.5:
        hired = b.later(entered, 60, 100)
        b.step(who, reg, "employment", hired, action=b.rng.choice(EMPLOYMENT_ACTION))
        b.end(who, reg, "goal_reached", b.later(hired, 5, 20))
    else:
        b.step(
            who,
            reg,
            "training",
            entered,
            ended_on=b.later(entered, 10, 30),
            action=b.rng.choice(TRAINING_ACTION),
        )
