"""A structure's webhook endpoints: register, new secret, enable, disable, delete, list.

Every use case checks that the actor manages the structure (``require_manager``; ``None`` is
the command line) and is audited (ids and the address's host, never the secret). The secret is
returned once, by ``register`` and ``renew_secret``, and sealed under a data key of the
endpoint's own wrapped by the active KEK (re-wrapped by ``keys rotate-kek``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.crypto import DataKey, FieldContext, KeyRing, decrypt_field, encrypt_field
from app.domain.audit import AuditAction
from app.domain.webhooks import (
    SUBSCRIBABLE,
    UrlRefused,
    WebhookEvent,
    format_events,
    new_secret,
    parse_url,
)
from app.models import Structure, User, WebhookDelivery, WebhookEndpoint
from app.services.errors import N_, InvalidInput, NotFound
from app.services.security import audit
from app.services.security.managers import require_manager
from app.services.webhooks.settings import WebhookSettings
from app.services.webhooks.transport import Resolver, checked_target, resolve

MAX_ENDPOINTS = 10

REFUSALS = {
    "malformed": N_("Enter a full address, such as https://partner.example.org/relais."),
    "scheme": N_("The address must start with https://."),
    "http": N_("The address must start with https:// (http:// is not allowed here)."),
    "unresolvable": N_("This address's host name could not be found."),
    "address": N_(
        "This address leads to a private or local network: webhooks go to addresses on the "
        "Internet only."
    ),
}


@dataclass(frozen=True, slots=True)
class Registered:
    endpoint: WebhookEndpoint
    secret: str  # shown once

    def __repr__(self) -> str:  # never show the secret
        return f"Registered({self.endpoint.id})"


def _context(endpoint_id: uuid.UUID) -> FieldContext:
    return FieldContext("webhook_endpoints", "secret", endpoint_id, endpoint_id)


def _seal(keys: KeyRing, endpoint: WebhookEndpoint, secret: str) -> None:
    key = DataKey.generate()
    endpoint.secret_kek, endpoint.secret_key = keys.wrap(key)
    endpoint.secret = encrypt_field(key, _context(endpoint.id), secret)


def open_secret(keys: KeyRing, endpoint: WebhookEndpoint) -> str:
    key = keys.unwrap(endpoint.secret_kek, endpoint.secret_key)
    return decrypt_field(key, _context(endpoint.id), endpoint.secret)


def check_url(url: str, settings: WebhookSettings, resolver: Resolver = resolve) -> str:
    """The address, stripped, if a webhook may go there; ``InvalidInput`` on ``url``."""
    url = url.strip()
    try:
        parse_url(url, allow_http=settings.allow_http)
        checked_target(url, settings, resolver)
    except UrlRefused as exc:
        raise InvalidInput(REFUSALS[exc.reason], field="url") from exc
    return url


def _host(url: str) -> str:
    try:
        return parse_url(url, allow_http=True).host[:100]
    except UrlRefused:
        return ""


def register(
    session: Session,
    keys: KeyRing,
    actor: User | None,
    structure: Structure,
    *,
    url: str,
    description: str,
    events: Iterable[WebhookEvent],
    settings: WebhookSettings,
    now: datetime,
    resolver: Resolver = resolve,
) -> Registered:
    """Register an endpoint of ``structure``; returns it with its secret (shown once)."""
    require_manager(actor, structure.id)
    chosen = frozenset(events) & frozenset(SUBSCRIBABLE)
    if not chosen:
        raise InvalidInput(N_("Choose at least one event."), field="events")
    if len(description.strip()) > 200:
        raise InvalidInput(N_("Keep the description under 200 characters."), field="description")
    count = session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.structure_id == structure.id)
    )
    if int(count or 0) >= MAX_ENDPOINTS:
        raise InvalidInput(
            N_("A structure has at most %(count)s webhooks: delete one first."),
            field="url",
            count=MAX_ENDPOINTS,
        )
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        structure_id=structure.id,
        url=check_url(url, settings, resolver),
        description=description.strip(),
        events=format_events(chosen),
        active=True,
        created_by=actor.id if actor else None,
        created_at=now,
    )
    secret = new_secret()
    _seal(keys, endpoint, secret)
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.WEBHOOK_CREATE,
        endpoint,
        structure=structure.id,
        host=_host(endpoint.url),
        events=endpoint.events,
    )
    return Registered(endpoint, secret)


def renew_secret(
    session: Session, keys: KeyRing, actor: User | None, endpoint: WebhookEndpoint
) -> str:
    """Replace the endpoint's secret (the old one stops working at once); returns the new one."""
    require_manager(actor, endpoint.structure_id)
    secret = new_secret()
    _seal(keys, endpoint, secret)
    session.flush()
    audit.record(
        session, actor, AuditAction.WEBHOOK_NEW_SECRET, endpoint, structure=endpoint.structure_id
    )
    return secret


def set_active(
    session: Session, actor: User | None, endpoint: WebhookEndpoint, active: bool, *, now: datetime
) -> bool:
    """Enable or disable an endpoint (a disabled one is sent nothing); whether it changed."""
    require_manager(actor, endpoint.structure_id)
    if endpoint.active == active:
        return False
    endpoint.active = active
    endpoint.disabled_at = None if active else now
    action = AuditAction.WEBHOOK_ENABLE if active else AuditAction.WEBHOOK_DISABLE
    audit.record(session, actor, action, endpoint, structure=endpoint.structure_id)
    session.flush()
    return True


def delete_endpoint(session: Session, actor: User | None, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its deliveries."""
    require_manager(actor, endpoint.structure_id)
    audit.record(
        session,
        actor,
        AuditAction.WEBHOOK_DELETE,
        endpoint,
        structure=endpoint.structure_id,
        host=_host(endpoint.url),
    )
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def endpoints_of(session: Session, structure_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.structure_id == structure_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def endpoint_of(session: Session, structure_id: int, endpoint_id: str) -> WebhookEndpoint:
    """The structure's endpoint ``endpoint_id`` (hex, as in its address); ``NotFound`` for a
    malformed id or another structure's endpoint."""
    try:
        ident = uuid.UUID(endpoint_id)
    except ValueError:
        raise NotFound(N_("This webhook does not exist.")) from None
    endpoint = session.get(WebhookEndpoint, ident)
    if endpoint is None or endpoint.structure_id != structure_id:
        raise NotFound(N_("This webhook does not exist."))
    return endpoint


# -- key-encryption keys (``keys rotate-kek``, ``keys retire-kek``) ------------------------------


def keys_on(session: Session, kek: str, *, on: bool = True) -> int:
    """How many endpoint secrets' data keys are wrapped by ``kek`` (by another when not ``on``)."""
    wrapped_by = WebhookEndpoint.secret_kek == kek if on else WebhookEndpoint.secret_kek != kek
    found = session.scalar(select(func.count()).select_from(WebhookEndpoint).where(wrapped_by))
    return int(found or 0)


def keys_not_in(session: Session, keks: list[str]) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.secret_kek.not_in(keks))
    )
    return int(found or 0)


def rewrap_keys(session: Session, keys: KeyRing, to_kek: str, *, limit: int) -> int:
    """Re-wrap up to ``limit`` endpoint data keys under ``to_kek``; the secrets do not change."""
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.secret_kek != to_kek)
        .order_by(WebhookEndpoint.id)
        .limit(limit)
    ).all()
    for endpoint in endpoints:
        data_key = keys.unwrap(endpoint.secret_kek, endpoint.secret_key)
        endpoint.secret_kek, endpoint.secret_key = keys.wrap(data_key, to_kek)
    session.flush()
    return len(endpoints)
