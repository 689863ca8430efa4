"""Barriers in a played pathway: identified by a structure, handed to the partner that acts on
them when the person consents, or worked on by the structure alone."""

from __future__ import annotations

from datetime import date

from app.demo.data.network import ACTING_ON
from app.demo.data.wording import BARRIER_NOTE, RESEND_NOTE
from app.demo.synthetic.handoffs import answer, send
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.records import BarrierRecord
from app.demo.synthetic.shape import ALTERNATES
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus


def identify_barrier(p: Pathway, category: str, on: date, by: str) -> None:
    """``by`` identifies a barrier on ``on``; the partner acting on its category (if it is in
    the network yet) takes it through a hand-off, or ``by`` works on it alone."""
    partner = ACTING_ON[category]
    joined = bool(p.partners((partner,), on, by))
    barrier = BarrierRecord(p.uuid(), category, partner if joined else by, on, by)
    p.barriers.append(barrier)
    p.touch(by, on)
    if barrier.acting != by and p.consent and p.rng.random() < 0.85:
        _hand_off(p, barrier, by, on)
    else:
        _work_alone(p, barrier, on)


def _work_alone(p: Pathway, barrier: BarrierRecord, on: date) -> None:
    """The acting structure works on the barrier without a hand-off."""
    day = p.after(on, 1, 15)
    if day is None:
        return
    barrier.move(BarrierStatus.IN_PROGRESS, day)
    p.touch(barrier.acting, day)
    end = p.after(day, 20, 150)
    closing = p.rng.choices(
        (BarrierStatus.LIFTED, BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED, None),
        cum_weights=(55, 75, 85, 100),
    )[0]
    if end is not None and closing is not None:
        barrier.move(closing, end)
        p.touch(barrier.acting, end)


def _hand_off(p: Pathway, barrier: BarrierRecord, sender: str, on: date) -> None:
    """Hand the barrier to the partner acting on it; after a refusal or no answer, try
    again (elsewhere after a refusal) or give up."""
    target, tried = barrier.acting, {barrier.acting}
    note: str | None = BARRIER_NOTE[barrier.category] if p.rng.random() < 0.85 else None
    moment = p.at(on)
    for _attempt in range(3):
        final = answer(p, send(p, sender, target, moment, "barrier", barrier, note))
        if final.answered_at is not None and final.status is not HandoffStatus.DECLINED:
            barrier.acting = final.receiver  # accepted: that partner acts on it
            return
        if final.closed_at is None:
            return  # still waiting for an answer
        closed = final.closed_at.date()
        if final.status is HandoffStatus.WITHDRAWN:
            barrier.acting = sender
            _work_alone(p, barrier, closed)
            return
        if final.decline_reason == "not_interested" or p.rng.random() < 0.4:
            day = p.after(closed, 1, 10)
            if day is not None:
                barrier.move(BarrierStatus.NOT_ADDRESSED, day)
            return
        day = p.after(closed, 1, 10)
        if day is None:
            return
        moment = p.at(day)
        if final.status is HandoffStatus.EXPIRED:
            note = RESEND_NOTE
            continue
        others = p.partners(ALTERNATES[barrier.category], day, sender, *tried)
        if not others:
            return
        target = p.rng.choice(others)
        tried.add(target)
