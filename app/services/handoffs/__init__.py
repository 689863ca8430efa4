"""Hand-offs between partner structures: sending, every answer, withdrawal, the lists of a
structure's inbox and outbox, and the deadlines.

The use cases other features call are re-exported here (``from app.services.handoffs import
send_handoff``); ``lists``, ``deadlines`` and ``follow_through`` (reminders, the receiving
structure's answer about its follow-up) are imported as modules. This package may import
models, the domain, ``app.services.people.registration``, ``app.services.pathways``, ``app.services.mail``
and ``app.services.security``; nothing here imports Flask.
"""

from app.services.handoffs.parties import available_events, parties
from app.services.handoffs.sending import send_handoff
from app.services.handoffs.transitions import (
    BARRIER_AFTER_OUTCOME,
    STAGE_AFTER_OUTCOME,
    apply_event,
    event_day,
    floor_of,
)
from app.services.handoffs.withdrawal import (
    pending_for_person,
    withdraw_for_person,
    withdraw_pending,
)

__all__ = [
    "BARRIER_AFTER_OUTCOME",
    "STAGE_AFTER_OUTCOME",
    "apply_event",
    "available_events",
    "event_day",
    "floor_of",
    "parties",
    "pending_for_person",
    "send_handoff",
    "withdraw_for_person",
    "withdraw_pending",
]
