"""The immutable history of a hand-off: one transition row per event, with its message sealed
under the person's key (readable only by the two party structures).

The row is written by a Core statement built once (``app.services.core_writes``), and the
person's pathway state refreshed with it (the session hook of ``app.services.pathways.state``
sees only what the ORM flushes)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.effective_dates import field_day
from app.domain.handoffs import (
    HandoffEvent,
    HandoffStatus,
    WithdrawCause,
)
from app.models import (
    Handoff,
    HandoffTransition,
    User,
)
from app.services.core_writes import expire_loaded
from app.services.pathways.state import note_event
from app.services.security.vault import Vault

_TRANSITIONS = cast(Table, HandoffTransition.__table__)
_INSERT = insert(_TRANSITIONS)


def record_transition(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    source: HandoffStatus | None,
    now: datetime,
    reason_id: int | None,
    message: str | None,
    cause: WithdrawCause | None = None,
    effective_on: date | None = None,
) -> None:
    """Append the transition ``source`` → ``handoff.status`` by ``event`` (not audited here),
    recorded at ``now``, effective on ``effective_on`` (by default the French day of ``now``),
    and count it in the person's pathway state."""
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "handoff_id": handoff.id,
        "event": event,
        "from_status": source,
        "to_status": handoff.status,
        "actor_id": actor.id if actor else None,
        "actor_structure_id": actor.structure_id if actor else None,
        "reason_id": reason_id,
        "message": None,
        "cause": cause,
        "at": now,
        "effective_on": effective_on or field_day(now),
    }
    if message and message.strip():
        key = vault.sealing_key(session, handoff.beneficiary_id)
        row["message"] = vault.seal(
            key,
            "handoff_transitions",
            "message",
            row["id"],
            handoff.beneficiary_id,
            message.strip(),
        )
    session.flush()  # the hand-off's row first, when it is new (nothing to do otherwise)
    session.connection().execute(_INSERT, row)
    expire_loaded(session, handoff, "events")
    if row["actor_structure_id"] is not None:  # an event of the pathway only when done by one
        note_event(session, handoff.beneficiary_id, row["effective_on"], row["actor_structure_id"])
