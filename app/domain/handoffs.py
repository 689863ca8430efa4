"""The hand-off state machine, as data.

Each allowed transition is one row: from this status, this event, done by someone in this
relation to the hand-off, leads to that status. Anything not in the table is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.effective_dates import Bound, Floor


class HandoffStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REDIRECTED = "redirected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"

    @property
    def is_pending(self) -> bool:
        return self is HandoffStatus.SENT

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        HandoffStatus.DECLINED,
        HandoffStatus.WITHDRAWN,
        HandoffStatus.EXPIRED,
        HandoffStatus.REDIRECTED,
        HandoffStatus.COMPLETED,
        HandoffStatus.NOT_COMPLETED,
    }
)


class HandoffEvent(StrEnum):
    SEND = "send"
    ACCEPT = "accept"
    DECLINE = "decline"
    REDIRECT = "redirect"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    FIRST_CONTACT = "first_contact"
    COMPLETE = "complete"
    NOT_COMPLETE = "not_complete"
    # Follow-through: recorded in the history, no change of status (``FOLLOW_THROUGH``).
    REMIND = "remind"
    FOLLOW_UP_ENDED = "follow_up_ended"
    FOLLOW_UP_KEPT = "follow_up_kept"


class Party(StrEnum):
    """The acting user's relation to the hand-off."""

    SENDER = "sender"  # a caseworker of the sending structure
    RECEIVER = "receiver"  # a caseworker of the receiving structure
    SYSTEM = "system"  # the scheduled deadline rule
    # The person the hand-off is about, through a caseworker who follows them: withdrawing
    # their consent, or having their data erased, withdraws what is still pending.
    PERSON = "person"


class WithdrawCause(StrEnum):
    """Why the person's side (``Party.PERSON``) withdrew a pending hand-off."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    ERASURE = "erasure"


@dataclass(frozen=True, slots=True)
class Transition:
    source: HandoffStatus
    event: HandoffEvent
    party: Party
    target: HandoffStatus


S, E, P = HandoffStatus, HandoffEvent, Party

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.SENT, E.ACCEPT, P.RECEIVER, S.ACCEPTED),
    Transition(S.SENT, E.DECLINE, P.RECEIVER, S.DECLINED),
    Transition(S.SENT, E.REDIRECT, P.RECEIVER, S.REDIRECTED),
    Transition(S.SENT, E.WITHDRAW, P.SENDER, S.WITHDRAWN),
    Transition(S.SENT, E.WITHDRAW, P.PERSON, S.WITHDRAWN),
    Transition(S.SENT, E.EXPIRE, P.SYSTEM, S.EXPIRED),
    Transition(S.ACCEPTED, E.FIRST_CONTACT, P.RECEIVER, S.IN_PROGRESS),
    Transition(S.ACCEPTED, E.NOT_COMPLETE, P.RECEIVER, S.NOT_COMPLETED),
    Transition(S.IN_PROGRESS, E.COMPLETE, P.RECEIVER, S.COMPLETED),
    Transition(S.IN_PROGRESS, E.NOT_COMPLETE, P.RECEIVER, S.NOT_COMPLETED),
)

_TABLE: dict[tuple[HandoffStatus, HandoffEvent, Party], HandoffStatus] = {
    (t.source, t.event, t.party): t.target for t in TRANSITIONS
}

# What follows a hand-off through without changing its status, recorded in its history like a
# transition (from and to the same status): who may do it, and on a hand-off in which status.
# A reminder of a pending hand-off by its sender; once a hand-off completes, the receiving
# structure's answer to "does your follow-up of the person end?". Never in ``allowed_events``.
FOLLOW_THROUGH: dict[HandoffEvent, tuple[HandoffStatus, Party]] = {
    E.REMIND: (S.SENT, P.SENDER),
    E.FOLLOW_UP_ENDED: (S.COMPLETED, P.RECEIVER),
    E.FOLLOW_UP_KEPT: (S.COMPLETED, P.RECEIVER),
}


# Hand-offs their sender may send again elsewhere ("reorient"): they ended without reaching
# the partner's service, through no act of the sender's.
REORIENTABLE = frozenset({HandoffStatus.DECLINED, HandoffStatus.EXPIRED, HandoffStatus.REDIRECTED})


def may_follow_through(
    event: HandoffEvent, status: HandoffStatus, parties: frozenset[Party]
) -> bool:
    """Whether someone in ``parties`` may record the follow-through ``event`` now."""
    rule = FOLLOW_THROUGH.get(event)
    return rule is not None and rule[0] is status and rule[1] in parties


# Outcome codes that mean the hand-off reached its purpose, and ones that mean it did not:
# the first cannot close a hand-off "without completion", the second cannot "complete" it.
# Outcomes an administrator adds later fit both.
SUCCESS_OUTCOMES = frozenset({"barrier_lifted", "training_entered", "job_signed"})
STOP_OUTCOMES = frozenset({"person_stopped"})


def outcome_fits(event: HandoffEvent, outcome_code: str) -> bool:
    """Whether ``outcome_code`` may close a hand-off with ``event``."""
    if event is HandoffEvent.COMPLETE:
        return outcome_code not in STOP_OUTCOMES
    if event is HandoffEvent.NOT_COMPLETE:
        return outcome_code not in SUCCESS_OUTCOMES
    return False


# Events that need a coded reason (decline reason or outcome).
EVENTS_NEEDING_REASON = frozenset({E.DECLINE, E.NOT_COMPLETE, E.COMPLETE})


class InvalidTransition(Exception):
    """The event is not allowed from this status for this party."""

    def __init__(self, status: HandoffStatus, event: HandoffEvent, party: Party) -> None:
        super().__init__(f"{event.value} is not allowed from {status.value} for the {party.value}")
        self.status, self.event, self.party = status, event, party


def next_status(status: HandoffStatus, event: HandoffEvent, party: Party) -> HandoffStatus:
    """The status after ``event``, or raise ``InvalidTransition``."""
    try:
        return _TABLE[(status, event, party)]
    except KeyError:
        raise InvalidTransition(status, event, party) from None


def allowed_events(status: HandoffStatus, parties: frozenset[Party]) -> list[HandoffEvent]:
    """Events the acting user may apply now, in table order (what the UI offers)."""
    return [t.event for t in TRANSITIONS if t.source is status and t.party in parties]


# Events whose day may be back-dated (a date field on their form): they happened with the
# person, possibly before the caseworker could record them. The others (a decline, a redirect,
# a withdrawal, the expiry, the follow-through) happen in Relais, on the day they are recorded.
BACKDATED_EVENTS = frozenset({E.ACCEPT, E.FIRST_CONTACT, E.COMPLETE, E.NOT_COMPLETE})


def event_floor(
    event: HandoffEvent,
    *,
    sent_on: date,
    accepted_on: date | None,
    first_contact_on: date | None,
) -> Floor:
    """The earliest day ``event`` may be dated: the step of the hand-off it follows.

    An acceptance (or any answer) follows the sending; a first contact, the acceptance; an
    outcome, the first contact, or the acceptance when there was none.
    """
    if event is E.FIRST_CONTACT and accepted_on is not None:
        return Floor(Bound.ACCEPTED, accepted_on)
    if event in (E.COMPLETE, E.NOT_COMPLETE):
        if first_contact_on is not None:
            return Floor(Bound.FIRST_CONTACT, first_contact_on)
        if accepted_on is not None:
            return Floor(Bound.ACCEPTED, accepted_on)
    return Floor(Bound.SENT, sent_on)
