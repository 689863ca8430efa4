"""The partner directory: each structure's card, its services, and the history of its changes.

A card describes a partner for the rest of the network (*interconnaissance*): what it does, for
whom, where, when, how to refer someone, how many places are free. It holds no personal data:
its changes are kept in full (field, old value, new value) and shown on the card. Reference
lists (cohorts, barrier categories, stages, QPVs) are linked through one association table.
Lists of codes from the data·inclusion vocabularies (``app.domain.directory``) are JSON arrays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.capacity import CapacityStatus
from app.domain.directory import ZoneType
from app.models.base import Base, created_at, enum_column, int_pk
from app.models.reference import ReferenceItem, ReferenceKind
from app.models.structure import Structure
from app.models.user import User

structure_card_items = Table(
    "structure_card_items",
    Base.metadata,
    Column(
        "structure_id",
        ForeignKey("structure_cards.structure_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("item_id", ForeignKey("reference_items.id"), primary_key=True),
    # The directory is searched by item (barrier category, QPV...): index that side too.
    Index("ix_structure_card_items_item_id", "item_id"),
)


class StructureCard(Base):
    """The directory card of one structure. Name, type, missions, contact, city and capacity
    stay on ``Structure``; everything else a partner needs to know is here."""

    __tablename__ = "structure_cards"
    __table_args__ = (
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"
        ),
        CheckConstraint(
            "referral_delay_days IS NULL OR referral_delay_days >= 0", name="delay_not_negative"
        ),
    )

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id", ondelete="CASCADE"), primary_key=True
    )
    siret: Mapped[str] = mapped_column(String(14), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    address_extra: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(5), default="")
    insee_code: Mapped[str] = mapped_column(String(5), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(300), default="")  # OpenStreetMap format
    age_min: Mapped[int | None] = mapped_column(SmallInteger)
    age_max: Mapped[int | None] = mapped_column(SmallInteger)
    public_notes: Mapped[str] = mapped_column(Text, default="")
    territory: Mapped[str] = mapped_column(String(200), default="")
    zone_type: Mapped[ZoneType | None] = mapped_column(enum_column(ZoneType, 16))
    zone_code: Mapped[str] = mapped_column(String(9), default="")
    covers_all_qpvs: Mapped[bool] = mapped_column(Boolean, default=False)
    referral_conditions: Mapped[str] = mapped_column(Text, default="")  # one a line
    referral_documents: Mapped[str] = mapped_column(Text, default="")  # one a line
    referral_delay_days: Mapped[int | None] = mapped_column(SmallInteger)
    referral_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    reception_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity_updated_at: Mapped[datetime | None]
    # The capacity status of the whole structure (every service), and when it was confirmed.
    capacity_status: Mapped[CapacityStatus | None] = mapped_column(enum_column(CapacityStatus, 16))
    capacity_confirmed_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]
    # Where an imported card came from (data·inclusion ``source`` and ``id``), if not Relais.
    source: Mapped[str] = mapped_column(String(64), default="")
    source_id: Mapped[str] = mapped_column(String(100), default="")

    structure: Mapped[Structure] = relationship(lazy="joined")
    checked_by: Mapped[User | None] = relationship()
    items: Mapped[list[ReferenceItem]] = relationship(
        secondary=structure_card_items, lazy="selectin", order_by=ReferenceItem.position
    )
    services: Mapped[list[StructureService]] = relationship(
        back_populates="card",
        lazy="selectin",
        order_by="StructureService.position",
        cascade="all, delete-orphan",
    )

    def codes(self, kind: ReferenceKind) -> list[str]:
        return [item.code for item in self.items if item.kind is kind]

    def of_kind(self, kind: ReferenceKind) -> list[ReferenceItem]:
        return [item for item in self.items if item.kind is kind]


class StructureService(Base):
    """A service a structure offers (a data·inclusion *service*): name, summary, types, fees."""

    __tablename__ = "structure_services"

    id: Mapped[int_pk]
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structure_cards.structure_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(280), default="")
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    fees: Mapped[list[str]] = mapped_column(JSON, default=list)
    fees_detail: Mapped[str] = mapped_column(String(200), default="")
    # Whether the service can take someone on (``app.domain.capacity``), confirmed when.
    capacity_status: Mapped[CapacityStatus | None] = mapped_column(enum_column(CapacityStatus, 16))
    capacity_confirmed_at: Mapped[datetime | None]

    card: Mapped[StructureCard] = relationship(back_populates="services")


class StructureCardChange(Base):
    """One change of a card: who, when, and each field's old and new values.

    ``kind`` is ``edit``, ``check`` (confirmed unchanged), ``capacity`` or ``import``.
    ``changes`` maps a field name to ``[old, new]`` (codes for reference lists).
    """

    __tablename__ = "structure_card_changes"

    id: Mapped[int_pk]
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[created_at]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")
