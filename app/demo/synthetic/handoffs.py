"""Hand-offs in a played pathway: sent, answered by the receiver (or withdrawn, or expired),
redirected along a chain, closed with an outcome. Every event goes through the transition
table of ``app.domain.handoffs``, and a closing applies what ``app.services.handoffs``
applies to the barrier and the stages."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from app.demo.data.wording import (
    DECLINE_MESSAGE,
    NEVER_CAME_MESSAGE,
    STOP_MESSAGE,
    WITHDRAW_MESSAGE,
    redirect_message,
)
from app.demo.synthetic.draws import draw_closing
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.records import BarrierRecord, HandoffRecord, TransitionRecord
from app.demo.synthetic.shape import (
    ALTERNATES,
    DECLINE_RATE,
    DECLINE_REASONS,
    EMPLOYMENT,
    GENERALISTS,
    LATE_CONTACT_RATE,
    NEVER_CAME_RATE,
    NO_CONTACT_RATE,
    REDIRECT_RATE,
    SILENT_RATE,
    SLOW_RATE,
    SPANS,
    SUCCESS,
    TRAINING,
    WITHDRAW_RATE,
)
from app.domain.handoffs import HandoffEvent, HandoffStatus, Party, next_status, outcome_fits
from app.domain.pathway import BarrierStatus
from app.services.handoffs import BARRIER_AFTER_OUTCOME, STAGE_AFTER_OUTCOME

_S, _E = HandoffStatus, HandoffEvent


def send(
    p: Pathway,
    sender: str,
    receiver: str,
    moment: datetime,
    purpose: str,
    barrier: BarrierRecord | None,
    note: str | None,
    parent: HandoffRecord | None = None,
) -> HandoffRecord:
    handoff = HandoffRecord(p.uuid(), sender, receiver, purpose, barrier, moment, note, parent)
    if parent is not None:
        handoff.length = parent.length + 1
    handoff.events.append(TransitionRecord(p.uuid(), _E.SEND, None, _S.SENT, sender, moment))
    p.handoffs.append(handoff)
    p.touch(sender, moment.date())
    return handoff


def act(
    p: Pathway,
    handoff: HandoffRecord,
    event: HandoffEvent,
    actor: str | None,
    moment: datetime,
    *,
    reason: str | None = None,
    message: str | None = None,
) -> None:
    """Apply ``event`` with the transition table of ``app.domain.handoffs``."""
    if actor is None:
        party = Party.SYSTEM
    else:
        party = Party.SENDER if actor == handoff.sender else Party.RECEIVER
    target = next_status(handoff.status, event, party)  # InvalidTransition on a bug here
    if moment < handoff.events[-1].at:  # pragma: no cover - a bug in this package
        raise ValueError("hand-off events out of order")
    handoff.events.append(
        TransitionRecord(p.uuid(), event, handoff.status, target, actor, moment, reason, message)
    )
    handoff.status = target
    if event in (_E.ACCEPT, _E.DECLINE, _E.REDIRECT):
        handoff.answered_at = moment
    if event is _E.FIRST_CONTACT:
        handoff.first_contact_at = moment
    if event is _E.DECLINE:
        handoff.decline_reason = reason
    if event in (_E.COMPLETE, _E.NOT_COMPLETE):
        handoff.outcome = reason
    if target.is_final:
        handoff.closed_at = moment
    p.touch(actor, moment.date())


def answer(p: Pathway, handoff: HandoffRecord) -> HandoffRecord:
    """Play the receiver's side (or the sender's withdrawal, or the expiry); returns the
    last hand-off of the redirect chain."""
    rng = p.rng
    draw = rng.random()
    sent = handoff.sent_at.date()
    if draw < WITHDRAW_RATE:
        day = p.after(sent, 1, 10)
        if day is not None:
            message = rng.choice(WITHDRAW_MESSAGE)
            act(p, handoff, _E.WITHDRAW, handoff.sender, p.at(day), message=message)
        return handoff
    if draw < WITHDRAW_RATE + SILENT_RATE:
        hours = timedelta(days=p.calendar.expiry_days, hours=rng.randint(1, 6))
        if (handoff.sent_at + hours).date() < p.until:
            act(p, handoff, _E.EXPIRE, None, handoff.sent_at + hours)
        return handoff
    day = p.after(sent, *((8, 28) if rng.random() < SLOW_RATE else (1, 7)))
    if day is None:
        return handoff
    draw = rng.random()
    if draw < DECLINE_RATE:
        reason = rng.choice(DECLINE_REASONS)
        message = DECLINE_MESSAGE[reason]
        act(p, handoff, _E.DECLINE, handoff.receiver, p.at(day), reason=reason, message=message)
        return handoff
    if (
        handoff.length <= len(REDIRECT_RATE)
        and draw < DECLINE_RATE + REDIRECT_RATE[handoff.length - 1]
    ):
        target = _redirect_target(p, handoff, day)
        if target is not None:
            return answer(p, _redirect(p, handoff, target, p.at(day)))
    _accept(p, handoff, day)
    return handoff


def _redirect_target(p: Pathway, handoff: HandoffRecord, day: date) -> str | None:
    chain: set[str] = set()
    link: HandoffRecord | None = handoff
    while link is not None:
        chain |= {link.sender, link.receiver}
        link = link.parent
    if handoff.barrier is not None:
        specific = ALTERNATES[handoff.barrier.category]
    else:
        specific = TRAINING[p.kind] if handoff.purpose == "training" else EMPLOYMENT[p.kind]
    found = p.partners(specific, day, *chain) or p.partners(GENERALISTS, day, *chain)
    return p.rng.choice(found) if found else None


def _redirect(p: Pathway, handoff: HandoffRecord, target: str, moment: datetime) -> HandoffRecord:
    """The receiver closes the hand-off and sends a linked one to ``target``."""
    message = redirect_message(p.network.names[target])
    act(p, handoff, _E.REDIRECT, handoff.receiver, moment, message=message)
    return send(
        p, handoff.receiver, target, moment, handoff.purpose, handoff.barrier, message, handoff
    )


def _accept(p: Pathway, handoff: HandoffRecord, day: date) -> None:
    receiver = handoff.receiver
    act(p, handoff, _E.ACCEPT, receiver, p.at(day))
    p.follow(receiver, day)
    if p.rng.random() < NEVER_CAME_RATE:
        end = p.after(day, 10, 30)
        if end is not None:
            outcome = p.rng.choice(("person_stopped", "other"))
            close(p, handoff, _E.NOT_COMPLETE, outcome, end, NEVER_CAME_MESSAGE)
        return
    # Drawn apart (seeded by the hand-off), so that the pathway's other draws are unchanged.
    draw = random.Random(handoff.id.int).random()  # noqa: S311 - fictional data
    if draw < NO_CONTACT_RATE:
        return  # accepted, and the first contact never recorded: lost from view in time
    late = draw < NO_CONTACT_RATE + LATE_CONTACT_RATE
    contact = p.after(day, 16, 45) if late else p.after(day, 2, 15)
    if contact is None:
        return
    act(p, handoff, _E.FIRST_CONTACT, receiver, p.at(contact))
    if handoff.barrier is not None and handoff.barrier.status is BarrierStatus.IDENTIFIED:
        handoff.barrier.move(BarrierStatus.IN_PROGRESS, contact)
    end = p.after(contact, *SPANS[handoff.purpose])
    if end is None:
        return
    event, drawn = draw_closing(p.rng)
    outcome = drawn or SUCCESS[handoff.purpose]
    message = STOP_MESSAGE if outcome == "person_stopped" else None
    close(p, handoff, event, outcome, end, message)


def close(
    p: Pathway,
    handoff: HandoffRecord,
    event: HandoffEvent,
    outcome: str,
    day: date,
    message: str | None,
) -> None:
    """Close with an outcome, and apply what ``app.services.handoffs`` applies."""
    if not outcome_fits(event, outcome):  # pragma: no cover - a bug in this package
        raise ValueError(f"outcome {outcome} does not fit {event}")
    act(p, handoff, event, handoff.receiver, p.at(day), reason=outcome, message=message)
    barrier = handoff.barrier
    if barrier is not None:
        if event is _E.COMPLETE and outcome in BARRIER_AFTER_OUTCOME:
            barrier.move(BARRIER_AFTER_OUTCOME[outcome], day)
        elif event is _E.NOT_COMPLETE or outcome == "other":
            stops = outcome == "person_stopped" and p.rng.random() < 0.5
            barrier.move(BarrierStatus.NOT_ADDRESSED if stops else BarrierStatus.PERSISTING, day)
    stage = STAGE_AFTER_OUTCOME.get(outcome) if event is _E.COMPLETE else None
    if stage is not None:
        handoff.step = p.step(handoff.receiver, stage, day, None)
