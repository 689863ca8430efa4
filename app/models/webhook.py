"""Webhooks: the addresses a structure's software receives hand-off events at, and the
deliveries waiting for them (a transactional outbox, like ``mail_outbox``).

The secret is sealed (AES-GCM) under a data key of the endpoint's own, wrapped by the key
ring's active KEK (like an account's second-factor seed): it is needed in clear to sign, so it
cannot be hashed. A delivery holds the exact body that is signed and sent (ids, pseudonym,
structure codes and codes from the reference lists; never an identity or a note). Deliveries
of a hand-off are deleted with it, and by an erasure (they carry the old pseudonym).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.webhooks import WebhookEvent
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.structure import Structure


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid_pk]
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The subscribed events, comma-separated (``app.domain.webhooks.format_events``).
    events: Mapped[str] = mapped_column(String(200))
    secret_kek: Mapped[str] = mapped_column(String(32))
    secret_key: Mapped[bytes] = mapped_column(LargeBinary)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    disabled_at: Mapped[datetime | None]

    structure: Mapped[Structure] = relationship(lazy="joined")


class WebhookDelivery(Base):
    """One event for one endpoint: pending until ``delivered_at`` or ``given_up_at``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What the worker reads: deliveries still to do, by when they are due.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("delivered_at IS NULL AND given_up_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL AND given_up_at IS NULL"),
        ),
    )

    id: Mapped[uuid_pk]
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    handoff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    # The event's id (``webhook-id``): one event heard by two structures has the same id.
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[WebhookEvent] = mapped_column(enum_column(WebhookEvent))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]
    # The receiver's HTTP status of the last attempt, if it answered.
    last_status: Mapped[int | None] = mapped_column(Integer)
    # A short code ("http-500", "timeout", "address-refused"), never the receiver's reply.
    last_error: Mapped[str | None] = mapped_column(String(100))

    endpoint: Mapped[WebhookEndpoint] = relationship()
