"""The end of a played pathway: the person leaves (what is open is closed), or the follow-ups
whose work is done end."""

from __future__ import annotations

from datetime import date, timedelta

from app.demo.data.wording import EXIT_ACTION, LEFT_MESSAGE
from app.demo.synthetic.draws import DRAW_EXIT
from app.demo.synthetic.handoffs import act, close
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.records import FollowUpRecord
from app.demo.synthetic.shape import END_AFTER_OUTCOME
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus


def leave(p: Pathway, day: date) -> None:
    """The person leaves (moves, is lost from view...): what is open is closed."""
    reason = DRAW_EXIT(p.rng)
    reg = p.entry
    p.step(reg, "exit_other", day, EXIT_ACTION[reason]).ended_on = day
    for handoff in p.handoffs:
        later = p.after(max(day, handoff.last_day + timedelta(days=1)), 0, 5, p.today)
        if later is None or handoff.status.is_final:
            continue
        if handoff.status is HandoffStatus.SENT:
            act(
                p, handoff, HandoffEvent.WITHDRAW, handoff.sender, p.at(later), message=LEFT_MESSAGE
            )
        else:
            outcome = "person_stopped" if reason == "person_stopped" else "other"
            close(p, handoff, HandoffEvent.NOT_COMPLETE, outcome, later, None)
    for barrier in p.barriers:
        if not barrier.status.is_closed:
            barrier.move(BarrierStatus.NOT_ADDRESSED, day)
    for follow_up in p.follow_ups.values():
        _end_follow_up(p, follow_up, max(day, follow_up.last_active), reason, 0, 10)


def close_follow_ups(p: Pathway) -> None:
    """Follow-ups end once their work is done: the registering structure's when the
    person has a job (or, for the MLDS, when training begins elsewhere); a partner's
    when its hand-offs and stages are over (for three in four of them: some partners
    leave a finished follow-up open)."""
    for code, follow_up in p.follow_ups.items():
        if code == p.entry:
            _close_registering(p, follow_up)
        elif not _still_working(p, code) and p.rng.random() >= 0.25:
            _close_partner(p, code, follow_up)


def _close_registering(p: Pathway, follow_up: FollowUpRecord) -> None:
    jobs = [s.started_on for s in p.steps if s.stage == "employment"]
    trainings = [s.started_on for s in p.steps if s.stage == "training"]
    if jobs:
        _end_follow_up(p, follow_up, jobs[0], "goal_reached", 10, 60)
    elif p.entry == "MLDS90" and trainings:
        _end_follow_up(p, follow_up, trainings[0], "handed_off", 2, 10)


def _still_working(p: Pathway, code: str) -> bool:
    """Whether the structure has a hand-off or a stage still open for the person."""
    busy = any(code in (h.sender, h.receiver) and h.closed_at is None for h in p.handoffs)
    return busy or any(s.structure == code and s.ended_on is None for s in p.steps)


def _close_partner(p: Pathway, code: str, follow_up: FollowUpRecord) -> None:
    """End a partner's follow-up after its last work, for the reason its last outcome gives."""
    closed = [h for h in p.handoffs if h.receiver == code and h.outcome is not None]
    last = max(closed, key=lambda h: h.last_day, default=None)
    reason = END_AFTER_OUTCOME.get(last.outcome or "", "other") if last else "other"
    ended = [s.ended_on for s in p.steps if s.structure == code and s.ended_on]
    _end_follow_up(p, follow_up, max([follow_up.last_active, *ended]), reason, 0, 20)


def _end_follow_up(
    p: Pathway, follow_up: FollowUpRecord, after: date, reason: str, low: int, high: int
) -> None:
    end = p.after(max(after, follow_up.last_active), low, high, p.today)
    if end is not None:
        follow_up.ended_on, follow_up.end_reason = end, reason
