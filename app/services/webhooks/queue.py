"""The webhook outbox: deliveries written in the transaction of the hand-off change they
announce, read back by the worker and by the structure's page.

``notify_webhooks`` is called next to ``notify_handoff``; like the outbox, the deliveries'
table wakes its worker on PostgreSQL (a trigger's ``NOTIFY`` on ``WEBHOOK_CHANNEL``, delivered
with the commit only); on SQLite the worker polls.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent
from app.domain.webhooks import (
    EVENT_OF_HANDOFF_EVENT,
    RECEIVER_ONLY,
    WebhookEvent,
    parse_events,
)
from app.models import (
    Barrier,
    Beneficiary,
    Handoff,
    ReferenceItem,
    Structure,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.base import utcnow
from app.services.security import audit
from app.services.security.managers import require_manager

WEBHOOK_CHANNEL = "relais_webhooks"


def _code(session: Session, item_id: int | None) -> str | None:
    item = session.get(ReferenceItem, item_id) if item_id is not None else None
    return item.code if item is not None else None


def _purpose(session: Session, handoff: Handoff) -> dict[str, str | None]:
    if handoff.purpose_barrier_id is not None:
        barrier = session.get(Barrier, handoff.purpose_barrier_id)
        return {
            "kind": "barrier",
            "code": _code(session, barrier.category_id) if barrier else None,
        }
    return {"kind": "stage", "code": _code(session, handoff.purpose_stage_id)}


def handoff_data(session: Session, handoff: Handoff, event: HandoffEvent) -> dict[str, Any]:
    """What an event says of a hand-off: ids, pseudonym, codes. Never an identity or a note."""
    person = session.get(Beneficiary, handoff.beneficiary_id)
    structures = {
        s.id: s.code
        for s in session.scalars(
            select(Structure).where(
                Structure.id.in_([handoff.from_structure_id, handoff.to_structure_id])
            )
        )
    }
    reason = handoff.decline_reason_id if event is HandoffEvent.DECLINE else handoff.outcome_id
    return {
        "handoff_id": str(handoff.id),
        "pseudonym": person.pseudonym if person is not None else None,
        "from_structure": structures.get(handoff.from_structure_id),
        "to_structure": structures.get(handoff.to_structure_id),
        "action": event.value,
        "status": handoff.status.value,
        "purpose": _purpose(session, handoff),
        "reason_code": _code(session, reason),
        "parent_handoff_id": str(handoff.parent_id) if handoff.parent_id else None,
    }


def body(event_type: WebhookEvent, event_id: uuid.UUID, at: datetime, data: dict[str, Any]) -> str:
    """The JSON body of an event, as signed and sent."""
    message = {
        "type": event_type.value,
        "id": str(event_id),
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# Every answer asks (most structures have no endpoint): the query is built once, and reads
# only what picks the endpoints (not their secrets nor their structures: the payload names
# structures by their hand-off's codes).
_LISTENING = (
    select(WebhookEndpoint.id, WebhookEndpoint.events)
    .where(
        WebhookEndpoint.structure_id.in_(bindparam("structures", expanding=True)),
        WebhookEndpoint.active.is_(True),
    )
    .order_by(WebhookEndpoint.id)
)


def _listeners(
    session: Session, structure_ids: Collection[int], event_type: WebhookEvent
) -> list[uuid.UUID]:
    """The ids of the active endpoints of ``structure_ids`` that hear ``event_type``."""
    endpoints = session.execute(_LISTENING, {"structures": sorted(structure_ids)})
    return [endpoint for endpoint, events in endpoints if event_type in parse_events(events)]


def _queue(
    session: Session,
    endpoints: Sequence[uuid.UUID],
    event_type: WebhookEvent,
    payload: str,
    event_id: uuid.UUID,
    now: datetime,
    handoff_id: uuid.UUID | None = None,
) -> list[WebhookDelivery]:
    deliveries = [
        WebhookDelivery(
            id=uuid.uuid4(),
            endpoint_id=endpoint,
            handoff_id=handoff_id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    return deliveries


def notify_webhooks(
    session: Session, handoff: Handoff, event: HandoffEvent, *, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Queue ``event`` on ``handoff`` for the endpoints of the structures that hear it (none
    to look up when the hand-off was read with none active: ``Handoff.heard_by_webhooks``)."""
    event_type = EVENT_OF_HANDOFF_EVENT.get(event)
    if event_type is None or handoff.heard_by_webhooks is False:
        return []  # read with the hand-off: no active endpoint of either structure
    structures = {handoff.to_structure_id}
    if event_type not in RECEIVER_ONLY:
        structures.add(handoff.from_structure_id)
    endpoints = _listeners(session, structures, event_type)
    if not endpoints:
        return []
    at = now or utcnow()
    event_id = uuid.uuid4()
    payload = body(event_type, event_id, at, handoff_data(session, handoff, event))
    return _queue(session, endpoints, event_type, payload, event_id, at, handoff.id)


