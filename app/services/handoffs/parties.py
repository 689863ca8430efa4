"""Who the acting user is in a hand-off (sender, receiver, coordinator...), and what the
transition table lets them do now: what the hand-off page offers."""

from __future__ import annotations

from app.domain.actors import StructureByLink
from app.domain.handoffs import (
    HandoffEvent,
    Party,
    allowed_events,
)
from app.domain.roles import Role
from app.models import (
    Handoff,
    User,
)


def parties(actor: User | StructureByLink | None, handoff: Handoff) -> frozenset[Party]:
    """The actor's relations to the hand-off (none for an outsider). A structure acting from
    a mailed link is only ever the receiver of the hand-off its link is bound to."""
    if actor is None:
        return frozenset({Party.SYSTEM})
    if isinstance(actor, StructureByLink):
        if actor.structure_id == handoff.to_structure_id:
            return frozenset({Party.RECEIVER})
        return frozenset()
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return frozenset()
    found = set()
    if actor.structure_id == handoff.from_structure_id:
        found.add(Party.SENDER)
    if actor.structure_id == handoff.to_structure_id:
        found.add(Party.RECEIVER)
    return frozenset(found)


def available_events(actor: User | StructureByLink | None, handoff: Handoff) -> list[HandoffEvent]:
    """What ``actor`` may do with ``handoff`` now: what the page offers.

    Nothing once the person's data is erased: nothing more is recorded about them.
    """
    if handoff.beneficiary.erased_at is not None:
        return []
    return allowed_events(handoff.status, parties(actor, handoff))
