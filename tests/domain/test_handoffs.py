"""The hand-off state machine, checked for every (status, event, party) there is."""

from __future__ import annotations

import itertools

import pytest

from app.domain.handoffs import (
    EVENTS_NEEDING_REASON,
    FINAL_STATUSES,
    HandoffEvent,
    HandoffStatus,
    InvalidTransition,
    Party,
    allowed_events,
    next_status,
    outcome_fits,
)

# Written out by hand from the rules in docs/domain.md, independently of TRANSITIONS:
# (status, event, party) -> status after. Every other combination is refused.
EXPECTED: dict[tuple[str, str, str], str] = {
    ("sent", "accept", "receiver"): "accepted",
    ("sent", "decline", "receiver"): "declined",
    ("sent", "redirect", "receiver"): "redirected",
    ("sent", "withdraw", "sender"): "withdrawn",
    ("sent", "withdraw", "person"): "withdrawn",
    ("sent", "expire", "system"): "expired",
    ("accepted", "first_contact", "receiver"): "in_progress",
    ("accepted", "not_complete", "receiver"): "not_completed",
    ("in_progress", "complete", "receiver"): "completed",
    ("in_progress", "not_complete", "receiver"): "not_completed",
}

EVERY_CASE = list(itertools.product(HandoffStatus, HandoffEvent, Party))


def test_the_product_is_complete() -> None:
    assert len(EVERY_CASE) == 9 * 12 * 4  # follow-through events included: never a transition
    assert set(EXPECTED) <= {(s.value, e.value, p.value) for s, e, p in EVERY_CASE}


@pytest.mark.parametrize(
    ("status", "event", "party"),
    EVERY_CASE,
    ids=[f"{s.value}-{e.value}-{p.value}" for s, e, p in EVERY_CASE],
)
def test_next_status(status: HandoffStatus, event: HandoffEvent, party: Party) -> None:
    expected = EXPECTED.get((status.value, event.value, party.value))
    if expected is None:
        with pytest.raises(InvalidTransition) as caught:
            next_status(status, event, party)
        assert (caught.value.status, caught.value.event, caught.value.party) == (
            status,
            event,
            party,
        )
    else:
        assert next_status(status, event, party) is HandoffStatus(expected)


def test_invalid_transition_says_what_was_refused() -> None:
    with pytest.raises(InvalidTransition, match="accept is not allowed from declined"):
        next_status(HandoffStatus.DECLINED, HandoffEvent.ACCEPT, Party.RECEIVER)


def test_nothing_leaves_a_final_status() -> None:
    for status in FINAL_STATUSES:
        assert not any(key[0] == status.value for key in EXPECTED)
        assert status.is_final
        assert allowed_events(status, frozenset(Party)) == []


def test_final_statuses() -> None:
    assert {s.value for s in FINAL_STATUSES} == {
        "declined",
        "withdrawn",
        "expired",
        "redirected",
        "completed",
        "not_completed",
    }
    assert [s for s in HandoffStatus if s.is_pending] == [HandoffStatus.SENT]


def test_sending_is_not_a_transition() -> None:
    # A hand-off is created in "sent"; no status leads back to it.
    assert "sent" not in EXPECTED.values()
    for status, party in itertools.product(HandoffStatus, Party):
        with pytest.raises(InvalidTransition):
            next_status(status, HandoffEvent.SEND, party)


@pytest.mark.parametrize(
    ("status", "parties", "events"),
    [
        ("sent", {"receiver"}, ["accept", "decline", "redirect"]),
        ("sent", {"sender"}, ["withdraw"]),
        ("sent", {"system"}, ["expire"]),
        ("sent", {"person"}, ["withdraw"]),
        ("accepted", {"person"}, []),
        ("in_progress", {"person"}, []),
        ("sent", {"sender", "receiver"}, ["accept", "decline", "redirect", "withdraw"]),
        ("accepted", {"receiver"}, ["first_contact", "not_complete"]),
        ("accepted", {"sender"}, []),
        ("in_progress", {"receiver"}, ["complete", "not_complete"]),
        ("in_progress", {"sender", "system"}, []),
    ],
)
def test_allowed_events(status: str, parties: set[str], events: list[str]) -> None:
    offered = allowed_events(HandoffStatus(status), frozenset(Party(p) for p in parties))
    assert [event.value for event in offered] == events


def test_events_needing_a_coded_reason() -> None:
    assert {e.value for e in EVENTS_NEEDING_REASON} == {"decline", "complete", "not_complete"}


@pytest.mark.parametrize(
    ("event", "code", "fits"),
    [
        (HandoffEvent.COMPLETE, "job_signed", True),
        (HandoffEvent.COMPLETE, "person_stopped", False),
        (HandoffEvent.NOT_COMPLETE, "person_stopped", True),
        (HandoffEvent.NOT_COMPLETE, "training_entered", False),
        (HandoffEvent.NOT_COMPLETE, "oriented_further", True),
        (HandoffEvent.COMPLETE, "an_admin_added_code", True),
        (HandoffEvent.ACCEPT, "job_signed", False),
    ],
)
def test_outcome_fits_the_way_of_closing(event: HandoffEvent, code: str, fits: bool) -> None:
    assert outcome_fits(event, code) is fits