def queue_ping(
    session: Session, actor: User | None, endpoint: WebhookEndpoint, *, now: datetime
) -> WebhookDelivery:
    """A test event for one endpoint (active or not), sent by the worker like any other."""
    require_manager(actor, endpoint.structure_id)
    event_id = uuid.uuid4()
    structure = session.get(Structure, endpoint.structure_id)
    data = {"structure": structure.code if structure else None, "webhook_id": str(endpoint.id)}
    payload = body(WebhookEvent.PING, event_id, now, data)
    (delivery,) = _queue(session, [endpoint.id], WebhookEvent.PING, payload, event_id, now)
    audit.record(
        session, actor, AuditAction.WEBHOOK_PING, endpoint, structure=endpoint.structure_id
    )
    session.flush()
    return delivery


def forget_handoffs(session: Session, handoff_ids: Any) -> None:
    """An erasure: the deliveries about these hand-offs carry the person's old pseudonym.
    Those done (delivered or given up) are deleted; those still to send (the withdrawal of
    what was pending) are kept without it, so that the partner still learns of it."""
    about = WebhookDelivery.handoff_id.in_(handoff_ids)
    pending = (WebhookDelivery.delivered_at.is_(None), WebhookDelivery.given_up_at.is_(None))
    for delivery in session.scalars(select(WebhookDelivery).where(about, *pending)):
        message = json.loads(delivery.payload)
        message["data"]["pseudonym"] = None
        delivery.payload = json.dumps(
            message, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
    session.execute(
        delete(WebhookDelivery).where(about, ~and_(*pending)),
        execution_options={"synchronize_session": "fetch"},
    )


def due_deliveries(
    session: Session, *, now: datetime, limit: int, skip: Collection[uuid.UUID] = ()
) -> Sequence[WebhookDelivery]:
    """Deliveries due now to active endpoints, oldest due first, locked (PostgreSQL)."""
    query = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.given_up_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            (WebhookEndpoint.active.is_(True)) | (WebhookDelivery.event_type == WebhookEvent.PING),
        )
    )
    if skip:
        query = query.where(WebhookDelivery.id.not_in(list(skip)))
    query = (
        query.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    return session.scalars(query).all()


def given_up_count(session: Session, structure_id: int | None = None) -> int:
    query = select(func.count()).select_from(WebhookDelivery)
    if structure_id is not None:
        query = query.join(WebhookEndpoint).where(WebhookEndpoint.structure_id == structure_id)
    found = session.scalar(query.where(WebhookDelivery.given_up_at.is_not(None)))
    return int(found or 0)


def recent_deliveries(
    session: Session, structure_id: int, *, limit: int = 50
) -> Sequence[WebhookDelivery]:
    """The structure's latest deliveries, newest first (its webhooks page)."""
    return session.scalars(
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.structure_id == structure_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    ).all()
