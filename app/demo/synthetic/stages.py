"""Playing one pathway forward: the stages in their order, as far as the person's draw and time
allow, with the rules the services apply (one open follow-up per structure, consent before any
hand-off), then its end."""

from __future__ import annotations

from datetime import date

from app.demo.data.wording import (
    BARRIERS_ACTION,
    EMPLOYMENT_ACTION,
    ORIENTATION_ACTION,
    STAGE_NOTE,
    TRAINING_ACTION,
)
from app.demo.synthetic.barriers import identify_barrier
from app.demo.synthetic.draws import DRAW_CATEGORY
from app.demo.synthetic.endings import close_follow_ups, leave
from app.demo.synthetic.handoffs import answer, send
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.records import StepRecord
from app.demo.synthetic.shape import DEPTH, EMPLOYMENT, TRAINING
from app.domain.handoffs import HandoffStatus


def play(p: Pathway) -> None:
    """Register the person, play the stages, then leave or close the follow-ups whose work is
    done."""
    p.follow(p.entry, p.start)
    _stages(p)
    if p.exit is not None:
        leave(p, p.exit)
    else:
        close_follow_ups(p)


def _stages(p: Pathway) -> None:
    """Orientation, then barriers, then training, then employment: each only after the
    one before, as far as the person's draw and time allow (the funnel)."""
    rng, reg = p.rng, p.entry
    reach = rng.random()
    to_barriers, to_training, to_employment = DEPTH[p.kind]
    action = ORIENTATION_ACTION.get(reg, "Premier accueil et diagnostic de la situation")
    orientation = p.step(reg, "orientation", p.start, action)
    day = p.after(p.start, 7, 45)
    if reach >= to_barriers or day is None:
        return
    orientation.ended_on = day
    diagnosis = p.step(reg, "barriers", day, rng.choice(BARRIERS_ACTION))
    _barrier_phase(p, day)
    day = p.after(day, 30, 180)
    if reach >= to_training or day is None:
        return
    training = _training(p, day)
    if training is None:
        return
    diagnosis.ended_on = training.started_on
    day = p.after(training.ended_on or training.started_on, 15, 120)
    if reach >= to_employment or day is None:
        return
    if training.ended_on is None or training.ended_on > day:
        training.ended_on = day  # left training for the job
    _employment(p, day, training)


def _barrier_phase(p: Pathway, day: date) -> None:
    wanted = p.rng.choices((1, 2, 3), cum_weights=(50, 85, 100))[0]
    categories: list[str] = []
    for _ in range(6):
        category = DRAW_CATEGORY[p.kind](p.rng)
        if category not in categories:
            categories.append(category)
        if len(categories) == wanted:
            break
    for i, category in enumerate(categories):
        on = day if i == 0 else p.after(day, 0, 20)
        if on is None:
            break
        identify_barrier(p, category, on, p.entry)


def _training(p: Pathway, day: date) -> StepRecord | None:
    reg = p.entry
    pool = p.partners(TRAINING[p.kind], day, reg)
    if p.consent and pool and p.rng.random() < 0.75:
        step = _through_partner(p, "training", pool, day, reg)
    else:
        step = p.step(reg, "training", day, p.rng.choice(TRAINING_ACTION))
    if step is None:
        return None
    p.end_later(step, 45, 240)
    if step.structure != reg and p.consent and p.rng.random() < 0.12:
        # Stages are not linear: a barrier shows up during training.
        on = p.after(step.started_on, 10, 60)
        if on is not None:
            identify_barrier(p, DRAW_CATEGORY[p.kind](p.rng), on, step.structure)
    return step


def _employment(p: Pathway, day: date, training: StepRecord) -> None:
    reg = p.entry
    sender = reg
    if training.structure != reg and p.rng.random() < 0.4:
        sender = training.structure  # the training partner hands the person to an employer
    pool = p.partners(EMPLOYMENT[p.kind], day, reg, sender)
    step: StepRecord | None
    if p.consent and pool and p.rng.random() < 0.6:
        step = _through_partner(p, "employment", pool, day, sender)
    else:
        step = p.step(reg, "employment", day, p.rng.choice(EMPLOYMENT_ACTION))
    if step is not None and p.rng.random() < 0.3:
        p.end_later(step, 90, 365)  # a fixed-term contract that ended


def _through_partner(
    p: Pathway, purpose: str, pool: list[str], day: date, sender: str
) -> StepRecord | None:
    """Hand the person off for a stage, and once more elsewhere if that fails."""
    target = p.rng.choice(pool)
    note = p.rng.choice(STAGE_NOTE[purpose]) if p.rng.random() < 0.85 else None
    for _attempt in range(2):
        final = answer(p, send(p, sender, target, p.at(day), purpose, None, note))
        if final.step is not None or final.closed_at is None or p.rng.random() < 0.3:
            return final.step
        later = p.after(final.closed_at.date(), 3, 15)
        if later is None:
            return None
        day = later
        if final.status is not HandoffStatus.EXPIRED:
            target = p.rng.choice([c for c in pool if c != final.receiver] or pool)
    return None
