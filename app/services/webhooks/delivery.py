"""One delivery run: POST each due delivery, signed; mark it delivered, or set its next
attempt, or give it up. The caller commits (the worker, once per batch)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.crypto import DecryptionError, KeyRing
from app.domain.webhooks import next_attempt, signature
from app.models import WebhookDelivery
from app.services.webhooks.endpoints import open_secret
from app.services.webhooks.queue import due_deliveries
from app.services.webhooks.settings import WebhookSettings
from app.services.webhooks.transport import Answer, post

log = logging.getLogger(__name__)

Poster = Callable[[str, bytes, Mapping[str, str], WebhookSettings], Answer]


@dataclass(frozen=True, slots=True)
class RunReport:
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    failed_ids: tuple[uuid.UUID, ...] = ()

    @property
    def handled(self) -> int:
        return self.delivered + self.failed


def signed_headers(secret: str, delivery: WebhookDelivery, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    message_id = str(delivery.event_id)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret, message_id, timestamp, delivery.payload.encode("utf-8")
        ),
    }


def attempt(
    keys: KeyRing,
    delivery: WebhookDelivery,
    settings: WebhookSettings,
    *,
    now: datetime,
    poster: Poster = post,
) -> bool:
    """Send one delivery now and record the outcome on it; whether it was delivered."""
    endpoint = delivery.endpoint
    try:
        secret = open_secret(keys, endpoint)
    except DecryptionError:  # its KEK left RELAIS_KEKS, or it was altered: nothing can sign
        answer = Answer(None, "secret-unreadable")
    else:
        headers = signed_headers(secret, delivery, now)
        answer = poster(endpoint.url, delivery.payload.encode("utf-8"), headers, settings)
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = answer.status, answer.error
    if answer.error is None:
        delivery.delivered_at = now
        return True
    retry_at = next_attempt(now, delivery.attempts, settings.max_attempts)
    if retry_at is None:
        delivery.given_up_at = now
    else:
        delivery.next_attempt_at = retry_at
    # Ids and a short code only: never the address's path, the body or the receiver's answer.
    log.info("webhook %s attempt %s failed: %s", delivery.id, delivery.attempts, answer.error)
    return False


def deliver_due(
    session: Session,
    keys: KeyRing,
    settings: WebhookSettings,
    *,
    now: datetime,
    limit: int = 50,
    skip: Collection[uuid.UUID] = (),
    poster: Poster = post,
) -> RunReport:
    """Send up to ``limit`` due deliveries; never commits."""
    delivered, given_up = 0, 0
    failed: list[uuid.UUID] = []
    for delivery in due_deliveries(session, now=now, limit=limit, skip=skip):
        if attempt(keys, delivery, settings, now=now, poster=poster):
            delivered += 1
        else:
            failed.append(delivery.id)
            given_up += delivery.given_up_at is not None
    session.flush()
    return RunReport(delivered, len(failed), given_up, tuple(failed))
